import type { Item } from '../data/types';
import type { SearchResult } from '../vectorIndex/types';
import type { EvalQuery } from './evalData';
import type { TermStats } from '../lexical/termStats';
import { triage, type TowerLimits, type TriageThresholds } from './triage';
import { TRIAGE_LABELS, type FailureRecord, type PositiveItem, type RetrievedItem, type TriageLabel } from './types';
import { rowDot } from './vectors';

/** What failure records need of the corpus: every row's id, and the full item of each row they show. */
export interface CorpusRows {
  readonly ids: readonly string[];
  item(row: number): Item;
}

/** The rows a failure record can show for one search: the top k of every query and its relevant items. */
export function rowsFailuresShow(result: SearchResult, k: number, queries: EvalQuery[], qrels: Map<string, Set<string>>, ids: readonly string[]): Set<number> {
  const rows = new Set<number>();
  const depth = result.k;
  for (let q = 0; q < result.nq; q++)
    for (let j = 0; j < Math.min(k, depth); j++) {
      const l = result.labels[q * depth + j];
      if (l >= 0) rows.add(l);
    }
  const wanted = new Set<string>();
  for (const q of queries) for (const id of qrels.get(q.id) ?? []) wanted.add(id);
  ids.forEach((id, row) => {
    if (wanted.has(id)) rows.add(row);
  });
  return rows;
}

export interface FailureInputs {
  step: number;
  queries: EvalQuery[];
  qrels: Map<string, Set<string>>;
  /** The corpus rows (a list of items, or ids plus the items of the rows shown: see {@link rowsFailuresShow}). */
  corpus: readonly Item[] | CorpusRows;
  queryEmb: Float32Array;
  corpusEmb: Float32Array;
  dim: number;
  /** One search's results, searched rankCutoff deep: every rank and score of a record comes from it. */
  result: SearchResult;
  /** Its name ("exact", "IVF-PQ, nprobe 16"), written into every record. */
  search: string;
  /**
   * Whether the result's scores are exact inner products (a Flat search): then a positive it did not return
   * still has a score consistent with the shown ones (its exact s(q, v), below the cutoff's). For an ANN
   * search such a positive's estimate is unknown (null).
   */
  exactScores: boolean;
  /** s(query qi, corpus row ix) when it is not ⟨queryEmb_qi, corpusEmb_ix⟩ (DPSR's multi-head score). */
  pairScore?: (qi: number, ix: number) => number;
  k: number;
  thresholds: TriageThresholds;
  /** BM25's results over the same queries (rankCutoff deep), when the lexical baseline ran. */
  bm25?: SearchResult | null;
  /** The hybrid (RRF) ranking of the same queries (hybrid.ts), when BM25 ran. */
  hybrid?: SearchResult | null;
  /** Document frequencies of the corpus' words (for the IDF of matching terms). */
  terms: TermStats;
  limits: TowerLimits;
}

/**
 * Every query with relevant items none of which is in the top k of one search, with its positives (rank
 * and score in that search; see `exactScores`), the top-k items in that search's order with its scores, and
 * s(v, ·) (exact item–item cosine, v = the best ranked positive, or the highest-scoring one when none is
 * ranked), a triage label, and a severity:
 *   severity = (rank ?? depth + 1) + max(0, s(q, k-th item) − s(q, v))   (the second term 0 when s(q, v) is unknown)
 * sorted worst first.
 */
