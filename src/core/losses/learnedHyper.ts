/**
 * Learned α, δ₀, τ₀ (`loss.trainable`): each a scalar trained by its own Adam on a raw parameter θ,
 *   value = floor + softplus(θ),   softplus(θ) = log(1 + eᶿ),   d value/dθ = sigmoid(θ),
 * with floor 0 for α and δ₀ and TAU0_FLOOR = 0.01 for τ₀. Why softplus with a floor: the value stays inside
 * its valid range for every θ (α ≥ 0, δ₀ ≥ 0, τ₀ > 0) without clipping, whose zero gradient would freeze a
 * value once it hit the edge; the gradient shrinks smoothly (sigmoid(θ) → 0) as the value nears its floor.
 * The floor of τ₀ caps the logit scale 1/τ at 100 (as CLIP caps its learned logit scale): minimising the
 * softmax loss of a batch whose positives already rank first drives τ → 0 (the loss → 0 as the softmax
 * turns hard), which a floor of 0 would let run until exp(Δ/τ) overflows. δ₀ and α need no floor above 0:
 * the margin loss only grows with δ (∂ℓ/∂δ_ji ≥ 0), so a learned margin slides to 0 — which the bound
 * watch (boundWatch.ts) reports rather than hides. Gradients: ∂L/∂θ = ∂L/∂value · sigmoid(θ), ∂L/∂value from
 * lossAndGrad.ts (`dLearned`).
 */
import { Adam, AdamSlot } from '../model/adam';
import type { LearnedHyperName, LossConfig } from './types';

/** Lowest value of each learned hyper-parameter (the value never reaches it: softplus > 0). */
export const LEARNED_FLOORS: Readonly<Record<LearnedHyperName, number>> = { alpha: 0, delta0: 0, tau0: 0.01 };

/** Default Adam learning rate of a θ (schemas/experiment.schema.json, loss.trainableLearningRate). */
export const DEFAULT_LEARNED_LR = 0.01;

/** The symbol of each name in messages and charts. */
export const LEARNED_SYMBOLS: Readonly<Record<LearnedHyperName, string>> = { alpha: 'α', delta0: 'δ₀', tau0: 'τ₀' };

/** "α 0.50 → 0.31 · τ₀ 0.033 → 0.021": each learned value in `to`, from its value in `from` (2 significant digits). */
export function formatLearned(from: Partial<Record<LearnedHyperName, number>>, to: Partial<Record<LearnedHyperName, number>>): string {
  return (['alpha', 'delta0', 'tau0'] as const)
    .flatMap((n) => {
      const a = from[n];
      const b = to[n];
      return typeof a === 'number' && typeof b === 'number' ? [`${LEARNED_SYMBOLS[n]} ${a.toPrecision(2)} → ${b.toPrecision(2)}`] : [];
    })
    .join(' · ');
}

export function softplus(x: number): number {
  return x > 30 ? x : Math.log1p(Math.exp(x));
}

/** θ with softplus(θ) = y (y > 0). */
export function softplusInverse(y: number): number {
  return y > 30 ? y : Math.log(Math.expm1(y));
}

function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/**
 * Which of α, δ₀, τ₀ a loss config can learn, and why not: α only with the paper's adaptive δ/τ, δ₀ only with
 * the adaptive margin loss, τ₀ only with the adaptive or Adap-τ softmax loss. Null when `name` is valid.
 */
export function learnedHyperProblem(cfg: LossConfig, name: LearnedHyperName): string | null {
  const adapTau = cfg.type === 'softmax' && cfg.temperatureRule === 'adap-tau';
  if (name === 'alpha') {
    if (adapTau) return 'α is not used by Adap-τ (loss.temperatureRule "adap-tau"): remove "alpha"';
    if (!cfg.adaptive) return 'α is used only by the adaptive loss (loss.adaptive is false): remove "alpha" or set loss.adaptive to true';
    return null;
  }
  if (name === 'delta0') {
    if (cfg.type !== 'margin') return 'δ₀ belongs to the margin loss (loss.type is "softmax"): learn "tau0" instead';
    if (!cfg.adaptive) return 'δ₀ is used only by the adaptive margin loss (loss.adaptive is false; the fixed loss uses loss.margin)';
    if (!(cfg.delta0 > 0)) return 'a learned δ₀ starts from loss.delta0, which must be > 0 (softplus never reaches 0)';
    return null;
  }
  if (cfg.type !== 'softmax') return 'τ₀ belongs to the softmax loss (loss.type is "margin"): learn "delta0" instead';
  if (!cfg.adaptive && !adapTau) return 'τ₀ is used only by the adaptive softmax loss (loss.adaptive is false; the fixed loss uses loss.temperature)';
  if (!(cfg.tau0 > LEARNED_FLOORS.tau0)) return `a learned τ₀ starts from loss.tau0, which must be > its floor ${LEARNED_FLOORS.tau0}`;
  return null;
}

/** One learned scalar: θ, its Adam and the value it started from. */
interface LearnedScalar {
  name: LearnedHyperName;
  theta: Float32Array;
  adam: Adam;
  slot: AdamSlot;
  initial: number;
}

/** The learned hyper-parameters of a run: current values, and one Adam step from ∂L/∂value. */
export class LearnedHyper {
  private readonly scalars: LearnedScalar[];

  constructor(private readonly base: LossConfig) {
    this.scalars = (base.trainable ?? []).map((name) => {
      const problem = learnedHyperProblem(base, name);
      if (problem) throw new Error(`loss.trainable "${name}": ${problem}`);
      const initial = base[name];
      return {
        name,
        theta: Float32Array.of(softplusInverse(initial - LEARNED_FLOORS[name])),
        adam: new Adam({ learningRate: base.trainableLearningRate?.[name] ?? DEFAULT_LEARNED_LR }),
        slot: new AdamSlot(1),
        initial,
      };
    });
  }

  /** Whether anything is learned. */
  get active(): boolean {
    return this.scalars.length > 0;
  }

  /** The current value of each learned hyper-parameter. */
  values(): Partial<Record<LearnedHyperName, number>> {
    const out: Partial<Record<LearnedHyperName, number>> = {};
    for (const s of this.scalars) out[s.name] = LEARNED_FLOORS[s.name] + softplus(s.theta[0]);
    return out;
  }

  /** The value each learned hyper-parameter started from (the config's). */
  initialValues(): Partial<Record<LearnedHyperName, number>> {
    return Object.fromEntries(this.scalars.map((s) => [s.name, s.initial]));
  }

  /** The loss config with the current learned values in place of the constants. */
  config(): LossConfig {
    return this.active ? { ...this.base, ...this.values() } : this.base;
  }

  /** One Adam step of every θ from ∂L/∂value (chained through sigmoid(θ)); skipped for a non-finite gradient. */
  step(dValue: Readonly<Record<LearnedHyperName, number>>): void {
    for (const s of this.scalars) {
      const g = dValue[s.name] * sigmoid(s.theta[0]);
      if (!Number.isFinite(g)) continue;
      s.adam.beginStep();
      s.adam.updateDense(s.theta, Float32Array.of(g), s.slot);
    }
  }
}
