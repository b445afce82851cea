import type { LossConfig } from '../losses/types';

/**
 * Fixed histogram range of the loss's δ_ji (margin) or τ_ji (softmax), so histograms of different steps
 * share bins. Adaptive (linear form, s ∈ [−1, 1] ⇒ 1 − s ∈ [0, 2]): δ ∈ [δ₀, δ₀ + 2α], τ ∈ [τ₀, τ₀(1 + 2α)].
 * Fixed values get a band of ±50% around the constant.
 */
export function hyperRange(loss: LossConfig): { kind: 'delta' | 'tau'; range: [number, number] } {
  if (loss.type === 'margin') {
    return { kind: 'delta', range: loss.adaptive ? [loss.delta0, loss.delta0 + 2 * loss.alpha] : [loss.margin * 0.5, loss.margin * 1.5] };
  }
  return { kind: 'tau', range: loss.adaptive ? [loss.tau0, loss.tau0 * (1 + 2 * loss.alpha)] : [loss.temperature * 0.5, loss.temperature * 1.5] };
}
