/**
 * Hybrid retrieval by reciprocal-rank fusion (RRF; Cormack, Clarke & Büttcher, SIGIR 2009) of the dense
 * ranking and BM25's, per query:
 *
 *   rrf(d) = Σ_{r ∈ {dense, BM25}} 1 / (k + rank_r(d)),   k = 60,
 *
 * rank_r(d) the 1-based rank of item d in ranking r (each searched rankCutoff deep; an item a ranking did not
 * return adds nothing). k = 60 is the paper's value: it damps the weight of the very top ranks so that an
 * item both rankings place well beats one only a single ranking places first. The fused ranking is sorted by
 * rrf(d) descending (ties: the better dense rank, then the lower row), cut to `depth`; its scores are the
 * RRF values. Only ranks are fused, so the two scores' scales never meet.
 *
 * The dense ranking is the exact (Flat) search when it ran, else the ANN one (evaluate.ts names which).
 */
import type { SearchResult } from '../vectorIndex/types';

/** The RRF constant k (Cormack et al. 2009). */
export const RRF_K = 60;

/** Fuses two rankings of the same queries (labels = corpus rows, −1 = padding) into one of `depth`. */
export function reciprocalRankFusion(dense: SearchResult, lexical: SearchResult, depth: number, k: number = RRF_K): SearchResult {
  if (dense.nq !== lexical.nq) throw new Error(`reciprocalRankFusion: ${dense.nq} dense query rows, ${lexical.nq} BM25 rows`);
  const nq = dense.nq;
  const labels = new Int32Array(nq * depth).fill(-1);
  const scores = new Float32Array(nq * depth).fill(-Infinity);
  for (let q = 0; q < nq; q++) {
    const fused = new Map<number, { score: number; denseRank: number }>();
    const add = (r: SearchResult, isDense: boolean) => {
      let rank = 0;
      for (let j = 0; j < r.k; j++) {
        const row = r.labels[q * r.k + j];
        if (row < 0) continue;
        rank += 1;
        const e = fused.get(row) ?? { score: 0, denseRank: Infinity };
        e.score += 1 / (k + rank);
        if (isDense) e.denseRank = rank;
        fused.set(row, e);
      }
    };
    add(dense, true);
    add(lexical, false);
    const ranked = [...fused].sort((a, b) => b[1].score - a[1].score || a[1].denseRank - b[1].denseRank || a[0] - b[0]).slice(0, depth);
    ranked.forEach(([row, e], j) => {
      labels[q * depth + j] = row;
      scores[q * depth + j] = e.score;
    });
  }
  return { nq, k: depth, labels, scores };
}

/** The name of the fused search in tables, metrics.json and failure records. */
export function hybridName(dense: string, k: number = RRF_K): string {
  return `hybrid (RRF k=${k}: ${dense} + BM25)`;
}
