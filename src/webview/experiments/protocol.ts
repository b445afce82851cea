/**
 * The protocol between the extension and the Experiments webview (media/experiments.js): the run
 * comparison panel and the sweep result view. Each message is one TypeBox schema giving its type and its
 * check (generated at build time into protocolChecks.generated.ts: the webview's CSP forbids eval); both
 * sides validate every message that arrives and ignore one that does not validate.
 *
 * Flow: the webview posts `ready` when loaded (also after a reload); the extension answers with the view
 * it shows (`compare` or `sweep`). Clicking a failing query posts `openLine` (the host opens the data file
 * at that line, as the Failing Queries view does); a run's name posts `openRun`; the sweep view's metric
 * selector posts `selectMetric` (the host answers with a new `sweep`) and its "Compare Runs" button
 * `compareRuns` with the sweep's run folders; the comparison's Refresh button posts `refresh`.
 *
 * This module must stay free of `vscode` and Node imports: it is bundled into the webview.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { isPlainObject } from '../../core/jsonGuards';
import { NumberOrNull } from '../../core/metrics/types';
import { schemaProblem } from '../../core/schemaCheck';
import { FROM_EXPERIMENTS_CHECKS, TO_EXPERIMENTS_CHECKS } from './protocolChecks.generated';

const Num = NumberOrNull();
const NumArray = Type.Array(Num);

/** One compared run (header facts; its series are in `series` at the same index). */
export const ComparedRunSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  dir: Type.String(),
  status: Type.String(),
  step: Type.Number(),
  totalSteps: Type.Union([Type.Number(), Type.Null()]),
  backend: Type.Union([Type.String(), Type.Null()]),
  /** Damaged files and the like, located (`events.jsonl:12: …`). */
  problems: Type.Array(Type.String()),
});

/** A run's per-step series for the charts (one entry per logged step; null: a gap). */
export const RunSeriesSchema = Type.Object({
  steps: Type.Array(Type.Number()),
  hyperKind: Type.Union([Type.Literal('delta'), Type.Literal('tau'), Type.Null()]),
  hyperP50: NumArray,
  ratio: NumArray,
  violationRate: NumArray,
  itemCosine: NumArray,
  loss: NumArray,
  recall1: NumArray,
  recall5: NumArray,
  recall10: NumArray,
  evals: Type.Array(Type.Object({ step: Type.Number(), metrics: Type.Record(Type.String(), Num) })),
});
export type RunSeriesView = Static<typeof RunSeriesSchema>;

const FailureSideSchema = Type.Union([Type.Object({ rank: Num, label: Type.String(), severity: Type.Number(), recordLine: Type.Number() }), Type.Null()]);

/** The comparison: runs, differing config keys (values as display text), final metrics, series, failing-query diff. */
export const ComparisonViewSchema = Type.Object({
  runs: Type.Array(ComparedRunSchema, { minItems: 2 }),
  /** `values[i]`: run i's value as JSON text, or "(absent)". */
  configDifferences: Type.Array(Type.Object({ path: Type.String(), values: Type.Array(Type.String()) })),
  metrics: Type.Array(
    Type.Object({
      key: Type.String(),
      label: Type.String(),
      values: Type.Array(Type.Union([Type.Number(), Type.String(), Type.Null()])),
      better: Type.Optional(Type.Union([Type.Literal('higher'), Type.Literal('lower')])),
    }),
  ),
  series: Type.Array(RunSeriesSchema),
  failures: Type.Object({
    search: Type.Union([Type.Literal('exact'), Type.Literal('ann')]),
    evaluated: Type.Array(Type.Boolean()),
    steps: NumArray,
    totals: NumArray,
    onlyIn: Type.Array(Type.Number()),
    inAll: Type.Number(),
    rows: Type.Array(
      Type.Object({
        queryId: Type.String(),
        query: Type.String(),
        file: Type.String(),
        line: Type.Integer({ minimum: 1 }),
        runs: Type.Array(FailureSideSchema),
      }),
    ),
    /** Rows of the diff not sent (the view lists at most a few thousand). */
    rowsLeftOut: Type.Number(),
    problems: Type.Array(Type.String()),
  }),
  notes: Type.Array(Type.String()),
});
export type ComparisonView = Static<typeof ComparisonViewSchema>;

/**
 * A sweep's result as plain data: `metric` (one of `metrics`) at each swept value, mean ± std over the
 * seeds' runs (null when no run of that value has the metric), the adaptive loss's result as a reference
 * band and BM25 as a line.
 */
