import * as tf from '@tensorflow/tfjs';
import { HyperValue } from './types';
import { meanOverRowsWithNegatives, negativeCounts } from './rowMean';

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
