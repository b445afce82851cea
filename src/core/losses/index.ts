import * as tf from '@tensorflow/tfjs';
import { anchoredLoss } from './anchoredLoss';
import { pairwiseScores, rowScores } from './similarity';
import { hasSymmetricTerm, symmetricLoss } from './symmetric';
import { LossConfig, LossInputs, LossOutput } from './types';

export * from './types';
export { DEFAULT_LOSS_CONFIG } from './defaults';
export { ADAPTIVE_FORMS, getAdaptiveForm } from './adaptiveForms';
export type { AdaptiveFn, AdaptiveFormFns } from './adaptiveForms';
export { pairHyper } from './adaptive';
export { anchoredLoss } from './anchoredLoss';
export type { AnchoredLoss } from './anchoredLoss';
export { marginLoss } from './fixedMargin';
export { softmaxLoss } from './softmax';
export { stopGradient } from './stopGradient';
export { logOnePlusSumExp } from './logSumExp';
export { hasSymmetricTerm, symmetricLoss } from './symmetric';
export { pairwiseScores, rowScores } from './similarity';
export { meanOverRowsWithNegatives, negativeCounts } from './rowMean';

function checkShapes({ q, v, items, negMask }: LossInputs): void {
  const [b, d] = q.shape;
  const [n] = items.shape;
  const ok =
    v.shape[0] === b && v.shape[1] === d && items.shape[1] === d &&
    n >= b && negMask.shape[0] === b && negMask.shape[1] === n;
  if (!ok) {
    throw new Error(
      `computeLoss: inconsistent shapes q ${JSON.stringify(q.shape)}, v ${JSON.stringify(v.shape)}, ` +
        `items ${JSON.stringify(items.shape)}, negMask ${JSON.stringify(negMask.shape)} ` +
        '(expected q, v [B, D], items [N ≥ B, D], negMask [B, N])',
    );
  }
}

/**
 * The training loss for one batch:
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
export function computeLoss(inputs: LossInputs, cfg: LossConfig): LossOutput {
  checkShapes(inputs);
  const { q, v, items, negMask } = inputs;
  const sQV = pairwiseScores(q, items);
  const sVV = pairwiseScores(v, items);
  const pos = rowScores(q, v);

  const queryTerm = anchoredLoss(pos, sQV, sVV, negMask, cfg);
  const lossQ = queryTerm.loss;
  const lossSym = hasSymmetricTerm(cfg) ? symmetricLoss(pos, sQV, sVV, negMask, cfg) : tf.scalar(0);
  const loss = hasSymmetricTerm(cfg) ? tf.add(lossQ, tf.mul(cfg.symmetricWeight, lossSym)) : tf.clone(lossQ);
  // Fixed losses use a plain number internally; the output always carries the [B, N] matrix.
  const hyper =
    typeof queryTerm.hyper === 'number'
      ? (tf.fill(sQV.shape, queryTerm.hyper) as tf.Tensor2D)
      : (queryTerm.hyper as tf.Tensor2D);

  return { loss: loss as tf.Scalar, lossQ, lossSym, sQV, sVV, hyper };
}
export { lossAndGradHost } from './hostLoss';
export type { HostLossInputs, HostLossOutput } from './hostLoss';
export type { HostAdaptiveFn } from './adaptiveForms';
