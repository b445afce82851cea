/**
 * In-batch recall@k from the ranks of each pair's positive among {v_j} ∪ N(j) (see
 * PairScan.ranks in pairScan.ts for the rank and tie rule).
 */

/** Share of 1-based `ranks` that are <= k (0 for no ranks). */
export function recallAtK(ranks: Int32Array, k: number): number {
  if (ranks.length === 0) return 0;
  let hits = 0;
  for (let j = 0; j < ranks.length; j++) if (ranks[j] <= k) hits++;
  return hits / ranks.length;
}

/** In-batch recall@1, @5 and @10. */
export function inBatchRecall(ranks: Int32Array): { at1: number; at5: number; at10: number } {
  return { at1: recallAtK(ranks, 1), at5: recallAtK(ranks, 5), at10: recallAtK(ranks, 10) };
}
