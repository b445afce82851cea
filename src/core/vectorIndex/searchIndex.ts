import { checkMatrix, rowsAsArray } from './vectorChecks';
import type { SearchResult, VectorIndex } from './types';

/** Floats handed to faiss per search call (queries in and results out), bounding JS array copies. */
const BATCH_FLOATS = 1 << 18;

/** An all-padding result: labels -1, scores -Infinity. */
export function emptyResult(nq: number, k: number): SearchResult {
  return { nq, k, labels: new Int32Array(nq * k).fill(-1), scores: new Float32Array(nq * k).fill(-Infinity) };
}

/**
 * Top-k inner-product search of nq row-major queries. Results are row-major nq × k, best first.
 * k may exceed the number of indexed vectors (faiss-node refuses that): faiss is asked for
 * min(k, ntotal) and the rest is padded. Slots faiss leaves empty (label -1, e.g. IVF with a small
 * nprobe) and the padding get label -1 and score -Infinity. Queries go to faiss in batches.
 */
export function search(index: VectorIndex, queries: Float32Array, nq: number, k: number, batchRows?: number): SearchResult {
  checkMatrix(queries, nq, index.dim, 'search queries');
  if (!Number.isInteger(k) || k < 0) throw new Error(`search: k must be a non-negative integer, got ${k}`);
  const out = emptyResult(nq, k);
  const native = index.native;
  const kEff = Math.min(k, native.ntotal());
  if (kEff === 0 || nq === 0) return out;

  const rowsPerCall = Math.max(1, Math.floor(batchRows ?? BATCH_FLOATS / Math.max(index.dim, kEff)));
  for (let from = 0; from < nq; from += rowsPerCall) {
    const to = Math.min(nq, from + rowsPerCall);
    const res = native.search(rowsAsArray(queries, index.dim, from, to), kEff);
    for (let q = from; q < to; q++) {
      for (let j = 0; j < kEff; j++) {
        const src = (q - from) * kEff + j;
        const label = res.labels[src];
        if (label < 0) continue; // faiss found fewer than k results for this query
        out.labels[q * k + j] = label;
        out.scores[q * k + j] = res.distances[src];
      }
    }
  }
  return out;
}
