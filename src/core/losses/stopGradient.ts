import * as tf from '@tensorflow/tfjs';

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
