import type { EvaluationConfig } from '../config/types';
import { buildIndex, resultToRankings, search, type IndexSpec, type SearchResult, type VectorIndex } from '../vectorIndex';
import { Bm25Index, BM25_PARAMS, TermStats } from '../lexical';
import { evaluateRetrieval, metricValues, RECALL_KS } from './retrievalMetrics';
import type { EvalEncoder } from './encoders';
import type { EvalPhase } from './phases';
import type { EvalData } from './evalData';
import { ANN_FAILURES_FILE, FAILURES_FILE } from './evalOutputs';
import { findFailures, rowsFailuresShow } from './failures';
import { reciprocalRankFusion, RRF_K } from './hybrid';
import { nprobeCurve } from './nprobeCurve';
import { searchName } from './searchName';
import { dpsrPairScore, mergeHeadHits } from '../model/towers/dpsr';
import { TRIAGE_LABELS, type EvalEntry, type FailureRecord, type NprobeCurve, type TriageLabel } from './types';

function emptyByLabel(): Record<TriageLabel, number> {
  return Object.fromEntries(TRIAGE_LABELS.map((l) => [l, 0])) as Record<TriageLabel, number>;
}

export interface EvaluateOptions {
  /** The embeddings: a checkpoint's towers (towerEncoder) or precomputed vectors (embeddingsEncoder). */
  encoder: EvalEncoder;
  evaluation: EvaluationConfig;
  data: EvalData;
  step: number;
  checkpoint: string;
  /** Periodic evaluation on a query subset: exact search only, no failure records. */
  subset: boolean;
  /** Corpus embeddings already computed for these params (e.g. a saved index), else encoded here. */
  corpusEmb?: Float32Array;
  /** A saved index for these params and corpus, else built here. */
  index?: VectorIndex;
  /** A saved BM25 index of this corpus, else built here (when evaluation.lexicalBaseline, full evaluations only). */
  bm25?: Bm25Index;
  onProgress?(phase: EvalPhase, done: number, total: number): void;
  log?(message: string): void;
}

export interface EvaluationResult {
  entry: EvalEntry;
  /** Failing queries of the exact search (of the ANN search when the exact search was skipped). */
  failures: FailureRecord[];
  /** Failing queries of the ANN search beside the exact one (empty without both). */
  annFailures: FailureRecord[];
  corpusEmb: Float32Array;
  /** The index searched for the reported metrics (IVF-PQ, or Flat when configured or for a subset). */
  index: VectorIndex;
  /** The BM25 index used (null when the lexical baseline is off or for a subset). */
  bm25: Bm25Index | null;
}

function timed<T>(f: () => T): [T, number] {
  const t0 = performance.now();
  const v = f();
  return [v, performance.now() - t0];
}

/** Corpus items encoded (and indexed for BM25) per batch while the corpus streams by. */
const CORPUS_BATCH = 4096;

/**
 * Whether the exact (Flat) search runs: always for a Flat index (it is the index) and for a periodic subset
 * evaluation; else evaluation.exact (true / false), or for 'auto' only up to exactMaxCorpus items. Returns the
 * reason when it is skipped.
 */
export function exactDecision(ev: EvaluationConfig, n: number, subset: boolean): { run: boolean; skipped: string | null } {
  if (subset || ev.index.type === 'Flat') return { run: true, skipped: null };
  if (ev.exact === true) return { run: true, skipped: null };
  if (ev.exact === false) return { run: false, skipped: 'evaluation.exact is false' };
  const max = ev.exactMaxCorpus;
  if (n <= max) return { run: true, skipped: null };
  return {
    run: false,
    skipped: `the corpus has ${n} items, more than evaluation.exactMaxCorpus ${max} (evaluation.exact "auto"): exact search costs O(corpus) per query`,
  };
}

/**
 * Encodes the corpus with the item tower while it streams by in batches (no array of all its texts is
 * kept), feeding BM25 and the term statistics from the same pass when they are wanted.
 */
