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
import { Type, type Static } from '@sinclair/typebox';
import { defineChannel, type MessageOf, type ParseResult } from '../../core/messageChannel';
import { NumberOrNull } from '../../core/metrics/types';
import { SweepViewSchema, type SweepView } from '../../core/experiments/sweepViewSchema';
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
  /** heldOut: a live held-out evaluation during training (a sample), drawn apart from the full evaluations. */
  evals: Type.Array(Type.Object({ step: Type.Number(), metrics: Type.Record(Type.String(), Num), heldOut: Type.Boolean() })),
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

export type { SweepView };

/** extension → webview */
export const TO_EXPERIMENTS_SCHEMAS = {
  /** Show a run comparison. */
  compare: Type.Object({ type: Type.Literal('compare'), view: ComparisonViewSchema }),
  /** Show a sweep's result. */
  sweep: Type.Object({ type: Type.Literal('sweep'), view: SweepViewSchema }),
  /** A status line (loading, an error). */
  status: Type.Object({ type: Type.Literal('status'), text: Type.String() }),
} as const;
export type ToExperiments = MessageOf<typeof TO_EXPERIMENTS_SCHEMAS>;

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
export type FromExperiments = MessageOf<typeof FROM_EXPERIMENTS_SCHEMAS>;

/** The rule of a comparison its schema cannot say: one series per run, one value per step in each. */
function seriesProblem(m: ToExperiments): string | null {
  if (m.type !== 'compare') return null;
  const v = m.view;
  const n = v.runs.length;
  if (v.series.length !== n) return `compare.view.series: ${v.series.length} series for ${n} runs`;
  const bad = v.series.findIndex((s) =>
    [s.hyperP50, s.ratio, s.violationRate, s.itemCosine, s.loss, s.recall1, s.recall5, s.recall10].some((a) => a.length !== s.steps.length),
  );
  return bad >= 0 ? `compare.view.series[${bad}]: every series needs one value per step` : null;
}

/** Validates a message sent to the Experiments webview (the reason names the bad field's path). */
export const parseToExperiments: (x: unknown) => ParseResult<ToExperiments> = defineChannel(TO_EXPERIMENTS_SCHEMAS, TO_EXPERIMENTS_CHECKS, seriesProblem);

/** Validates a message sent by the Experiments webview (the extension acts only on these). */
export const parseFromExperiments: (x: unknown) => ParseResult<FromExperiments> = defineChannel(FROM_EXPERIMENTS_SCHEMAS, FROM_EXPERIMENTS_CHECKS);
