import * as tf from '@tensorflow/tfjs';
import { matMul, matMulHost, transposeHost } from '../numeric/matMul';
import type { DenseParams, ModelDims } from './params';

/** A tower's dense weights as tensors, in the order of DENSE_KEYS. */
export type DenseTensors = Record<keyof DenseParams, tf.Tensor>;
export const DENSE_KEYS: (keyof DenseParams)[] = ['w1', 'b1', 'w2', 'b2'];

/** Uploads dense weights as tensors (caller disposes, or runs inside tf.tidy). */
export function denseTensors(p: DenseParams, d: ModelDims): DenseTensors {
  return {
    w1: tf.tensor2d(p.w1, [d.embed, d.hidden]),
    b1: tf.tensor1d(p.b1),
    w2: tf.tensor2d(p.w2, [d.hidden, p.b2.length]),
    b2: tf.tensor1d(p.b2),
  };
}

/** Row-wise L2 normalisation x / √(‖x‖² + ε). */
export function l2Normalize(x: tf.Tensor2D): tf.Tensor2D {
  return tf.div(x, tf.sqrt(tf.add(tf.sum(tf.square(x), 1, true), 1e-12)));
}

/**
 * tower(bag) = normalize(relu(bag·W1 + b1)·W2 + b2). With `heads` K > 1 (a DPSR query tower, towers/dpsr.ts) W2 is
 * [H × K·D] and each D-wide block of a row is normalised on its own: [rows × K·D] = K unit vectors per row.
 */
export function towerForward(bag: tf.Tensor2D, w: DenseTensors, heads = 1): tf.Tensor2D {
  const h = tf.relu(tf.add(matMul(bag, w.w1 as tf.Tensor2D), w.b1)) as tf.Tensor2D;
  const y = tf.add(matMul(h, w.w2 as tf.Tensor2D), w.b2) as tf.Tensor2D;
  if (heads === 1) return l2Normalize(y);
  const [rows, width] = y.shape;
  return tf.reshape(l2Normalize(tf.reshape(y, [rows * heads, width / heads])), [rows, width]);
}

/** Embeddings per row of a tower's dense weights: K for a DPSR query tower (W2 [H × K·D]), else 1. */
export function headsOf(p: DenseParams, d: ModelDims): number {
  return p.b2.length / d.out;
}

/** Activations of one host-side tower pass, kept for its backward pass. */
export interface TowerActivations {
  rows: number;
  /** Input bags [rows × E]. */
  x: Float32Array;
  /** relu(x·W1 + b1) [rows × H]. */
  h: Float32Array;
  /** 1/√(‖y‖² + ε) per row and head, y = h·W2 + b2 ([rows·K]). */
  invNorm: Float64Array;
  /** Output embeddings y/√(‖y‖² + ε) [rows × K·D], each D-block normalised (K = headsOf). */
  e: Float32Array;
}

/** Gradients of one tower's dense weights, in the layout of DenseParams. */
export type DenseGrads = DenseParams;

/**
 * tower(x) = normalize(relu(x·W1 + b1)·W2 + b2), the same function as `towerForward`, on host arrays:
 * the two products run on the tfjs backend (`matMulHost`), bias, relu and normalisation on the host.
 */
export function towerForwardHost(x: Float32Array, rows: number, p: DenseParams, d: ModelDims): TowerActivations {
  const { embed: E, hidden: H, out: D } = d;
  const K = headsOf(p, d);
  const h = matMulHost(x, p.w1, rows, E, H);
  for (let r = 0; r < rows; r++) {
    const o = r * H;
    for (let k = 0; k < H; k++) {
      const a = h[o + k] + p.b1[k];
      h[o + k] = a > 0 ? a : 0;
    }
  }
  const e = matMulHost(h, p.w2, rows, H, K * D);
  const invNorm = new Float64Array(rows * K);
  for (let r = 0; r < rows * K; r++) {
    const o = r * D;
    const ob = (r % K) * D;
    let ss = 0;
    for (let k = 0; k < D; k++) {
      const y = (e[o + k] += p.b2[ob + k]);
      ss += y * y;
    }
    const inv = 1 / Math.sqrt(ss + 1e-12);
    invNorm[r] = inv;
    for (let k = 0; k < D; k++) e[o + k] *= inv;
  }
  return { rows, x, h, invNorm, e };
}

/**
 * Backward of towerForwardHost for ∂L/∂e = `de` [rows × K·D]: the weight gradients and ∂L/∂x [rows × E].
 *   dy = (de − e·⟨e, de⟩)/‖y‖;  dW2 = hᵀ·dy, db2 = Σ_rows dy;  dh = dy·W2ᵀ ∘ 1[h > 0];
 *   dW1 = xᵀ·dh, db1 = Σ_rows dh;  dx = dh·W1ᵀ.
 * `de` is overwritten (it becomes dy).
 */
export function towerBackwardHost(a: TowerActivations, de: Float32Array, p: DenseParams, d: ModelDims): { grads: DenseGrads; dx: Float32Array } {
  const { embed: E, hidden: H, out: D } = d;
  const { rows, e, h, x, invNorm } = a;
  const K = headsOf(p, d);
  const b2 = new Float64Array(K * D);
  for (let r = 0; r < rows * K; r++) {
    const o = r * D;
    const ob = (r % K) * D;
    let dot = 0;
    for (let k = 0; k < D; k++) dot += e[o + k] * de[o + k];
    const inv = invNorm[r];
    for (let k = 0; k < D; k++) {
      const dy = (de[o + k] - e[o + k] * dot) * inv;
      de[o + k] = dy;
      b2[ob + k] += dy;
    }
  }
  const w2 = matMulHost(transposeHost(h, rows, H), de, H, rows, K * D);
  const dh = matMulHost(de, transposeHost(p.w2, H, K * D), rows, K * D, H);
  const b1 = new Float64Array(H);
  for (let r = 0; r < rows; r++) {
    const o = r * H;
    for (let k = 0; k < H; k++) {
      if (h[o + k] > 0) b1[k] += dh[o + k];
      else dh[o + k] = 0;
    }
  }
  const w1 = matMulHost(transposeHost(x, rows, E), dh, E, rows, H);
  const dx = matMulHost(dh, transposeHost(p.w1, E, H), rows, H, E);
  return { grads: { w1, b1: Float32Array.from(b1), w2, b2: Float32Array.from(b2) }, dx };
}