async function encodeCorpus(
  o: EvaluateOptions,
  want: { emb: boolean; bm25: boolean; terms: boolean },
): Promise<{ corpusEmb: Float32Array | null; bm25: Bm25Index | null; terms: TermStats | null; bm25Ms: number }> {
  const { encoder, data } = o;
  const n = data.corpus.count;
  const dim = encoder.dim;
  const corpusEmb = want.emb ? new Float32Array(n * dim) : null;
  const bm25 = want.bm25 ? Bm25Index.builder() : null;
  const terms = want.terms ? new TermStats() : null;
  let bm25Ms = 0;
  let done = 0;
  if (!want.emb && !want.bm25 && !want.terms) return { corpusEmb, bm25: null, terms, bm25Ms };
  if (want.emb) o.onProgress?.('encode-corpus', 0, n);
  for await (const batch of data.corpus.batches(CORPUS_BATCH)) {
    if (corpusEmb) corpusEmb.set(encoder.items(batch), done * dim);
    const texts = batch.map((it) => it.text);
    if (bm25) {
      const t0 = performance.now();
      bm25.add(texts);
      bm25Ms += performance.now() - t0;
    }
    if (terms) for (const t of texts) terms.add(t);
    done += batch.length;
    if (want.emb) o.onProgress?.('encode-corpus', done, n);
  }
  if (done !== n) throw new Error(`the corpus streamed ${done} items, expected ${n}`);
  return { corpusEmb, bm25: bm25 ? bm25.finish() : null, terms, bm25Ms };
}

/**
 * Evaluates an encoder (a checkpoint's towers or precomputed embeddings) on test queries against a corpus: encodes both (the corpus streamed in batches),
 * searches exactly (Flat; see {@link exactDecision}) and, when configured, with IVF-PQ; scores against the
 * qrels (exact and ANN metrics, ANN gap when both ran) and, except for a subset evaluation, lists and triages
 * the failing queries of each search that ran separately (every rank and score of a failure record comes from
 * the one search it names). Without the exact search, `failures` are the ANN search's.
 */
