/**
 * The reference oracle of the training loss: the same loss written with differentiable tfjs ops, so that
 * `tf.grads` gives its gradient by autodiff. Training does not use it (it runs the host loss of
 * src/core/losses/lossAndGrad.ts, whose hand-written gradients are several times faster); test/unit/model.test.ts
 * checks that loss and its gradients against this one on every loss variant, and test/unit/losses.test.ts checks
 * this one against plain-JS formulas and finite differences.
 */
import * as tf from '@tensorflow/tfjs';
import type { AdaptiveForm, LearnedHyperName, LossConfig } from '../../src/core/losses/types';
import { lambertW } from '../../src/core/losses/adapTau';
import { hasSymmetricTerm } from '../../src/core/losses/symmetricTerm';

/** A hyper-parameter given either as one constant or as a per-pair [B, N] matrix. */
export type HyperValue = number | tf.Tensor;

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
  /**
   * [B, N] the query-anchored scores when they are not ⟨q, items⟩ (a DPSR query tower: tfjsDpsr.ts); pos_j is then
   * its diagonal sQV[j, j] and q is not read.
   */
  sQV?: tf.Tensor2D;
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

// ---------------------------------------------------------------------------------------------
// Adaptive δ/τ as tensors (the tfjs half of src/core/losses/adaptiveHyper.ts)

/** Maps a (stop-gradient) similarity matrix, a base value and α to a per-pair hyper-parameter. */
export type AdaptiveFn = (sim: tf.Tensor, base: number | tf.Scalar, alpha: number | tf.Scalar) => tf.Tensor;

/** Learned α / δ₀ / τ₀ as tfjs scalars (loss.trainable), so `tf.grads` gives ∂L/∂value; absent: the config's constant. */
export type LearnedScalars = Partial<Record<LearnedHyperName, tf.Scalar>>;

/** linear: δ_ji = δ₀ + α·(1 − s),  τ_ji = τ₀·(1 + α·(1 − s)). */
export const TFJS_ADAPTIVE_FORMS: Readonly<Record<AdaptiveForm, { margin: AdaptiveFn; temperature: AdaptiveFn }>> = {
  linear: {
    margin: (sim, base, alpha) => tf.add(base, tf.mul(alpha, tf.sub(1, sim))),
    temperature: (sim, base, alpha) => tf.mul(base, tf.add(1, tf.mul(alpha, tf.sub(1, sim)))),
  },
};

function tfjsAdaptiveForm(name: string): { margin: AdaptiveFn; temperature: AdaptiveFn } {
  if (!Object.prototype.hasOwnProperty.call(TFJS_ADAPTIVE_FORMS, name)) {
    throw new Error(`Unknown adaptive form "${name}"; known: ${Object.keys(TFJS_ADAPTIVE_FORMS).join(', ')}`);
  }
  return TFJS_ADAPTIVE_FORMS[name as AdaptiveForm];
}

// ---------------------------------------------------------------------------------------------
// Stop-gradient

const identityWithZeroGrad = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
  const x = args[0] as tf.Tensor;
  return {
    value: tf.clone(x),
    gradFunc: (dy: tf.Tensor | tf.Tensor[]) => [tf.zerosLike(dy as tf.Tensor)],
  };
});

/**
 * sg[x]: returns a tensor equal to `x` whose gradient is zero, so nothing upstream of `x`
 * receives gradient through this path (tfjs has no built-in stop-gradient op).
 */
export function stopGradient<T extends tf.Tensor>(x: T): T {
  return identityWithZeroGrad(x) as T;
}

// ---------------------------------------------------------------------------------------------
// Scores

/**
 * s(a_j, b_i) = a_jᵀ b_i for all pairs, with explicit transposes in both passes:
 *   forward  S  = a · bᵀ            [B, N]
 *   backward dA = dS · b,   dB = dSᵀ · a
 * tfjs's own matMul gradient uses matMul's transpose flags, which are several times slower
 * on the wasm backend than an explicit `tf.transpose` followed by a plain matMul.
 */
const scoresWithExplicitTransposes = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
  const a = args[0] as tf.Tensor2D;
  const b = args[1] as tf.Tensor2D;
  const save = args[2] as tf.GradSaveFunc;
  save([a, b]);
  return {
    value: tf.matMul(a, tf.transpose(b)),
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
      const dS = dy as tf.Tensor2D;
      const [sa, sb] = saved as tf.Tensor2D[];
      return [tf.matMul(dS, sb), tf.matMul(tf.transpose(dS), sa)];
    },
  };
});

