import * as tf from '@tensorflow/tfjs';

/**
 * a·b with a gradient that uses explicit transposes: da = dy·transpose(b), db = transpose(a)·dy.
 * tfjs' own MatMul gradient calls matMul with transpose flags, which the wasm backend runs 8–20× slower
 * than an explicit tf.transpose followed by a plain matMul.
 */
const matMulWithFastGrad = (a: tf.Tensor2D, b: tf.Tensor2D, save: tf.GradSaveFunc) => {
  save([a, b]);
  return {
    value: tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sa, sb] = saved as tf.Tensor2D[];
      return [tf.matMul(dy as tf.Tensor2D, tf.transpose(sb)), tf.matMul(tf.transpose(sa), dy as tf.Tensor2D)];
    },
  };
};

export const matMul = tf.customGrad(matMulWithFastGrad as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (
  a: tf.Tensor2D,
  b: tf.Tensor2D,
) => tf.Tensor2D;
