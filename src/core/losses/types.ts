/** Which loss family: hinge on score differences (`margin`) or softmax cross-entropy (`softmax`). */
export type LossType = 'margin' | 'softmax';

/**
 * Name of the function that turns a stop-gradient similarity into a per-pair δ or τ.
 * To add a form, extend this union and add an entry to `ADAPTIVE_FORMS` in `adaptiveHyper.ts`.
 */
export type AdaptiveForm = 'linear';

export interface LossConfig {
  type: LossType;
  /** Use per-pair δ_ji / τ_ji computed from the batch similarity instead of the fixed value. */
  adaptive: boolean;
  adaptiveForm: AdaptiveForm;
  /** Fixed margin δ (margin loss, adaptive = false). */
  margin: number;
  /** Fixed temperature τ (softmax loss, adaptive = false). */
  temperature: number;
  /** Strength α of the adaptive term. */
  alpha: number;
  /** Base margin δ₀ of the adaptive margin. */
  delta0: number;
  /** Base temperature τ₀ of the adaptive temperature. */
  tau0: number;
  /** Hold the similarity that drives δ_ji / τ_ji constant in the backward pass (sg[·]). */
  stopGradient: boolean;
  /** Add the symmetric term (v as anchor, q as positive). */
  symmetric: boolean;
  /** Weight w of the symmetric term. */
  symmetricWeight: number;
  /** Hyper-parameters learned as scalars (learnedHyper.ts); absent or empty: all constants. */
  trainable?: LearnedHyperName[];
  /** Adam learning rate of each learned hyper-parameter's raw θ. */
  trainableLearningRate?: Partial<Record<LearnedHyperName, number>>;
  /** Softmax only: the paper's τ (fixed or per pair, `adaptive`) or Adap-τ per anchor (adapTau.ts). */
  temperatureRule?: TemperatureRule;
  /** t₂ of Adap-τ (adapTau.ts). */
  adapTauScale?: number;
}

/** A hyper-parameter that `loss.trainable` can learn. */
export type LearnedHyperName = 'alpha' | 'delta0' | 'tau0';

/** How the softmax loss sets τ: `batch-similarity` (fixed τ or the paper's τ_ji) or `adap-tau` (per anchor). */
export type TemperatureRule = 'batch-similarity' | 'adap-tau';

/** Inputs: scores of both anchors against all candidates, positive scores and the negative mask. */
export interface HostLossInputs {
  /** [2B × N]: rows 0..B−1 sQV = s(q_j, items_i), rows B..2B−1 sVV = s(v_j, items_i). */
  scores: Float32Array;
  /** [B] pos_j = s(q_j, v_j). */
  pos: Float64Array;
  /** [B × N] 0/1: 1 where items[i] is a valid negative of pair j. */
  negMask: Float32Array;
  B: number;
  N: number;
}

/**
 * Per-row scratch of the row losses (marginLoss.ts, softmaxLoss.ts), length N each: the row's δ/τ in,
 * ∂ℓ/∂neg and ∂ℓ/∂(δ or τ) out, and d(δ or τ)/d(reference similarity) for adaptive forms.
 */
export interface RowScratch {
  hyper: Float64Array;
  dNeg: Float64Array;
  dHyper: Float64Array;
  dForm: Float64Array;
}
