import type { LossConfig } from '../losses/types';

/** ±50% around a constant (±0.5 around 0), for histograms of a value that does not vary. */
function bandAround(value: number): [number, number] {
  const half = Math.abs(value) * 0.5 || 0.5;
  return [value - half, value + half];
}

/**
 * Fixed histogram range of the loss's δ_ji (margin) or τ_ji (softmax), so histograms of different steps
 * share bins. Adaptive (linear form, s ∈ [−1, 1] ⇒ 1 − s ∈ [0, 2]): δ ∈ [δ₀, δ₀ + 2α], τ ∈ [τ₀, τ₀(1 + 2α)].
 * A constant (fixed loss, or α = 0) gets a band of ±50% around it (±0.5 around 0).
 */
export function hyperRange(loss: LossConfig): { kind: 'delta' | 'tau'; range: [number, number] } {
  // Adap-τ (adapTau.ts): τ_j = τ₀·exp(W(z)), W(z) ∈ [−1, 1] for z ∈ [−1/e, e] (an anchor's loss within t₂·e of the mean).
  if (loss.type === 'softmax' && loss.temperatureRule === 'adap-tau') return { kind: 'tau', range: [loss.tau0 / Math.E, loss.tau0 * Math.E] };
  const varies = loss.adaptive && loss.alpha > 0;
  if (loss.type === 'margin') {
    return { kind: 'delta', range: varies ? [loss.delta0, loss.delta0 + 2 * loss.alpha] : bandAround(loss.adaptive ? loss.delta0 : loss.margin) };
  }
  return { kind: 'tau', range: varies ? [loss.tau0, loss.tau0 * (1 + 2 * loss.alpha)] : bandAround(loss.adaptive ? loss.tau0 : loss.temperature) };
}
