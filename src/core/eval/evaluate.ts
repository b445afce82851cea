import type { EvaluationConfig, ModelConfig } from '../config/types';
import { buildIndex, resultToRankings, search, type IndexSpec, type SearchResult, type VectorIndex } from '../vectorIndex';
import { Bm25Index, BM25_PARAMS, TermStats } from '../lexical';
import { evaluateRetrieval, RECALL_KS, type RetrievalMetrics } from '../metrics/retrieval';
import { encodeFeatures } from '../model/encode';
import { featurize, featurizeOptions } from '../model/featurize';
import type { TwoTowerParams } from '../model/params';
import type { EvalPhase } from './phases';
import type { EvalData } from './evalData';
import { ANN_FAILURES_FILE, FAILURES_FILE } from './evalOutputs';
import { findFailures } from './failures';
import { searchName } from './searchName';
import { TRIAGE_LABELS, type EvalEntry, type FailureRecord, type MetricValues, type TriageLabel } from './types';

function emptyByLabel(): Record<TriageLabel, number> {
  return Object.fromEntries(TRIAGE_LABELS.map((l) => [l, 0])) as Record<TriageLabel, number>;
}

export interface EvaluateOptions {
  params: TwoTowerParams;
  model: ModelConfig;
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
  /** Failing queries of the exact search. */
  failures: FailureRecord[];
  /** Failing queries of the ANN search (empty without one). */
  annFailures: FailureRecord[];
  corpusEmb: Float32Array;
  /** The index searched for the reported metrics (IVF-PQ, or Flat when configured or for a subset). */
  index: VectorIndex;
  /** The BM25 index used (null when the lexical baseline is off or for a subset). */
  bm25: Bm25Index | null;
}

/** Recall@k, MRR@10 and nDCG@10 as a flat "name → value" record. */
export function metricValues(m: RetrievalMetrics): MetricValues {
  const out: MetricValues = {};
  for (const k of RECALL_KS) out[`recall@${k}`] = m.recall[k];
  out['mrr@10'] = m.mrr10;
  out['ndcg@10'] = m.ndcg10;
  return out;
}

function timed<T>(f: () => T): [T, number] {
  const t0 = performance.now();
  const v = f();
  return [v, performance.now() - t0];
}

/**
 * Evaluates two-tower params on test queries against a corpus: encodes both, searches exactly (Flat) and,
 * when configured, with IVF-PQ; scores against the qrels (exact and ANN metrics, ANN gap) and, except for
 * a subset evaluation, lists and triages the failing queries of each search separately (every rank and
 * score of a failure record comes from the one search it names).
 */