export const SweepViewSchema = Type.Object({
  /** Title, e.g. the sweep folder's name. */
  title: Type.Optional(Type.String()),
  /** The swept config key, e.g. "loss.margin". */
  param: Type.String(),
  metric: Type.String(),
  metrics: Type.Array(Type.String()),
  points: Type.Array(
    Type.Object({
      value: Type.Number(),
      mean: Num,
      std: Num,
      n: Type.Integer({ minimum: 0 }),
      runs: Type.Array(Type.Object({ seed: Type.Number(), runDir: Type.String(), value: Num })),
    }),
  ),
  reference: Type.Optional(Type.Object({ label: Type.String(), mean: Type.Number(), std: Type.Number(), n: Type.Integer({ minimum: 0 }) })),
  bm25: Type.Optional(Type.Object({ mean: Type.Number() })),
  /** The adaptive loss against the best fixed value, decided by the one rule of src/core/experiments/claim.ts (no claim below 2 seeds an arm). */
  claim: Type.Optional(Type.String()),
});
export type SweepView = Static<typeof SweepViewSchema>;

/** extension → webview */
export const TO_EXPERIMENTS_SCHEMAS = {
  /** Show a run comparison. */
  compare: Type.Object({ type: Type.Literal('compare'), view: ComparisonViewSchema }),
  /** Show a sweep's result. */
  sweep: Type.Object({ type: Type.Literal('sweep'), view: SweepViewSchema }),
  /** A status line (loading, an error). */
  status: Type.Object({ type: Type.Literal('status'), text: Type.String() }),
} as const;
export type ToExperiments = { [K in keyof typeof TO_EXPERIMENTS_SCHEMAS]: Static<(typeof TO_EXPERIMENTS_SCHEMAS)[K]> }[keyof typeof TO_EXPERIMENTS_SCHEMAS];

/** webview → extension */
export const FROM_EXPERIMENTS_SCHEMAS = {
  ready: Type.Object({ type: Type.Literal('ready') }, { additionalProperties: false }),
  /** Open a data file at a 1-based line (a failing query). */
  openLine: Type.Object({ type: Type.Literal('openLine'), file: Type.String(), line: Type.Integer({ minimum: 1 }) }, { additionalProperties: false }),
  /** Show a run in the dashboard. */
  openRun: Type.Object({ type: Type.Literal('openRun'), dir: Type.String() }, { additionalProperties: false }),
  /** Read the compared runs again (the comparison's Refresh button: a run may still be training). */
  refresh: Type.Object({ type: Type.Literal('refresh') }, { additionalProperties: false }),
  /** Compare these runs (the sweep view's "Compare Runs" button). */
  compareRuns: Type.Object({ type: Type.Literal('compareRuns'), dirs: Type.Array(Type.String(), { minItems: 2 }) }, { additionalProperties: false }),
  /** Show the sweep with another metric. */
  selectMetric: Type.Object({ type: Type.Literal('selectMetric'), metric: Type.String() }, { additionalProperties: false }),
} as const;
export type FromExperiments = {
  [K in keyof typeof FROM_EXPERIMENTS_SCHEMAS]: Static<(typeof FROM_EXPERIMENTS_SCHEMAS)[K]>;
}[keyof typeof FROM_EXPERIMENTS_SCHEMAS];

export type ParseResult<T> = { ok: true; value: T } | { ok: false; reason: string };

function parseBy<T>(schemas: Record<string, TSchema>, checks: Record<string, (value: unknown) => boolean>, x: unknown): ParseResult<T> {
  if (!isPlainObject(x)) return { ok: false, reason: 'message is not an object' };
  const type = x.type;
  if (typeof type !== 'string' || !Object.prototype.hasOwnProperty.call(schemas, type))
    return { ok: false, reason: `unknown message type ${JSON.stringify(type)}` };
  const problem = schemaProblem(schemas[type], x, type, checks[type]);
  return problem === null ? { ok: true, value: x as T } : { ok: false, reason: problem };
}

/** Validates a message sent to the Experiments webview (the reason names the bad field's path). */
export function parseToExperiments(x: unknown): ParseResult<ToExperiments> {
  const r = parseBy<ToExperiments>(TO_EXPERIMENTS_SCHEMAS, TO_EXPERIMENTS_CHECKS, x);
  if (r.ok && r.value.type === 'compare') {
    const v = r.value.view;
    const n = v.runs.length;
    if (v.series.length !== n) return { ok: false, reason: `compare.view.series: ${v.series.length} series for ${n} runs` };
    const bad = v.series.findIndex((s) =>
      [s.hyperP50, s.ratio, s.violationRate, s.itemCosine, s.loss, s.recall1, s.recall5, s.recall10].some((a) => a.length !== s.steps.length),
    );
    if (bad >= 0) return { ok: false, reason: `compare.view.series[${bad}]: every series needs one value per step` };
  }
  return r;
}

/** Validates a message sent by the Experiments webview (the extension acts only on these). */
export function parseFromExperiments(x: unknown): ParseResult<FromExperiments> {
  return parseBy<FromExperiments>(FROM_EXPERIMENTS_SCHEMAS, FROM_EXPERIMENTS_CHECKS, x);
}
