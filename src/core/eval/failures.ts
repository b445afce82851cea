import type { Item } from '../data/types';
import type { SearchResult } from '../index/types';
import type { EvalQuery } from './evalData';
import { triage, type TriageThresholds } from './triage';
import { TRIAGE_LABELS, type FailureRecord, type PositiveItem, type RetrievedItem, type TriageLabel } from './types';
import { rowDot } from './vectors';

export interface FailureInputs {
  step: number;
  queries: EvalQuery[];
  qrels: Map<string, Set<string>>;
  corpus: Item[];
  queryEmb: Float32Array;
  corpusEmb: Float32Array;
  dim: number;
  /** The evaluated index's results, searched rankCutoff deep. */
  result: SearchResult;
  k: number;
  thresholds: TriageThresholds;
}

/**
 * Every query with relevant items none of which is in the top k, with its positives (rank within the
 * searched depth, else null; exact score s(q,v)), the top-k items (exact s(q,·) and s(v,·), v = the best
 * ranked positive, or the highest-scoring one when none is ranked), a triage label, and a severity:
 *   severity = (rank ?? depth + 1) + max(0, s(q, k-th item) − s(q, v))
 * sorted worst first.
 */
export function findFailures(x: FailureInputs): { failures: FailureRecord[]; byLabel: Record<TriageLabel, number> } {
  const depth = x.result.k;
  const indexOfItem = new Map(x.corpus.map((it, i) => [it.id, i]));
  const failures: FailureRecord[] = [];
  x.queries.forEach((q, qi) => {
    const relevant = x.qrels.get(q.id);
    if (!relevant || relevant.size === 0) return;
    const labels = Array.from(x.result.labels.subarray(qi * depth, (qi + 1) * depth)).filter((l) => l >= 0);
    const rankOf = new Map<number, number>();
    labels.forEach((l, r) => rankOf.set(l, r + 1));
    const positives: PositiveItem[] = [...relevant].flatMap((id) => {
      const ix = indexOfItem.get(id);
      if (ix === undefined) return [];
      const it = x.corpus[ix];
      return [{ itemId: id, text: it.text, rank: rankOf.get(ix) ?? null, score: rowDot(x.queryEmb, qi, x.corpusEmb, ix, x.dim), source: it.source }];
    });
    if (positives.length === 0) return;
    const best = [...positives].sort((a, b) => (a.rank ?? Infinity) - (b.rank ?? Infinity) || b.score - a.score)[0];
    if (best.rank !== null && best.rank <= x.k) return; // not a failure
    const bestIx = indexOfItem.get(best.itemId)!;
    const topK: RetrievedItem[] = labels.slice(0, x.k).map((l) => {
      const it = x.corpus[l];
      return {
        itemId: it.id, text: it.text, source: it.source, relevant: relevant.has(it.id),
        score: rowDot(x.queryEmb, qi, x.corpusEmb, l, x.dim),
        simToPositive: rowDot(x.corpusEmb, bestIx, x.corpusEmb, l, x.dim),
      };
    });
    const { label, reason } = triage(
      { query: q.text, positiveText: best.text, retrieved: topK.map((r) => ({ id: r.itemId, text: r.text, simToPositive: r.simToPositive, relevant: r.relevant })), topScores: topK.map((r) => r.score) },
      x.thresholds,
    );
    const kth = topK.length > 0 ? topK[topK.length - 1].score : best.score;
    failures.push({
      v: 1, step: x.step, queryId: q.id, query: q.text, source: q.source, rank: best.rank, rankCutoff: depth,
      positives, topK, label, labelReason: reason,
      severity: (best.rank ?? depth + 1) + Math.max(0, kth - best.score),
    });
  });
  failures.sort((a, b) => b.severity - a.severity);
  const byLabel = Object.fromEntries(TRIAGE_LABELS.map((l) => [l, 0])) as Record<TriageLabel, number>;
  for (const f of failures) byLabel[f.label]++;
  return { failures, byLabel };
}
