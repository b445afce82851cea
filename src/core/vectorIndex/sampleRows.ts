import seedrandom from 'seedrandom';

/**
 * Seeded sample of `count` distinct row indices from [0, n), returned in ascending order.
 * Partial Fisher–Yates shuffle driven by seedrandom, so the same (n, count, seed) gives the same rows.
 * When count >= n every row is returned.
 */
export function sampleRowIndices(n: number, count: number, seed: string | number): Int32Array {
  if (count >= n) return Int32Array.from({ length: n }, (_, i) => i);
  const rng = seedrandom(String(seed));
  const perm = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < count; i++) {
    const j = i + Math.floor(rng() * (n - i));
    const t = perm[i];
    perm[i] = perm[j];
    perm[j] = t;
  }
  return perm.slice(0, count).sort();
}

/** Copies the given rows (each `dim` floats) of a row-major matrix into a new contiguous array. */
export function gatherRows(vectors: Float32Array, dim: number, rows: Int32Array): Float32Array {
  const out = new Float32Array(rows.length * dim);
  for (let r = 0; r < rows.length; r++) {
    out.set(vectors.subarray(rows[r] * dim, (rows[r] + 1) * dim), r * dim);
  }
  return out;
}