/** Pairwise scores s(a_j, b_i) = a_jᵀ b_i as a [B, N] matrix for a [B, D] and b [N, D] (one matMul). */
export function pairwiseScores(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  return scoresWithExplicitTransposes(a, b) as tf.Tensor2D;
}

/** Row-wise scores s(a_j, b_j) = a_jᵀ b_j as a [B] vector (no gather, no B×B product). */
export function rowScores(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor1D {
  return tf.sum(tf.mul(a, b), 1);
}

// ---------------------------------------------------------------------------------------------
// Stable log(1 + Σ exp)

/**
 * m_j = max(0, max_i z_ji) as [B, 1], treated as a constant in the backward pass. The max is
 * computed inside a custom op so that tfjs never runs Max's own gradient (a broadcast Equal
 * over [B, N] that is slow on the wasm backend); log-sum-exp does not depend on the shift m,
 * so dropping its gradient leaves the result's gradient exact.
 */
const rowShift = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
  const z = args[0] as tf.Tensor2D;
  return {
    value: tf.maximum(tf.max(z, 1, true), 0),
    gradFunc: () => [tf.zerosLike(z)],
  };
});

/**
 * Row-wise log(1 + Σ_i exp(z_ji)) for z [B, N], i.e. the log-sum-exp over [0, z_j1, …, z_jN],
 * computed stably with the row max subtracted:
 *   m_j + log(exp(−m_j) + Σ_i exp(z_ji − m_j)),   m_j = max(0, max_i z_ji).
 * Entries far below the max (e.g. −1e9 for masked-out pairs) contribute exactly 0.
 * Returns [B].
 */
export function logOnePlusSumExp(z: tf.Tensor2D): tf.Tensor1D {
  const m = rowShift(z) as tf.Tensor2D;
  const sumExp = tf.add(tf.exp(tf.neg(m)), tf.sum(tf.exp(tf.sub(z, m)), 1, true));
  return tf.reshape(tf.add(m, tf.log(sumExp)), [z.shape[0]]);
}

// ---------------------------------------------------------------------------------------------
// Mean over rows with negatives

/** Number of valid negatives per row: count_j = Σ_i negMask[j, i], shape [B]. */
export function negativeCounts(mask: tf.Tensor2D): tf.Tensor1D {
  return tf.sum(mask, 1);
}

/**
 * mean_j perRow[j] over the rows j that have at least one valid negative (count_j ≥ 1).
 * Rows without negatives are excluded from both numerator and denominator; with no such
 * row at all the result is 0.
 */
export function meanOverRowsWithNegatives(perRow: tf.Tensor1D, counts: tf.Tensor1D): tf.Scalar {
  const hasNegatives = tf.minimum(counts, 1);
  const rows = tf.maximum(tf.sum(hasNegatives), 1);
  return tf.div(tf.sum(tf.mul(perRow, hasNegatives)), rows);
}

// ---------------------------------------------------------------------------------------------
// Per-pair δ / τ

/**
 * The δ (margin loss) or τ (softmax loss) used for each (anchor j, candidate i) pair.
 * - fixed (`cfg.adaptive = false`): the constant `cfg.margin` / `cfg.temperature`, returned as a number;
 * - adaptive: the form `cfg.adaptiveForm` applied to sg[refSim] (or refSim itself when
 *   `cfg.stopGradient` is false), e.g. linear: δ_ji = δ₀ + α(1 − s_ji), τ_ji = τ₀(1 + α(1 − s_ji)).
 * @param refSim [B, N] similarity that drives the adaptation (s(v_j, v_i) for the query-anchored
 *   term, s(q_j, v_i) for the symmetric term)
 */
export function pairHyper(refSim: tf.Tensor2D, cfg: LossConfig, learned: LearnedScalars = {}): HyperValue {
  if (!cfg.adaptive) {
    return cfg.type === 'margin' ? cfg.margin : cfg.temperature;
  }
  const form = tfjsAdaptiveForm(cfg.adaptiveForm);
  const sim = cfg.stopGradient ? stopGradient(refSim) : refSim;
  const alpha = learned.alpha ?? cfg.alpha;
  return cfg.type === 'margin' ? form.margin(sim, learned.delta0 ?? cfg.delta0, alpha) : form.temperature(sim, learned.tau0 ?? cfg.tau0, alpha);
}

/**
 * Adap-τ per anchor row (src/core/losses/adapTau.ts): τ_j = τ₀·exp(W(z_j)), z_j = clamp((x_j − mean x)/t₂, −1/e,
 * 1000), x_j = log Σ_{i∈N(j)} exp(neg_ji) − pos_j, held constant; only τ₀ carries a gradient. Returns [B, 1].
 */
