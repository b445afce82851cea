import * as tf from '@tensorflow/tfjs';

/** Which loss family: hinge on score differences (`margin`) or softmax cross-entropy (`softmax`). */
export type LossType = 'margin' | 'softmax';

/**
 * Name of the function that turns a stop-gradient similarity into a per-pair δ or τ.
 * To add a form, extend this union and add an entry to `ADAPTIVE_FORMS` in `adaptiveForms.ts`.
 */
export type AdaptiveForm = 'linear';

/** A hyper-parameter given either as one constant or as a per-pair [B, N] matrix. */
export type HyperValue = number | tf.Tensor;

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
}

/**
 * Inputs of one loss evaluation. All embeddings are expected L2-normalised.
 * - `q` [B, D]: query embeddings; `v` [B, D]: their positive items.
 * - `items` [N, D]: candidates; rows 0..B-1 are v_0..v_{B-1}, rows B..N-1 explicit negatives.
 * - `negMask` [B, N], 0/1 floats: 1 where items[i] is a valid negative of pair j.
 */
export interface LossInputs {
  q: tf.Tensor2D;
  v: tf.Tensor2D;
  items: tf.Tensor2D;
  negMask: tf.Tensor2D;
}

export interface LossOutput {
  /** Total L = lossQ + w · lossSym. */
  loss: tf.Scalar;
  /** mean_j ℓ(j) over rows with at least one valid negative. */
  lossQ: tf.Scalar;
  /** mean_j ℓ_sym(j) (unweighted); 0 when there is no symmetric term. */
  lossSym: tf.Scalar;
  /** [B, N] s(q_j, items_i); the diagonal i = j is the positive score. */
  sQV: tf.Tensor2D;
  /** [B, N] s(v_j, items_i). */
  sVV: tf.Tensor2D;
  /** [B, N] δ_ji (margin) or τ_ji (softmax) of the query-anchored term; meaningful where negMask = 1. */
  hyper: tf.Tensor2D;
}
