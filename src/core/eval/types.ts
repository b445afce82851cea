/**
 * What an evaluation writes into a run folder (see docs/run-format.md):
 *   eval/metrics.json   { "v": 1, "evaluations": EvalEntry[] }   (one entry per evaluation, appended)
 *   eval/failures.jsonl one FailureRecord per line, worst first, of the exact search (latest evaluation only)
 *   eval/failures-ann.jsonl the same for the ANN search (IVF-PQ), when configured
 *   eval/index/         the built index + sidecar, next to the checkpoint it came from
 */
import type { SourceLocation } from '../data/types';

/**
 * Why a query failed (see triage.ts; each label needs its evidence). `missing-terms` is only read from
 * failure files written before 0.2 (it became `lexical-miss` / `hard-for-both` with evidence).
 */
export type TriageLabel = 'collapsed-neighbourhood' | 'near-duplicate' | 'truncated' | 'lexical-miss' | 'hard-for-both' | 'ranked-low' | 'missing-terms';
export const TRIAGE_LABELS: readonly TriageLabel[] = [
  'collapsed-neighbourhood',
  'near-duplicate',
  'truncated',
  'lexical-miss',
  'hard-for-both',
  'ranked-low',
  'missing-terms',
];

/** A word shared by the query and the positive, with how rare it is and whether each tower saw it. */
export interface MatchingTerm {
  term: string;
  /** Documents of the corpus containing it, and idf = ln(1 + (N − df + 0.5)/(df + 0.5)) (BM25's). */
  df: number;
  idf: number;
  /** 1-based position among the query's / positive's words. */
  queryWord: number;
  positiveWord: number;
  /** Whether the query / item tower saw it: its word feature or one of its trigrams is within maxQueryTokens / maxItemTokens. */
  querySeen: boolean;
  positiveSeen: boolean;
}

/** The facts a triage label rests on (all that were computed; each label names which it needs). */
export interface TriageEvidence {
  /** Best rank of a relevant item in the failure's search and in BM25 (null: beyond rankCutoff; BM25 absent when off). */
  rank: number | null;
  bm25Rank?: number | null;
  /** BM25 score of the best-ranked positive (absent when BM25 is off or did not match it). */
  bm25Score?: number;
  /** Query words shared with the positive, rarest first. */
  matchingTerms: MatchingTerm[];
  /** Documents in the corpus (the N of the IDF). */
  corpusSize: number;
  /** Feature limits of the towers (maxQueryTokens, maxItemTokens) and the word / feature counts of the texts. */
  limits: { maxQueryTokens: number; maxItemTokens: number; queryWords: number; positiveWords: number };
  /** The top-k's geometry: s(v, item) median, pairwise s(item, item) median / min, median word overlap (Jaccard) of their texts, score spread. */
  neighbourhood: { simToPositiveMedian: number; pairwiseMedian: number; pairwiseMin: number; wordOverlapMedian: number; scoreSpread: number };
  /** The retrieved item closest to the positive. */
  closest?: { itemId: string; sim: number; sameText: boolean };
  /** Best rank of a relevant item in the hybrid (RRF of the dense search and BM25) ranking (null: beyond rankCutoff); absent without BM25. */
  hybridRank?: number | null;
  /**
   * The top-k's embedding is collapsed (median pairwise s(v̂ᵢ, v̂ⱼ) ≥ nearDuplicate) although another label was
   * given (their texts overlap too much for `collapsed-neighbourhood`): said in the reason too.
   */
  collapsed?: boolean;
  /**
   * lexical-miss only: the decisive term (the rarest query term in the positive) and how many training pairs
   * contain it (in the query or the positive); absent when the training data could not be read.
   */
  termCoverage?: { term: string; trainingPairs: number };
}

/** Metric name → value, e.g. "recall@10" → 0.41, "mrr@10", "ndcg@10". */
export type MetricValues = Record<string, number>;

/** One retrieved item of a failing query. */
export interface RetrievedItem {
  itemId: string;
  /** The item's text, or (read from a format-2 file, `snippet` true) its first 80 characters: the full text is on its source line. */
  text: string;
  snippet?: boolean;
  /** s(q, item) as the search scored it (exact cosine, or IVF-PQ's estimate): the top-k is sorted by it. */
  score: number;
  /** s(v, item): similarity of the (best-ranked) positive v to this retrieved item. */
  simToPositive: number;
  /** Whether the item is relevant for the query (a hit at a rank beyond what was required counts). */
  relevant: boolean;
  source: SourceLocation;
}

/** A relevant item of a failing query. */
export interface PositiveItem {
  itemId: string;
  /** As RetrievedItem.text. */
  text: string;
  snippet?: boolean;
  /** 1-based rank in the failure's search; null when beyond `rankCutoff` (or not found by the ANN search). */
  rank: number | null;
  /**
   * s(q, v) as the failure's search scored it; null when an ANN search did not return it (its estimate is
   * unknown). For the exact search a positive beyond rankCutoff has its exact score (below the cutoff's).
   */
  score: number | null;
  source: SourceLocation;
}