export async function evaluateParams(o: EvaluateOptions): Promise<EvaluationResult> {
  const { encoder, evaluation: ev, data } = o;
  const dim = encoder.dim;
  const n = data.corpus.count;
  const nq = data.queries.length;
  const wantBm25 = ev.lexicalBaseline && !o.subset;
  const t0 = performance.now();
  const streamed = await encodeCorpus(o, { emb: !o.corpusEmb, bm25: wantBm25 && !o.bm25, terms: !o.subset });
  const corpusEmb = o.corpusEmb ?? streamed.corpusEmb!;
  const queryEmb = encoder.queries(data.queries, (d, t) => o.onProgress?.('encode-queries', d, t));
  const encodeMs = performance.now() - t0 - streamed.bm25Ms;
  const depth = Math.min(ev.rankCutoff, n);
  const useAnn = ev.index.type === 'IVF-PQ' && !o.subset;
  const exactPlan = exactDecision(ev, n, o.subset);

  o.onProgress?.('build-index', 0, 1);
  const notes: string[] = [];
  const log = (m: string) => (notes.push(m), o.log?.(m));
  if (exactPlan.skipped) log(`exact search skipped: ${exactPlan.skipped}; the ANN gap is n/a`);
  const [flat, flatBuildMs] = exactPlan.run ? timed(() => buildIndex(corpusEmb, n, dim, { type: 'Flat' })) : [null, 0];
  const annSpec: IndexSpec = {
    type: 'IVF-PQ',
    nlist: ev.index.nlist,
    m: ev.index.m,
    nbits: ev.index.nbits,
    nprobe: ev.index.nprobe,
    ...(ev.index.trainSample ? { trainSample: ev.index.trainSample } : {}),
  };
  const [ann, annBuildMs] = useAnn ? timed(() => o.index ?? buildIndex(corpusEmb, n, dim, annSpec, { log })) : [null, 0];
  o.onProgress?.('build-index', 1, 1);

  o.onProgress?.('search', 0, 1);
  // Multi-head queries (DPSR): every head searches, the hits are merged by the attention score (towers/dpsr.ts).
  const K = encoder.queryHeads ?? 1;
  const searchQueries = (index: VectorIndex): SearchResult =>
    K === 1 ? search(index, queryEmb, nq, depth) : mergeHeadHits(search(index, queryEmb, nq * K, depth), queryEmb, corpusEmb, nq, K, dim, depth);
  if (K > 1) log(`${K} query heads (model.preset "dpsr"): each head searched ${depth} deep, the hits merged by the attention score`);
  const [exactResult, exactMs] = flat ? timed(() => searchQueries(flat)) : [null, 0];
  const [annResult, annMs] = ann ? timed(() => searchQueries(ann)) : [null, 0];
  o.onProgress?.('search', 1, 1);

  let bm25: Bm25Index | null = null;
  let bm25Result: SearchResult | null = null;
  let lexical: EvalEntry['lexical'] = null;
  if (wantBm25) {
    o.onProgress?.('bm25', 0, nq);
    bm25 = o.bm25 ?? streamed.bm25!;
    const built = bm25;
    const t0 = performance.now();
    const searched = await built.searchParallel(
      data.queries.map((q) => q.text),
      depth,
      { onProgress: (d) => o.onProgress?.('bm25', d, nq) },
    );
    const bm25SearchMs = performance.now() - t0;
    bm25Result = searched;
    lexical = {
      model: 'BM25',
      params: { ...BM25_PARAMS },
      tokenizer: 'words (as the towers)',
      reused: !!o.bm25,
      buildMs: o.bm25 ? 0 : streamed.bm25Ms,
      searchMs: bm25SearchMs,
      searchThreads: searched.threads,
    };
    o.onProgress?.('bm25', nq, nq);
  }

  const queryIds = data.queries.map((q) => q.id);
  const itemIds = data.corpus.ids;
  const score = (r: SearchResult) => evaluateRetrieval(data.qrels, resultToRankings(r, queryIds, itemIds));
  const exact = exactResult ? score(exactResult) : null;
  const approx = annResult ? score(annResult) : null;
  const lexicalMetrics = bm25Result ? score(bm25Result) : null;
  const dense = exactResult ?? annResult;
  const denseName = exactResult ? 'exact' : annResult && ann ? searchName(ann.spec) : null;
  const hybridResult = bm25Result && dense ? reciprocalRankFusion(dense, bm25Result, depth) : null;
  const hybridMetrics = hybridResult ? score(hybridResult) : null;
  const exactName = flat ? searchName(flat.spec) : null;
  const annName = ann ? searchName(ann.spec) : null;

  // The failures of each search that ran; without the exact search the ANN search's are the primary ones.
  const primary =
    exactResult && exactName
      ? { result: exactResult, name: exactName, exactScores: true }
      : annResult && annName
        ? { result: annResult, name: annName, exactScores: false }
        : null;
  const secondary = exactResult && annResult && annName ? { result: annResult, name: annName, exactScores: false } : null;
  let failures: FailureRecord[] = [];
  let annFailures: FailureRecord[] = [];
  let byLabel = emptyByLabel();
  let annByLabel = emptyByLabel();
  let fixedByHybrid = 0;
  let annFixedByHybrid = 0;
  if (!o.subset && primary) {
    o.onProgress?.('triage', 0, 1);
    const shown = rowsFailuresShow(primary.result, ev.k, data.queries, data.qrels, itemIds);
    if (secondary) for (const r of rowsFailuresShow(secondary.result, ev.k, data.queries, data.qrels, itemIds)) shown.add(r);
    const rows = [...shown];
    const fetched = await data.corpus.items(rows);
    const byRow = new Map(rows.map((r, i) => [r, fetched[i]]));
    const corpusRows = {
      ids: itemIds,
      item: (row: number) => {
        const it = byRow.get(row);
        if (!it) throw new Error(`corpus row ${row} was not fetched for the failing queries`);
        return it;
      },
    };
    const common = {
      step: o.step,
      queries: data.queries,
      qrels: data.qrels,
      corpus: corpusRows,
      queryEmb,
      corpusEmb,
      dim,
      k: ev.k,
      thresholds: { nearDuplicate: ev.nearDuplicateThreshold, collapsedSpread: ev.collapsedSpread },
      bm25: bm25Result,
      hybrid: hybridResult,
      terms: streamed.terms!,
      limits: encoder.limits,
      pairScore: K > 1 ? (qi: number, ix: number) => dpsrPairScore(queryEmb, qi, corpusEmb, ix, K, dim) : undefined,
    };
    ({ failures, byLabel, fixedByHybrid } = findFailures({ ...common, result: primary.result, search: primary.name, exactScores: primary.exactScores }));
    if (secondary)
      ({
        failures: annFailures,
        byLabel: annByLabel,
        fixedByHybrid: annFixedByHybrid,
      } = findFailures({ ...common, result: secondary.result, search: secondary.name, exactScores: false }));
    o.onProgress?.('triage', 1, 1);
  }
  const exactValues = exact ? metricValues(exact) : null;
  let curve: NprobeCurve | null = null;
  if (K > 1 && ann && exact && !o.subset) log('nprobe curve skipped: it searches one embedding per query (model.preset "dpsr" has several)');
  if (ann && exact && !o.subset && K === 1) {
    o.onProgress?.('search', 0, 1);
    curve = nprobeCurve({ index: ann, queryEmb, queryIds, itemIds, qrels: data.qrels, exactRecall: exact.recall[10] });
    o.onProgress?.('search', 1, 1);
  }
  const annValues = approx ? metricValues(approx) : null;
  const withoutRelevant = (exact ?? approx)?.queriesWithoutRelevant ?? 0;
  const entry: EvalEntry = {
    step: o.step,
    time: new Date().toISOString(),
    checkpoint: o.checkpoint,
    queries: { source: data.queriesSource, count: nq, withoutRelevant, subset: o.subset },
    corpus: { source: data.corpusSource, count: n },
    index: {
      spec: { ...(ann ?? flat)!.spec } as Record<string, unknown>,
      notes: [...data.notes, ...notes],
      buildMs: ann ? annBuildMs : flatBuildMs,
      searchMs: ann ? annMs : exactMs,
    },
    encodeMs,
    exact: exactValues,
    ...(exactPlan.skipped ? { exactSkipped: exactPlan.skipped } : {}),
    ann: annValues,
    annGap: annValues && exactValues ? Object.fromEntries(RECALL_KS.map((k) => [`recall@${k}`, exactValues[`recall@${k}`] - annValues[`recall@${k}`]])) : null,
    bm25: lexicalMetrics ? metricValues(lexicalMetrics) : null,
    lexical,
    failures: {
      k: ev.k,
      count: failures.length,
      byLabel,
      search: primary?.name ?? 'exact',
      file: FAILURES_FILE,
      ...(hybridResult && !o.subset ? { fixedByHybrid } : {}),
    },
    annFailures:
      secondary && !o.subset
        ? {
            k: ev.k,
            count: annFailures.length,
            byLabel: annByLabel,
            search: secondary.name,
            file: ANN_FAILURES_FILE,
            ...(hybridResult ? { fixedByHybrid: annFixedByHybrid } : {}),
          }
        : null,
    hybrid: hybridMetrics ? metricValues(hybridMetrics) : null,
    fusion: hybridMetrics && denseName ? { method: 'RRF', k: RRF_K, dense: denseName } : null,
    nprobeCurve: curve,
  };
  return { entry, failures, annFailures, corpusEmb, index: (ann ?? flat)!, bm25 };
}
