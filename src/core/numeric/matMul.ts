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

/**
 * c = a·b for row-major host matrices a [M×K] and b [K×N], run by the active tfjs backend's MatMul
 * kernel (XNNPACK on wasm); returns c [M×N]. No transpose flags (see above): transpose on the host.
 * Leaves no tensors behind and returns the array outside any tf.tidy (tidy walks every element of a
 * returned typed array, which costs more than the product itself).
 */
export function matMulHost(a: Float32Array, b: Float32Array, M: number, K: number, N: number): Float32Array {
  const ta = tf.tensor2d(a.length === M * K ? a : a.subarray(0, M * K), [M, K]);
  const tb = tf.tensor2d(b.length === K * N ? b : b.subarray(0, K * N), [K, N]);
  const tc = tf.matMul(ta, tb);
  const out = tc.dataSync() as Float32Array;
  tf.dispose([ta, tb, tc]);
  return out;
}

/** aᵀ for a row-major [rows × cols] matrix, into `out` ([cols × rows]) when given. */
export function transposeHost(a: Float32Array, rows: number, cols: number, out = new Float32Array(rows * cols)): Float32Array {
  // Blocks of 16 × 16 keep both the reads and the writes within a few cache lines.
  for (let r0 = 0; r0 < rows; r0 += 16) {
    const r1 = Math.min(r0 + 16, rows);
    for (let c0 = 0; c0 < cols; c0 += 16) {
      const c1 = Math.min(c0 + 16, cols);
      for (let r = r0; r < r1; r++) {
        const o = r * cols;
        for (let c = c0; c < c1; c++) out[c * rows + r] = a[o + c];
      }
    }
  }
  return out;
}
