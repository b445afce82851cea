/**
 * Ranking metrics for retrieval evaluation against binary relevance judgements (qrels).
 *
 * Conventions (per query q with relevant set R_q and ranked list L_q, duplicates removed keeping
 * the first occurrence, so an item never counts twice):
 *   recall@k  = |R_q ∩ top-k(L_q)| / |R_q|
 *   RR@10     = 1 / rank of the first relevant item within the top 10, 0 if none
 *   nDCG@10   = DCG@10 / IDCG@10, DCG@10 = Σ_{i=1..10} rel_i / log2(i + 1) (rel_i ∈ {0, 1}),
 *               IDCG@10 = Σ_{i=1..min(|R_q|, 10)} 1 / log2(i + 1)
 * Averages are over the ranked queries with |R_q| ≥ 1; ranked queries without any relevant item
 * are counted in `queriesWithoutRelevant` and left out of the averages.
 */
import type { MetricValues } from './types';

/** Relevance judgements: query id → ids of its relevant items. */
export type Qrels = Map<string, Set<string>>;
/** Retrieval output: query id → item ids, best first. */
export type Rankings = Map<string, readonly string[]>;

/** The cut-offs reported for recall. */
export const RECALL_KS = [1, 5, 10, 50, 100] as const;
export type RecallK = (typeof RECALL_KS)[number];
/** recall@k for each k in RECALL_KS. */
export type RecallAtK = Record<RecallK, number>;

export interface RetrievalMetrics {
  recall: RecallAtK;
  mrr10: number;
  ndcg10: number;
  /** Ranked queries with ≥ 1 relevant item: the denominator of every average. */
  queriesEvaluated: number;
  /** Ranked queries whose qrels entry is missing or empty (not in the averages). */
  queriesWithoutRelevant: number;
  /** Queries with relevant items in qrels but no ranking (not in the averages). */
  queriesNotRanked: number;
}

/** First occurrence of each id, in order: a repeated item must not earn gain twice. */
export function dedupeRanking(ranked: readonly string[]): string[] {
  return [...new Set(ranked)];
}

/** Number of relevant items among the first k of a (deduplicated) ranking. */
function hitsAtK(ranked: readonly string[], relevant: ReadonlySet<string>, k: number): number {
  let hits = 0;
  const end = Math.min(k, ranked.length);
  for (let i = 0; i < end; i++) if (relevant.has(ranked[i])) hits++;
  return hits;
}

/** recall@k = |relevant ∩ top-k| / |relevant| (0 when there is no relevant item). */
export function recallAtK(ranked: readonly string[], relevant: ReadonlySet<string>, k: number): number {
  if (relevant.size === 0) return 0;
  return hitsAtK(dedupeRanking(ranked), relevant, k) / relevant.size;
}

/** Reciprocal rank within the top k: 1 / (1-based rank of the first relevant item), 0 if none. */
export function reciprocalRankAtK(ranked: readonly string[], relevant: ReadonlySet<string>, k: number): number {
  const list = dedupeRanking(ranked);
  const end = Math.min(k, list.length);
  for (let i = 0; i < end; i++) if (relevant.has(list[i])) return 1 / (i + 1);
  return 0;
}

/** Σ_{i=1..count} 1 / log2(i + 1): DCG of `count` relevant items at the top ranks (binary gains). */
export function idealDcg(count: number): number {
  let dcg = 0;
  for (let i = 1; i <= count; i++) dcg += 1 / Math.log2(i + 1);
  return dcg;
}

/**
 * nDCG@k with binary gains and log2 discount: DCG@k = Σ_{i=1..k} rel_i / log2(i + 1), divided by
 * the ideal DCG of min(|relevant|, k) relevant items at the top. 0 when there is no relevant item.
 */
export function ndcgAtK(ranked: readonly string[], relevant: ReadonlySet<string>, k: number): number {
  if (relevant.size === 0) return 0;
  const list = dedupeRanking(ranked);
  let dcg = 0;
  const end = Math.min(k, list.length);
  for (let i = 0; i < end; i++) if (relevant.has(list[i])) dcg += 1 / Math.log2(i + 2); // rank i+1 → log2(rank+1)
  return dcg / idealDcg(Math.min(relevant.size, k));
}

function zeroRecall(): RecallAtK {
  return { 1: 0, 5: 0, 10: 0, 50: 0, 100: 0 };
}

/**
 * Averages recall@{1,5,10,50,100}, MRR@10 and nDCG@10 over the ranked queries that have at least
 * one relevant item. All averages are 0 when no query qualifies (see queriesEvaluated).
 */
export function evaluateRetrieval(qrels: Qrels, rankings: Rankings): RetrievalMetrics {
  const recall = zeroRecall();
  let mrr = 0;
  let ndcg = 0;
  let evaluated = 0;
  let withoutRelevant = 0;
  for (const [queryId, ranked] of rankings) {
    const relevant = qrels.get(queryId);
    if (!relevant || relevant.size === 0) {
      withoutRelevant++;
      continue;
    }
    evaluated++;
    const list = dedupeRanking(ranked);
    for (const k of RECALL_KS) recall[k] += hitsAtK(list, relevant, k) / relevant.size;
    mrr += reciprocalRankAtK(list, relevant, 10);
    ndcg += ndcgAtK(list, relevant, 10);
  }
  let notRanked = 0;
  for (const [queryId, relevant] of qrels) if (relevant.size > 0 && !rankings.has(queryId)) notRanked++;

  if (evaluated > 0) {
    for (const k of RECALL_KS) recall[k] /= evaluated;
    mrr /= evaluated;
    ndcg /= evaluated;
  }
  return {
    recall,
    mrr10: mrr,
    ndcg10: ndcg,
    queriesEvaluated: evaluated,
    queriesWithoutRelevant: withoutRelevant,
    queriesNotRanked: notRanked,
  };
}

/** Recall lost by approximate search at one cut-off. */
export interface AnnGapAtK {
  k: RecallK;
  approx: number;
  exact: number;
  /** exact − approx (positive = the ANN index loses recall). */
  gap: number;
  /** approx / exact, or null when exact is 0. */
  ratio: number | null;
}

/** Compares approximate-index recall with exact-search recall at every k in RECALL_KS. */
export function annGap(approxRecall: RecallAtK, exactRecall: RecallAtK): AnnGapAtK[] {
  return RECALL_KS.map((k) => ({
    k,
    approx: approxRecall[k],
    exact: exactRecall[k],
    gap: exactRecall[k] - approxRecall[k],
    ratio: exactRecall[k] > 0 ? approxRecall[k] / exactRecall[k] : null,
  }));
}

/** Recall@k, MRR@10 and nDCG@10 as a flat "name → value" record. */
export function metricValues(m: RetrievalMetrics): MetricValues {
  const out: MetricValues = {};
  for (const k of RECALL_KS) out[`recall@${k}`] = m.recall[k];
  out['mrr@10'] = m.mrr10;
  out['ndcg@10'] = m.ndcg10;
  return out;
}
