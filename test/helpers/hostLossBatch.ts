/**
 * The small batch the host-loss tests check against tfjs autodiff: B = 5 unit queries, N = 8 unit items (the first
 * B the positives), a mask where row 3 has two negatives and row 4 none, and the host inputs (float32 [sQV; sVV]
 * scores, float64 pos) built from them as the trainer does.
 */
import { matMulHost, transposeHost } from '../../src/core/numeric/matMul';

export function hostLossBatch(rng: () => number, rand: (rng: () => number, n: number) => Float32Array) {
  const B = 5;
  const N = 8;
  const D = 6;
  const unitRows = (n: number) => {
    const a = rand(rng, n * D);
    for (let r = 0; r < n; r++) {
      const norm = Math.hypot(...a.subarray(r * D, (r + 1) * D));
      for (let k = 0; k < D; k++) a[r * D + k] /= norm;
    }
    return a;
  };
  const q = unitRows(B);
  const items = unitRows(N);
  const v = items.slice(0, B * D);
  const mask = new Float32Array(B * N);
  for (let j = 0; j < B; j++) for (let i = 0; i < N; i++) mask[j * N + i] = i !== j && (j !== 3 || i < 2) && j !== 4 ? 1 : 0; // row 4: no negatives
  const qv = Float32Array.from([...q, ...v]);
  const scores = matMulHost(qv, transposeHost(items, N, D), 2 * B, D, N);
  const pos = Float64Array.from({ length: B }, (_, j) => q.subarray(j * D, (j + 1) * D).reduce((s, x, k) => s + x * v[j * D + k], 0));
  return { B, N, D, q, items, v, mask, qv, scores, pos };
}
