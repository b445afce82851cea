import * as tf from '@tensorflow/tfjs';
import { matMul } from './matMul';
import type { DenseParams, ModelDims } from './params';

/** A tower's dense weights as tensors, in the order of DENSE_KEYS. */
export type DenseTensors = Record<keyof DenseParams, tf.Tensor>;
export const DENSE_KEYS: (keyof DenseParams)[] = ['w1', 'b1', 'w2', 'b2'];

/** Uploads dense weights as tensors (caller disposes, or runs inside tf.tidy). */
export function denseTensors(p: DenseParams, d: ModelDims): DenseTensors {
  return {
    w1: tf.tensor2d(p.w1, [d.embed, d.hidden]),
    b1: tf.tensor1d(p.b1),
    w2: tf.tensor2d(p.w2, [d.hidden, d.out]),
    b2: tf.tensor1d(p.b2),
  };
}

/** Row-wise L2 normalisation x / √(‖x‖² + ε). */
export function l2Normalize(x: tf.Tensor2D): tf.Tensor2D {
  return tf.div(x, tf.sqrt(tf.add(tf.sum(tf.square(x), 1, true), 1e-12)));
}

/** tower(bag) = normalize(relu(bag·W1 + b1)·W2 + b2). */
export function towerForward(bag: tf.Tensor2D, w: DenseTensors): tf.Tensor2D {
  const h = tf.relu(tf.add(matMul(bag, w.w1 as tf.Tensor2D), w.b1)) as tf.Tensor2D;
  return l2Normalize(tf.add(matMul(h, w.w2 as tf.Tensor2D), w.b2) as tf.Tensor2D);
}
