/**
 * Run comparison: two or more run folders → the config keys that differ, each run's final metrics (last
 * logged step, latest evaluation), its step series for charts and the failing-query diff. Read-only: no
 * file of a run is written, moved or repaired.
 */
import * as path from 'path';
import type { EvalEntry } from '../eval/types';
import { EVAL_DIR, METRICS_FILE, readMetrics } from '../eval/evalOutputs';
import type { JsonValue, RunEvent, StepEvent } from '../runs/eventSchema';
import { forEachEvent, type BadEventLine } from '../runs/eventLog';
import { CONFIG_FILE, EVENTS_FILE } from '../runs/meta';
import { readRun } from '../runs/readRun';
import { configDifferences, type ConfigDifference } from './compareConfig';
import { diffRunFailures, type FailureDiff, type FailureSearch } from './failureDiff';
import { readJsonSync } from '../io/safeRead';

/** A number read from a run, or null (not logged, non-finite, not evaluated). */
type Num = number | null;

/** Per-step series of one run (one entry per logged step; null: a gap). */
export interface RunSeries {
  steps: number[];
  /** Which adaptive hyper-parameter the run logs: δ (margin loss), τ (softmax loss) or none. */
  hyperKind: 'delta' | 'tau' | null;
  /** Median of δ_ji / τ_ji over the batch's valid pairs. */
  hyperP50: Num[];
  ratio: Num[];
  violationRate: Num[];
  itemCosine: Num[];
  loss: Num[];
  recall1: Num[];
  recall5: Num[];
  recall10: Num[];
  /**
   * Evaluations in events.jsonl (during and after training): step and metric values, and whether it was a live
   * held-out evaluation during training (a sample of the test queries, the corpus sampled with every positive
   * kept: not comparable with a full evaluation of all test queries).
   */
  evals: { step: number; metrics: Record<string, Num>; heldOut: boolean }[];
}

/** The final numbers of one run. */
export interface RunFinal {
  /** Last logged step (null: none logged). */
  step: Num;
  loss: Num;
  ratio: Num;
  violationRate: Num;
  itemCosine: Num;
  verdict: string | null;
  verdictReason: string | null;
  inBatchRecall10: Num;
  /** The latest evaluation: of eval/metrics.json (a full evaluation preferred over a held-out subset), else the last eval event. */
  eval: {
    step: number;
    /** Where it was read: "eval/metrics.json" or "events.jsonl". */
    from: string;
    /** Queries evaluated and their file, when known. */
    queries: { source: string; count: number; subset: boolean } | null;
    /** Exact-search metrics; `ann/…` the IVF-PQ search, `bm25/…` BM25, `hybrid/…` the RRF fusion of the dense search and BM25. */
    metrics: Record<string, Num>;
  } | null;
}

export interface ComparedRun {
  dir: string;
  id: string;
  name: string;
  status: string;
  step: number;
  totalSteps: number | null;
  backend: string | null;
  /** config.json, or null when it cannot be read (listed in `problems`). */
  config: JsonValue | null;
  final: RunFinal;
  series: RunSeries;
  problems: string[];
}

/** One row of the final-metrics table. */
export interface MetricRow {
  key: string;
  label: string;
  values: (number | string | null)[];
  /** Which direction is better, for highlighting; absent when neither. */
  better?: 'higher' | 'lower';
}

export interface RunComparison {
  runs: ComparedRun[];
  configDifferences: ConfigDifference[];
  metrics: MetricRow[];
  failures: FailureDiff;
  /** Things a reader must know (different test data, …). */
  notes: string[];
}

const num = (x: unknown): Num => (typeof x === 'number' && Number.isFinite(x) ? x : null);

