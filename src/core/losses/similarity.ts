import * as tf from '@tensorflow/tfjs';

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
