import { checkMatrix } from './vectorChecks';
import { emptyResult } from './searchIndex';
import type { SearchResult } from './types';

/**
 * Brute-force top-k maximum-inner-product search in plain TypeScript: the reference that faiss
 * results are checked against. Scores are dot products accumulated in double precision and stored
 * as float32; ties are broken by the lower corpus index. Padding for k > n is label -1, score -Infinity.
 * Cost O(nq · n · dim) time, O(k) extra memory per query (a bounded min-heap).
 */
export function exactSearch(corpus: Float32Array, n: number, queries: Float32Array, nq: number, dim: number, k: number): SearchResult {
  checkMatrix(corpus, n, dim, 'exactSearch corpus');
  checkMatrix(queries, nq, dim, 'exactSearch queries');
  if (!Number.isInteger(k) || k < 0) throw new Error(`exactSearch: k must be a non-negative integer, got ${k}`);
  const out = emptyResult(nq, k);
  const kEff = Math.min(k, n);
  if (kEff === 0) return out;

  const heapScore = new Float64Array(kEff);
  const heapLabel = new Int32Array(kEff);
  for (let q = 0; q < nq; q++) {
    const qOff = q * dim;
    let size = 0;
    for (let i = 0; i < n; i++) {
      const iOff = i * dim;
      let s = 0;
      for (let c = 0; c < dim; c++) s += queries[qOff + c] * corpus[iOff + c];
      if (size < kEff) {
        heapPush(heapScore, heapLabel, size++, s, i);
      } else if (s > heapScore[0]) {
        // strictly better than the current worst; equal scores keep the earlier (lower) index
        heapReplaceRoot(heapScore, heapLabel, size, s, i);
      }
    }
    // Pop worst-first into the tail of the result row so it ends up best-first.
    for (let j = size - 1; j >= 0; j--) {
      out.scores[q * k + j] = heapScore[0];
      out.labels[q * k + j] = heapLabel[0];
      heapReplaceRoot(heapScore, heapLabel, j, heapScore[j], heapLabel[j]);
    }
  }
  return out;
}

/** Heap order: the root is the worst entry (lowest score; among equal scores the highest index). */
function worse(sa: number, la: number, sb: number, lb: number): boolean {
  return sa < sb || (sa === sb && la > lb);
}

function heapPush(score: Float64Array, label: Int32Array, size: number, s: number, l: number): void {
  let i = size;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if (!worse(s, l, score[parent], label[parent])) break;
    score[i] = score[parent];
    label[i] = label[parent];
    i = parent;
  }
  score[i] = s;
  label[i] = l;
}

/** Replaces the root of a heap of `size` entries by (s, l) and sifts it down. */
function heapReplaceRoot(score: Float64Array, label: Int32Array, size: number, s: number, l: number): void {
  let i = 0;
  for (;;) {
    const left = 2 * i + 1;
    if (left >= size) break;
    const right = left + 1;
    let child = left;
    if (right < size && worse(score[right], label[right], score[left], label[left])) child = right;
    if (!worse(score[child], label[child], s, l)) break;
    score[i] = score[child];
    label[i] = label[child];
    i = child;
  }
  if (size > 0) {
    score[i] = s;
    label[i] = l;
  }
}