/** A test query whose relevant items are all outside the top k. */
export interface FailureRecord {
  v: 1;
  /** Step of the checkpoint that was evaluated. */
  step: number;
  /** The search every rank and score of this record comes from: "exact" or e.g. "IVF-PQ, nprobe 16" (absent in files before 0.2: the configured index). */
  search?: string;
  queryId: string;
  /** The query text; in a failures file at most QUERY_CHARS characters (failuresFile.ts), `queryCut` then true. */
  query: string;
  queryCut?: boolean;
  /** Where the query record is (1-based line). */
  source: SourceLocation;
  /** Best rank of any relevant item (null: beyond rankCutoff). */
  rank: number | null;
  rankCutoff: number;
  positives: PositiveItem[];
  /** The top-k retrieved items, best first. */
  topK: RetrievedItem[];
  label: TriageLabel;
  /** Why this label, with the numbers, e.g. "BM25 ranks the positive 2 (exact: >100); matching terms: w36 (idf 6.10)". */
  labelReason: string;
  /** The facts behind the label (absent in files before 0.2). */
  evidence?: TriageEvidence;
  /** How badly it fails (higher = worse): sort key of failures.jsonl. */
  severity: number;
}

/** One evaluation in eval/metrics.json. */
export interface EvalEntry {
  step: number;
  time: string;
  /** Checkpoint folder relative to the run folder, e.g. "checkpoints/last". */
  checkpoint: string;
  /** Which queries: the test set, or a held-out subset during training. */
  queries: { source: string; count: number; withoutRelevant: number; subset: boolean };
  /** Live held-out evaluation during training: the sample searched (the corpus sampled when larger than evaluation.heldOutCorpus). */
  heldOut?: { queries: number; corpus: number; corpusTotal: number; sampled: boolean; description: string };
  corpus: { source: string; count: number };
  index: { spec: Record<string, unknown>; notes: string[]; buildMs: number; searchMs: number };
  encodeMs: number;
  /** Exact (brute-force inner product) metrics; null when the exact search was skipped (see exactSkipped). */
  exact: MetricValues | null;
  /** Why the exact search did not run (evaluation.exact false, or "auto" above evaluation.exactMaxCorpus); the ANN gap is then null (n/a). */
  exactSkipped?: string;
  /** ANN metrics (IVF-PQ); null for a Flat index. */
  ann: MetricValues | null;
  /** exact − ann recall@k per k; null for a Flat index or when the exact search was skipped. */
  annGap: MetricValues | null;
  /** BM25 metrics over the same corpus and queries; null/absent when evaluation.lexicalBaseline is off (or before 0.2). */
  bm25?: MetricValues | null;
  /** How the BM25 baseline ran (buildMs 0 when its saved index was reused; searchThreads: the threads that ranked the queries, absent: one). */
  lexical?: {
    model: 'BM25';
    params: { k1: number; b: number };
    tokenizer: string;
    reused: boolean;
    buildMs: number;
    searchMs: number;
    searchThreads?: number;
  } | null;
  /** Failing queries of the exact search (eval/failures.jsonl); of the ANN search when the exact search was skipped (`search` names it). */
  failures: FailureSummary;
  /** Failing queries of the ANN search (eval/failures-ann.jsonl); null for a Flat index or a subset. */
  annFailures?: FailureSummary | null;
  /** Hybrid retrieval: reciprocal-rank fusion of the dense ranking and BM25 (hybrid.ts); null/absent without BM25. */
  hybrid?: MetricValues | null;
  /** How the hybrid ranking was fused: RRF with constant k, over the named dense search and BM25. */
  fusion?: { method: 'RRF'; k: number; dense: string } | null;
  /** IVF-PQ recall against nprobe (nprobeCurve.ts); absent when not measured. */
  nprobeCurve?: NprobeCurve | null;
}

/** IVF-PQ recall@k against nprobe, beside the exact search, and the smallest nprobe within the bound. */
export interface NprobeCurve {
  k: number;
  /** The largest tolerated gap to exact recall@k (absolute, e.g. 0.01 = 1 point). */
  bound: number;
  exact: number;
  points: { nprobe: number; recall: number; gap: number; msPerQuery: number }[];
  /** Smallest nprobe whose gap ≤ bound; null when none is. */
  suggested: number | null;
  /** Smallest nprobe within `bound` of the recall of visiting every list (nprobe = nlist): more buys nothing. */
  plateau: number;
  /** The configured nprobe (evaluation.index.nprobe, clamped to nlist). */
  configured: number;
}

/** How many queries failed in one search, by label, and where they are listed. */
export interface FailureSummary {
  k: number;
  count: number;
  byLabel: Record<TriageLabel, number>;
  /** "exact" or e.g. "IVF-PQ, nprobe 16" (absent before 0.2). */
  search?: string;
  /** File name in the run's eval/ folder (absent before 0.2: failures.jsonl). */
  file?: string;
  /** Failing queries the hybrid ranking has in the top k ("fixed by hybrid"); absent without BM25. */
  fixedByHybrid?: number;
  /** lexical-miss failures by term coverage group (termCoverage.ts: "term never seen in training", …). */
  byCoverage?: Record<string, number>;
}

export interface EvalMetricsFile {
  v: 1;
  evaluations: EvalEntry[];
}