export function findFailures(x: FailureInputs): { failures: FailureRecord[]; byLabel: Record<TriageLabel, number>; fixedByHybrid: number } {
  const depth = x.result.k;
  const items = x.corpus;
  const corpus: CorpusRows = isItemList(items) ? { ids: items.map((it) => it.id), item: (row) => items[row] } : items;
  const indexOfItem = new Map<string, number>();
  corpus.ids.forEach((id, i) => {
    if (!indexOfItem.has(id)) indexOfItem.set(id, i);
  });
  const failures: FailureRecord[] = [];
  x.queries.forEach((q, qi) => {
    const relevant = x.qrels.get(q.id);
    if (!relevant || relevant.size === 0) return;
    const row = qi * depth;
    const found = new Map<number, { rank: number; score: number }>();
    const labels: number[] = [];
    for (let j = 0; j < depth; j++) {
      const l = x.result.labels[row + j];
      if (l < 0) continue;
      labels.push(l);
      found.set(l, { rank: labels.length, score: x.result.scores[row + j] });
    }
    const positives: PositiveItem[] = [...relevant].flatMap((id) => {
      const ix = indexOfItem.get(id);
      if (ix === undefined) return [];
      const it = corpus.item(ix);
      const hit = found.get(ix);
      const score = hit ? hit.score : x.exactScores ? (x.pairScore ? x.pairScore(qi, ix) : rowDot(x.queryEmb, qi, x.corpusEmb, ix, x.dim)) : null;
      return [{ itemId: id, text: it.text, rank: hit?.rank ?? null, score, source: it.source }];
    });
    if (positives.length === 0) return;
    const best = [...positives].sort((a, b) => (a.rank ?? Infinity) - (b.rank ?? Infinity) || (b.score ?? -Infinity) - (a.score ?? -Infinity))[0];
    if (best.rank !== null && best.rank <= x.k) return; // not a failure
    const bestIx = indexOfItem.get(best.itemId)!;
    const topK: RetrievedItem[] = labels.slice(0, x.k).map((l) => {
      const it = corpus.item(l);
      return {
        itemId: it.id,
        text: it.text,
        source: it.source,
        relevant: relevant.has(it.id),
        score: found.get(l)!.score,
        simToPositive: rowDot(x.corpusEmb, bestIx, x.corpusEmb, l, x.dim),
      };
    });
    const pairwise: number[] = [];
    for (let i = 0; i < topK.length; i++)
      for (let j = i + 1; j < topK.length; j++) pairwise.push(rowDot(x.corpusEmb, labels[i], x.corpusEmb, labels[j], x.dim));
    const bestIn = (r: SearchResult): { rank: number | null; score?: number } => {
      for (let j = 0; j < r.k; j++) {
        const l = r.labels[qi * r.k + j];
        if (l >= 0 && relevant.has(corpus.ids[l])) return { rank: j + 1, score: r.scores[qi * r.k + j] };
      }
      return { rank: null };
    };
    const bm25 = x.bm25 ? bestIn(x.bm25) : undefined;
    const hybrid = x.hybrid ? { rank: bestIn(x.hybrid).rank } : undefined;
    const { label, reason, evidence } = triage(
      {
        query: q.text,
        positiveText: best.text,
        search: x.search,
        rank: best.rank,
        rankCutoff: depth,
        k: x.k,
        retrieved: topK.map((r) => ({ id: r.itemId, text: r.text, simToPositive: r.simToPositive, relevant: r.relevant })),
        topScores: topK.map((r) => r.score),
        pairwise,
        bm25,
        ...(hybrid ? { hybrid } : {}),
        terms: x.terms,
        limits: x.limits,
      },
      x.thresholds,
    );
    const kth = topK.length > 0 ? topK[topK.length - 1].score : best.score;
    failures.push({
      v: 1,
      step: x.step,
      search: x.search,
      queryId: q.id,
      query: q.text,
      source: q.source,
      rank: best.rank,
      rankCutoff: depth,
      positives,
      topK,
      label,
      labelReason: reason,
      evidence,
      severity: (best.rank ?? depth + 1) + (best.score !== null && kth !== null ? Math.max(0, kth - best.score) : 0),
    });
  });
  failures.sort((a, b) => b.severity - a.severity);
  const byLabel = Object.fromEntries(TRIAGE_LABELS.map((l) => [l, 0])) as Record<TriageLabel, number>;
  let fixedByHybrid = 0;
  for (const f of failures) {
    byLabel[f.label]++;
    const h = f.evidence?.hybridRank;
    if (h !== undefined && h !== null && h <= x.k) fixedByHybrid++;
  }
  return { failures, byLabel, fixedByHybrid };
}

function isItemList(c: readonly Item[] | CorpusRows): c is readonly Item[] {
  return Array.isArray(c);
}