/** The flat metrics of an evaluation entry: exact values, `ann/…`, `bm25/…`, `hybrid/…`. */
function entryMetrics(e: EvalEntry): Record<string, Num> {
  const out: Record<string, Num> = {};
  for (const [k, v] of Object.entries(e.exact ?? {})) out[k] = num(v);
  for (const [k, v] of Object.entries(e.ann ?? {})) out[`ann/${k}`] = num(v);
  for (const [k, v] of Object.entries(e.bm25 ?? {})) out[`bm25/${k}`] = num(v);
  for (const [k, v] of Object.entries(e.hybrid ?? {})) out[`hybrid/${k}`] = num(v);
  return out;
}

function hyperOf(e: StepEvent): { kind: 'delta' | 'tau'; p50: Num } | null {
  const { delta, tau } = e.diagnostics.dist;
  if (delta) return { kind: 'delta', p50: delta.count ? num(delta.p50) : null };
  if (tau) return { kind: 'tau', p50: tau.count ? num(tau.p50) : null };
  return null;
}

/**
 * The step series of a run, streamed from its events.jsonl (forEachEvent: the file is never held; a
 * step written again or out of order is skipped, the latter listed with its line in `problems`).
 */
export function readRunSeries(runDir: string, problems: string[] = [], totalSteps: number | null = null): RunSeries {
  let bad = 0;
  const onBad = (b: BadEventLine) => {
    if (++bad <= 5) problems.push(`${EVENTS_FILE}:${b.line}: ${b.reason}`);
  };
  const s: RunSeries = {
    steps: [],
    hyperKind: null,
    hyperP50: [],
    ratio: [],
    violationRate: [],
    itemCosine: [],
    loss: [],
    recall1: [],
    recall5: [],
    recall10: [],
    evals: [],
  };
  const visit = (e: RunEvent) => {
    if (e.type === 'eval') {
      const metrics: Record<string, Num> = {};
      for (const [k, v] of Object.entries(e.metrics)) if (typeof v === 'number' || v === null) metrics[k] = num(v);
      s.evals.push({ step: e.step, metrics, heldOut: e.heldOut !== undefined });
      return;
    }
    if (e.type !== 'step') return;
    const h = hyperOf(e);
    if (h && !s.hyperKind) s.hyperKind = h.kind;
    const c = e.diagnostics.collapse;
    s.steps.push(e.step);
    s.hyperP50.push(h?.p50 ?? null);
    s.ratio.push(num(c.ratio));
    s.violationRate.push(num(c.violationRate));
    s.itemCosine.push(num(c.itemCosine));
    s.loss.push(num(e.loss));
    s.recall1.push(num(e.diagnostics.recall.at1));
    s.recall5.push(num(e.diagnostics.recall.at5));
    s.recall10.push(num(e.diagnostics.recall.at10));
  };
  forEachEvent(path.join(runDir, EVENTS_FILE), visit, onBad, { totalSteps });
  if (bad > 5) problems.push(`${EVENTS_FILE}: ${bad - 5} more malformed lines`);
  return s;
}

/** Reads one run for comparison (never throws for damaged files: they are listed in `problems`). */
export function readComparedRun(runDir: string): ComparedRun {
  const summary = readRun(runDir);
  const problems = [...summary.problems];
  let config: JsonValue | null = null;
  try {
    config = readJsonSync(path.join(summary.dir, CONFIG_FILE), 'config.json') as JsonValue;
  } catch (e) {
    problems.push(`${CONFIG_FILE}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : (e as Error).message}`);
  }
  const series = readRunSeries(summary.dir, problems, summary.totalSteps);
  const last = summary.lastStep;
  const metricsRead = readMetrics(summary.dir);
  if (metricsRead.problem) problems.push(`${EVAL_DIR}/${METRICS_FILE}: ${metricsRead.problem}`);
  const entries = metricsRead.evaluations;
  const entry = [...entries].reverse().find((e) => !e.queries?.subset) ?? entries[entries.length - 1];
  let evaluation: RunFinal['eval'] = null;
  if (entry) {
    evaluation = {
      step: entry.step,
      from: `${EVAL_DIR}/${METRICS_FILE}`,
      queries: entry.queries ? { source: entry.queries.source, count: entry.queries.count, subset: entry.queries.subset } : null,
      metrics: entryMetrics(entry),
    };
  } else if (summary.lastEval) {
    const metrics: Record<string, Num> = {};
    for (const [k, v] of Object.entries(summary.lastEval.metrics)) if (typeof v === 'number' || v === null) metrics[k] = num(v);
    evaluation = { step: summary.lastEval.step, from: EVENTS_FILE, queries: null, metrics };
  }
  return {
    dir: summary.dir,
    id: summary.id,
    name: summary.name,
    status: summary.status,
    step: summary.step,
    totalSteps: summary.totalSteps,
    backend: summary.meta?.backend ?? null,
    config,
    final: {
      step: last?.step ?? null,
      loss: num(last?.loss),
      ratio: num(last?.diagnostics.collapse.ratio),
      violationRate: num(last?.diagnostics.collapse.violationRate),
      itemCosine: num(last?.diagnostics.collapse.itemCosine),
      verdict: last?.verdict.state ?? null,
      verdictReason: last?.verdict.reason ?? null,
      inBatchRecall10: num(last?.diagnostics.recall.at10),
      eval: evaluation,
    },
    series,
    problems,
  };
}

