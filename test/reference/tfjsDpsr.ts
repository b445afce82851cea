/**
 * The reference of DPSR's attention score (src/core/model/towers/dpsr.ts) in differentiable tfjs ops, so that
 * `tf.grads` gives its gradient by autodiff: q [B, K·D] (K unit heads per row), items [N, D];
 *   c = per-head cosines [B, K, N],  w = softmax over K of c/β,  s = Σ_k w ⊙ c  → [B, N].
 */
import * as tf from '@tensorflow/tfjs';

export function dpsrScoresTf(q: tf.Tensor2D, items: tf.Tensor2D, K: number, beta: number): tf.Tensor2D {
  const [B, width] = q.shape;
  const D = width / K;
  const heads = tf.reshape(q, [B * K, D]) as tf.Tensor2D;
  const c = tf.reshape(tf.matMul(heads, items, false, true), [B, K, -1]); // [B, K, N]
  const cT = tf.transpose(c, [0, 2, 1]); // [B, N, K]: softmax runs over the last axis
  const w = tf.softmax(tf.div(cT, beta));
  return tf.sum(tf.mul(w, cT), 2) as tf.Tensor2D;
}
