import type { SearchResult } from './types';

/**
 * Turns a search result into per-query ranked item ids for the retrieval metrics:
 * query row q → queryIds[q], label l → itemIds[l]; padding labels (-1) are dropped.
 */
export function resultToRankings(result: SearchResult, queryIds: readonly string[], itemIds: readonly string[]): Map<string, string[]> {
  if (queryIds.length !== result.nq) throw new Error(`resultToRankings: ${queryIds.length} query ids for ${result.nq} result rows`);
  const rankings = new Map<string, string[]>();
  for (let q = 0; q < result.nq; q++) {
    const ranked: string[] = [];
    for (let j = 0; j < result.k; j++) {
      const label = result.labels[q * result.k + j];
      if (label < 0) continue;
      if (label >= itemIds.length) throw new Error(`resultToRankings: label ${label} has no item id (${itemIds.length} ids)`);
      ranked.push(itemIds[label]);
    }
    rankings.set(queryIds[q], ranked);
  }
  return rankings;
}