/** The rows of the final-metrics table, in this order. */
const EVAL_ROWS: [key: string, label: string][] = [
  ['recall@1', 'recall@1'],
  ['recall@5', 'recall@5'],
  ['recall@10', 'recall@10'],
  ['mrr@10', 'MRR@10'],
  ['ndcg@10', 'nDCG@10'],
  ['ann/recall@10', 'IVF-PQ recall@10'],
  ['bm25/recall@10', 'BM25 recall@10'],
  ['hybrid/recall@10', 'hybrid (RRF) recall@10'],
];

/** The final-metrics table of compared runs (rows where no run has a value are left out). */
export function finalMetricRows(runs: readonly ComparedRun[]): MetricRow[] {
  const row = (key: string, label: string, get: (f: RunFinal) => number | string | null, better?: 'higher' | 'lower'): MetricRow => ({
    key,
    label,
    values: runs.map((r) => get(r.final)),
    ...(better ? { better } : {}),
  });
  const rows: MetricRow[] = [
    row('step', 'last logged step', (f) => f.step),
    row('loss', 'loss', (f) => f.loss, 'lower'),
    row('ratio', 'R', (f) => f.ratio, 'higher'),
    row('violationRate', 'violation rate', (f) => f.violationRate, 'lower'),
    row('itemCosine', 'item cosine', (f) => f.itemCosine, 'lower'),
    row('verdict', 'verdict', (f) => f.verdict),
    row('inBatchRecall10', 'in-batch recall@10', (f) => f.inBatchRecall10, 'higher'),
    row('evalStep', 'evaluated step', (f) => f.eval?.step ?? null),
    ...EVAL_ROWS.map(([k, label]) => row(`eval/${k}`, label, (f) => f.eval?.metrics[k] ?? null, 'higher')),
  ];
  return rows.filter((r) => r.values.some((v) => v !== null));
}

/** Compares two or more run folders. */
export function compareRuns(runDirs: readonly string[], opts: { search?: FailureSearch } = {}): RunComparison {
  if (runDirs.length < 2) throw new Error(`compare needs two or more runs, got ${runDirs.length}`);
  const runs = runDirs.map((d) => readComparedRun(d));
  const notes: string[] = [];
  const sources = runs.map((r) => r.final.eval?.queries?.source ?? null);
  const known = new Set(sources.filter((s): s is string => s !== null));
  if (known.size > 1) notes.push(`the runs were evaluated on different test data: ${sources.map((s, i) => `run ${i + 1} ${s ?? '–'}`).join(', ')}`);
  const failures = diffRunFailures(
    runs.map((r) => r.dir),
    opts.search ?? 'exact',
  );
  return { runs, configDifferences: configDifferences(runs.map((r) => r.config)), metrics: finalMetricRows(runs), failures, notes };
}
