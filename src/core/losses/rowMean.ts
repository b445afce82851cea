import * as tf from '@tensorflow/tfjs';

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
