import * as tf from '@tensorflow/tfjs';

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
