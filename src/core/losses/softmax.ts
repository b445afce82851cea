import * as tf from '@tensorflow/tfjs';
import { logOnePlusSumExp } from './logSumExp';
import { HyperValue } from './types';
import { meanOverRowsWithNegatives, negativeCounts } from './rowMean';

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