export function adapTauHyper(pos: tf.Tensor1D, neg: tf.Tensor2D, mask: tf.Tensor2D, cfg: LossConfig, learned: LearnedScalars = {}): tf.Tensor2D {
  const n = neg.arraySync();
  const m = mask.arraySync();
  const p = pos.arraySync();
  const x = n.map((row, j) => {
    const vals = row.filter((_, i) => m[j][i] !== 0);
    return vals.length === 0 ? null : Math.log(vals.reduce((s, v) => s + Math.exp(v), 0)) - p[j];
  });
  const used = x.filter((v): v is number => v !== null);
  const mean = used.length ? used.reduce((s, v) => s + v, 0) / used.length : 0;
  const factor = x.map((v) => (v === null ? 1 : Math.exp(lambertW(Math.min(1000, Math.max(-1 / Math.E, (v - mean) / (cfg.adapTauScale ?? 1)))))));
  return tf.mul(learned.tau0 ?? cfg.tau0, tf.tensor2d(factor, [factor.length, 1]));
}

// ---------------------------------------------------------------------------------------------
// Margin loss

/**
 * Margin (hinge) loss for one anchor side:
 *   ℓ(j) = (1/|N(j)|) Σ_{i∈N(j)} max(0, δ_ji − pos_j + neg_ji),   L = mean_j ℓ(j)
 * where N(j) = { i : mask[j, i] = 1 } and the mean runs over rows with |N(j)| ≥ 1 (0 if none).
 * `delta` is a constant δ or a [B, N] matrix δ_ji; gradient flows into it if it carries one.
 * @param pos [B] positive scores s(anchor_j, positive_j)
 * @param neg [B, N] candidate scores s(anchor_j, items_i)
 * @param mask [B, N] 0/1 valid-negative mask
 */
export function marginLoss(pos: tf.Tensor1D, neg: tf.Tensor2D, mask: tf.Tensor2D, delta: HyperValue): tf.Scalar {
  const violation = tf.add(tf.sub(neg, tf.expandDims(pos, 1)), delta);
  const hinge = tf.mul(tf.relu(violation), mask);
  const counts = negativeCounts(mask);
  const perRow = tf.div(tf.sum(hinge, 1), tf.maximum(counts, 1)) as tf.Tensor1D;
  return meanOverRowsWithNegatives(perRow, counts);
}

// ---------------------------------------------------------------------------------------------
// Softmax loss

/** Logit given to masked-out candidates: exp of it underflows to exactly 0 next to the 0 logit. */
const MASKED_LOGIT = -1e9;

/**
 * Softmax (InfoNCE) loss for one anchor side:
 *   ℓ(j) = log(1 + Σ_{i∈N(j)} exp((neg_ji − pos_j) / τ_ji)),   L = mean_j ℓ(j)
 * i.e. the cross-entropy of the positive among {positive_j} ∪ N(j). Computed as a log-sum-exp
 * with the row max subtracted (see `logOnePlusSumExp`), so it stays finite for small τ.
 * The mean runs over rows with |N(j)| ≥ 1 (0 if none).
 * `tau` is a constant τ or a [B, N] matrix τ_ji; gradient flows into it if it carries one.
 * @param pos [B] positive scores s(anchor_j, positive_j)
 * @param neg [B, N] candidate scores s(anchor_j, items_i)
 * @param mask [B, N] 0/1 valid-negative mask
 */
export function softmaxLoss(pos: tf.Tensor1D, neg: tf.Tensor2D, mask: tf.Tensor2D, tau: HyperValue): tf.Scalar {
  const z = tf.div(tf.sub(neg, tf.expandDims(pos, 1)), tau);
  // Valid entries keep z exactly (z·1 + 0); masked ones become MASKED_LOGIT and get zero gradient.
  const maskedZ = tf.add(tf.mul(z, mask), tf.mul(tf.sub(1, mask), MASKED_LOGIT)) as tf.Tensor2D;
  const perRow = logOnePlusSumExp(maskedZ);
  return meanOverRowsWithNegatives(perRow, negativeCounts(mask));
}

// ---------------------------------------------------------------------------------------------
// One anchor side

/** Result of the loss for one anchor side, with the δ/τ it used. */
export interface AnchoredLoss {
  loss: tf.Scalar;
  hyper: HyperValue;
}

/**
 * The configured loss (margin or softmax, fixed or adaptive) for one anchor side:
 * mean_j ℓ(j) with positive scores `pos` [B], candidate scores `neg` [B, N] and the per-pair
 * δ_ji / τ_ji derived from `refSim` [B, N] (see `pairHyper`).
 */