export function evaluateParams(o: EvaluateOptions): EvaluationResult {
  const { params, model, evaluation: ev, data } = o;
  const dim = params.dims.out;
  const iOpts = featurizeOptions(model, 'item');
  const qOpts = featurizeOptions(model, 'query');
  const t0 = performance.now();
  const corpusEmb =
    o.corpusEmb ??
    encodeFeatures(
      params,
      'item',
      data.corpus.map((it) => featurize(it.text, iOpts)),
      { onProgress: (d, t) => o.onProgress?.('encode-corpus', d, t) },
    );
  const queryEmb = encodeFeatures(
    params,
    'query',
    data.queries.map((q) => featurize(q.text, qOpts)),
    { onProgress: (d, t) => o.onProgress?.('encode-queries', d, t) },
  );
  const encodeMs = performance.now() - t0;
  const n = data.corpus.length;
  const nq = data.queries.length;
  const depth = Math.min(ev.rankCutoff, n);
  const useAnn = ev.index.type === 'IVF-PQ' && !o.subset;

  o.onProgress?.('build-index', 0, 1);
  const notes: string[] = [];
  const log = (m: string) => (notes.push(m), o.log?.(m));
  const [flat, flatBuildMs] = timed(() => buildIndex(corpusEmb, n, dim, { type: 'Flat' }));
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
  const [exactResult, exactMs] = timed(() => search(flat, queryEmb, nq, depth));
  const [annResult, annMs] = ann ? timed(() => search(ann, queryEmb, nq, depth)) : [null, 0];
  o.onProgress?.('search', 1, 1);

  let bm25: Bm25Index | null = null;
  let bm25Result: SearchResult | null = null;
  let lexical: EvalEntry['lexical'] = null;
  if (ev.lexicalBaseline && !o.subset) {
    o.onProgress?.('bm25', 0, 2 * nq);
    const texts = data.corpus.map((it) => it.text);
    const [built, bm25BuildMs] = timed(() => o.bm25 ?? Bm25Index.build(texts));
    bm25 = built;
    let bm25SearchMs: number;
    [bm25Result, bm25SearchMs] = timed(() =>
      built.search(
        data.queries.map((q) => q.text),
        depth,
        (d) => o.onProgress?.('bm25', nq + d, 2 * nq),
      ),
    );
    lexical = {
      model: 'BM25',
      params: { ...BM25_PARAMS },
      tokenizer: 'words (as the towers)',
      reused: !!o.bm25,
      buildMs: o.bm25 ? 0 : bm25BuildMs,
      searchMs: bm25SearchMs,
    };
    o.onProgress?.('bm25', 2 * nq, 2 * nq);
  }

  const queryIds = data.queries.map((q) => q.id);
  const itemIds = data.corpus.map((it) => it.id);
  const score = (r: SearchResult) => evaluateRetrieval(data.qrels, resultToRankings(r, queryIds, itemIds));
  const exact = score(exactResult);
  const approx = annResult ? score(annResult) : null;
  const lexicalMetrics = bm25Result ? score(bm25Result) : null;
  const exactName = searchName(flat.spec);
  const annName = ann ? searchName(ann.spec) : null;

  let failures: FailureRecord[] = [];
  let annFailures: FailureRecord[] = [];
  let byLabel = emptyByLabel();
  let annByLabel = emptyByLabel();
  if (!o.subset) {
    o.onProgress?.('triage', 0, 1);
    const common = {
      step: o.step,
      queries: data.queries,
      qrels: data.qrels,
      corpus: data.corpus,
      queryEmb,
      corpusEmb,
      dim,
      k: ev.k,
      thresholds: { nearDuplicate: ev.nearDuplicateThreshold, collapsedSpread: ev.collapsedSpread },
      bm25: bm25Result,
      terms: new TermStats(data.corpus.map((it) => it.text)),
      limits: { maxQueryTokens: model.maxQueryTokens, maxItemTokens: model.maxItemTokens, charTrigrams: model.charTrigrams },
    };
    ({ failures, byLabel } = findFailures({ ...common, result: exactResult, search: exactName, exactScores: true }));
    if (annResult && annName)
      ({ failures: annFailures, byLabel: annByLabel } = findFailures({ ...common, result: annResult, search: annName, exactScores: false }));
    o.onProgress?.('triage', 1, 1);
  }
  const exactValues = metricValues(exact);
  const annValues = approx ? metricValues(approx) : null;
  const entry: EvalEntry = {
    step: o.step,
    time: new Date().toISOString(),
    checkpoint: o.checkpoint,
    queries: { source: data.queriesSource, count: nq, withoutRelevant: exact.queriesWithoutRelevant, subset: o.subset },
    corpus: { source: data.corpusSource, count: n },
    index: {
      spec: { ...(ann ?? flat).spec } as Record<string, unknown>,
      notes: [...data.notes, ...notes],
      buildMs: ann ? annBuildMs : flatBuildMs,
      searchMs: ann ? annMs : exactMs,
    },
    encodeMs,
    exact: exactValues,
    ann: annValues,
    annGap: annValues ? Object.fromEntries(RECALL_KS.map((k) => [`recall@${k}`, exactValues[`recall@${k}`] - annValues[`recall@${k}`]])) : null,
    bm25: lexicalMetrics ? metricValues(lexicalMetrics) : null,
    lexical,
    failures: { k: ev.k, count: failures.length, byLabel, search: exactName, file: FAILURES_FILE },
    annFailures: annName && !o.subset ? { k: ev.k, count: annFailures.length, byLabel: annByLabel, search: annName, file: ANN_FAILURES_FILE } : null,
  };
  return { entry, failures, annFailures, corpusEmb, index: ann ?? flat, bm25 };
}
