/**
 * In-batch recall@k from the ranks of each pair's positive among {v_j} ∪ N(j) (see
 * PairScan.ranks in pairScan.ts for the rank and tie rule). Rows without any valid negative
 * (rank 0) are left out — ranking a positive against nothing would count as a free hit — and
 * counted in `excludedRows`.
 */

/** Share of the ranked rows (rank >= 1) whose 1-based rank is <= k (0 when no row is ranked). */
export function recallAtK(ranks: Int32Array, k: number): number {
  let ranked = 0;
  let hits = 0;
  for (let j = 0; j < ranks.length; j++) {
    if (ranks[j] < 1) continue;
    ranked++;
    if (ranks[j] <= k) hits++;
  }
  return ranked === 0 ? 0 : hits / ranked;
}

/** In-batch recall@1, @5 and @10, and the rows left out for having no valid negative. */
export function inBatchRecall(ranks: Int32Array): { at1: number; at5: number; at10: number; excludedRows: number } {
  let excluded = 0;
  for (let j = 0; j < ranks.length; j++) if (ranks[j] < 1) excluded++;
  return { at1: recallAtK(ranks, 1), at5: recallAtK(ranks, 5), at10: recallAtK(ranks, 10), excludedRows: excluded };
}