export function anchoredLoss(
  pos: tf.Tensor1D,
  neg: tf.Tensor2D,
  refSim: tf.Tensor2D,
  mask: tf.Tensor2D,
  cfg: LossConfig,
  learned: LearnedScalars = {},
): AnchoredLoss {
  const hyper =
    cfg.type === 'softmax' && cfg.temperatureRule === 'adap-tau'
      ? tf.mul(adapTauHyper(pos, neg, mask, cfg, learned), tf.onesLike(neg))
      : pairHyper(refSim, cfg, learned);
  const loss = cfg.type === 'margin' ? marginLoss(pos, neg, mask, hyper) : softmaxLoss(pos, neg, mask, hyper);
  return { loss, hyper };
}

// ---------------------------------------------------------------------------------------------
// Symmetric term

/**
 * Symmetric term mean_j ℓ_sym(j) (unweighted): the same loss with v_j as anchor and q_j as
 * positive, over the same negatives N(j):
 *   positive score s(v_j, q_j) = `pos`, negative scores s(v_j, v_i) = `sVV`,
 *   adaptive δ_ji / τ_ji from sg[s(q_j, v_i)] = `sQV`.
 */
export function symmetricLoss(
  pos: tf.Tensor1D,
  sQV: tf.Tensor2D,
  sVV: tf.Tensor2D,
  mask: tf.Tensor2D,
  cfg: LossConfig,
  learned: LearnedScalars = {},
): tf.Scalar {
  return anchoredLoss(pos, sVV, sQV, mask, cfg, learned).loss;
}

// ---------------------------------------------------------------------------------------------
// The whole loss

function checkShapes({ q, v, items, negMask, sQV }: LossInputs): void {
  const [b, d] = sQV ? [v.shape[0], v.shape[1]] : q.shape;
  const [n] = items.shape;
  const ok = v.shape[0] === b && v.shape[1] === d && items.shape[1] === d && n >= b && negMask.shape[0] === b && negMask.shape[1] === n;
  if (!ok) {
    throw new Error(
      `referenceLoss: inconsistent shapes q ${JSON.stringify(q.shape)}, v ${JSON.stringify(v.shape)}, ` +
        `items ${JSON.stringify(items.shape)}, negMask ${JSON.stringify(negMask.shape)} ` +
        '(expected q, v [B, D], items [N ≥ B, D], negMask [B, N])',
    );
  }
}

/**
 * The loss of one batch (the reference of lossAndGradHost, src/core/losses/lossAndGrad.ts):
 *   L = mean_j ℓ(j) + w · mean_j ℓ_sym(j)
 * with ℓ the margin or softmax loss (fixed or adaptive δ_ji / τ_ji, see `pairHyper`),
 * ℓ(j) anchored on q_j (positive v_j, δ/τ from s(v_j, v_i)) and ℓ_sym(j) anchored on v_j
 * (positive q_j, negative scores s(v_j, v_i), δ/τ from s(q_j, v_i)). Means run over rows with
 * at least one valid negative (0 if none). The symmetric term is skipped (lossSym = 0) when
 * `cfg.symmetric` is false or w = 0.
 *
 * Uses differentiable ops only (no data reads), so it can run inside `tf.valueAndGrads`;
 * gradients flow into q, v and items. The caller owns (and disposes / tidies) all outputs.
 */
export function referenceLoss(inputs: LossInputs, cfg: LossConfig, learned: LearnedScalars = {}): LossOutput {
  checkShapes(inputs);
  const { q, v, items, negMask } = inputs;
  const sQV = inputs.sQV ?? pairwiseScores(q, items);
  const sVV = pairwiseScores(v, items);
  const pos = inputs.sQV ? (tf.sum(tf.mul(inputs.sQV, tf.eye(v.shape[0], items.shape[0])), 1) as tf.Tensor1D) : rowScores(q, v);

  const queryTerm = anchoredLoss(pos, sQV, sVV, negMask, cfg, learned);
  const lossQ = queryTerm.loss;
  const lossSym = hasSymmetricTerm(cfg) ? symmetricLoss(pos, sQV, sVV, negMask, cfg, learned) : tf.scalar(0);
  const loss = hasSymmetricTerm(cfg) ? tf.add(lossQ, tf.mul(cfg.symmetricWeight, lossSym)) : tf.clone(lossQ);
  // Fixed losses use a plain number internally; the output always carries the [B, N] matrix.
  const hyper = typeof queryTerm.hyper === 'number' ? (tf.fill(sQV.shape, queryTerm.hyper) as tf.Tensor2D) : (queryTerm.hyper as tf.Tensor2D);

  return { loss: loss as tf.Scalar, lossQ, lossSym, sQV, sVV, hyper };
}
