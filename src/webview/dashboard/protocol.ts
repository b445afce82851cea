/**
 * The protocol between the extension and the Dashboard webview (both directions are JSON messages
 * through `webview.postMessage` / `acquireVsCodeApi().postMessage`), each one TypeBox schema giving its type
 * and its check (step events: the run-format schema, src/core/runs/eventSchema.ts). Both sides import this module and
 * validate every message that arrives with `parseToDashboard` / `parseFromDashboard`; a message that
 * fails validation is ignored (the webview counts it and shows "n malformed messages ignored").
 *
 * Flow: the webview posts `ready` when loaded (also after a reload); the extension answers with a
 * `reset` holding the full history of the run shown, then streams `steps`, `status` and `eval`.
 * A long history may be sent as a `reset` with the first part followed by `steps` messages with the
 * rest (a 100k-step history is hundreds of MB of JSON in one message). `steps` append in order: a step
 * whose number is not above the last one shown is skipped as already shown.
 *
 * Numbers inside step events follow docs/run-format.md: a non-finite value is written as `null`, so
 * every number inside `diagnostics` may be `null` and is drawn as a gap.
 *
 * This module must stay free of `vscode` and Node imports: it is bundled into the webview.
 */
import { Type, type Static } from '@sinclair/typebox';
import { NumberOrNull } from '../../core/metrics/types';
import { QUALITY_REMEDY_IDS, QualityVerdictSchema } from '../../core/quality/qualityVerdict';
import { StepEventSchema, histogramProblem, type StepEvent } from '../../core/runs/eventSchema';
import { defineChannel, type MessageOf, type ParseResult } from '../../core/messageChannel';
import { schemaProblem } from '../../core/schemaCheck';
import { FROM_DASHBOARD_CHECKS, TO_DASHBOARD_CHECKS, isRunHeader } from './protocolChecks.generated';

export type { StepEvent };

/** Statuses a run header can show (the derived status of src/core/runs/status.ts). */
export const RUN_STATUSES = ['running', 'completed', 'stopped', 'failed', 'crashed', 'unknown'] as const;
export type RunHeaderStatus = (typeof RUN_STATUSES)[number];

const StringOrNull = Type.Union([Type.String(), Type.Null()], { errorMessage: 'must be a string or null' });

/** Header facts of the run shown. */
export const RunHeaderSchema = Type.Object({
  /** Absolute path of the run folder. */
  runDir: Type.String(),
  /** Experiment name. */
  name: Type.String(),
  status: Type.Unsafe<RunHeaderStatus>(
    Type.Union(
      RUN_STATUSES.map((s) => Type.Literal(s)),
      { errorMessage: `must be one of ${RUN_STATUSES.join('|')}` },
    ),
  ),
  /**
   * How the status reads (src/core/runs/status.ts statusLabel) when it says more than `status`: "stalled (no
   * heartbeat for 62 s)" for a running run that stopped writing its heartbeat. Absent: `status` itself.
   */
  statusText: Type.Optional(Type.String()),
  /** Compute backend, e.g. "wasm". */
  backend: Type.String(),
  /** Last completed step. */
  step: Type.Number({ minimum: 0 }),
  /** Planned steps; null if unknown. */
  totalSteps: Type.Union([Type.Number({ minimum: 0 }), Type.Null()], { errorMessage: 'must be a non-negative number or null' }),
  /** ISO 8601 start time. */
  startedAt: StringOrNull,
  configPath: StringOrNull,
  /**
   * The collapse thresholds of the run's config (`diagnostics.collapse.*` of its config.json; keys
   * left out take the defaults). The charts draw their threshold lines from these.
   */
  collapseThresholds: Type.Optional(Type.Record(Type.String(), NumberOrNull())),
});
export type RunHeader = Static<typeof RunHeaderSchema>;

/**
 * One evaluation: metric name → value, e.g. {"recall@10": 0.41, "mrr@10": 0.22}. `null` stands for an
 * undefined value (as in eval events of events.jsonl); the dashboard leaves it out.
 */
export const EvalPointSchema = Type.Object({
  step: Type.Number({ minimum: 0 }),
  metrics: Type.Record(Type.String(), NumberOrNull()),
  /** Live held-out evaluation: the sample searched, e.g. "1,000 queries × 20,000 of 50,829 items (sampled, all positives kept)". */
  heldOut: Type.Optional(Type.String()),
  /** Live held-out evaluation: the quality verdict after it (src/core/quality/qualityVerdict.ts). */
  quality: Type.Optional(QualityVerdictSchema),
  /** When the evaluation was written (the eval event's ISO time): its x on a wall-time axis (absent: its step's). */
  time: Type.Optional(Type.String()),
});
export type EvalPoint = Static<typeof EvalPointSchema>;

/** The user's own numbers at a step (a `scalars` event of events.jsonl: `retrieval_lens.Lens.log_scalars`). */
export const ScalarPointSchema = Type.Object({
  step: Type.Integer({ minimum: 0 }),
  values: Type.Record(Type.String({ minLength: 1 }), NumberOrNull()),
});
export type ScalarPoint = Static<typeof ScalarPointSchema>;
/** Drill-down (views/drilldown.ts): one data reference of a step sample, whose text is read from its line. */
export const PairTextRefSchema = Type.Object(
  {
    kind: Type.Union([Type.Literal('query'), Type.Literal('item')]),
    id: Type.String(),
    file: Type.String({ minLength: 1 }),
    line: Type.Integer({ minimum: 1 }),
  },
  { additionalProperties: false },
);
export type PairTextRef = Static<typeof PairTextRefSchema>;
/** At most this many texts per drill-down request. */
export const DRILLDOWN_MAX_REFS = 96;

/** extension → webview */
export const TO_DASHBOARD_SCHEMAS = {
  /** Full history: on open, on reload (answer to `ready`) and when switching runs. `run` null: no run to show. */
  reset: Type.Object({
    type: Type.Literal('reset'),
    run: Type.Union([RunHeaderSchema, Type.Null()]),
    steps: Type.Array(StepEventSchema),
    evals: Type.Array(EvalPointSchema),
    /** The run's `scalars` events so far (absent: none). */
    scalars: Type.Optional(Type.Array(ScalarPointSchema)),
  }),
  /**
   * A run overlaid on the per-step charts (up to MAX_OVERLAY_RUNS beside the run shown): `reset` true replaces
   * (or adds) its history with `steps`, false appends `steps` (live).
   */
  overlay: Type.Object({
    type: Type.Literal('overlay'),
    runDir: Type.String({ minLength: 1 }),
    name: Type.String(),
    reset: Type.Boolean(),
    steps: Type.Array(StepEventSchema),
  }),
  /** A run is no longer overlaid. */
  overlayRemove: Type.Object({ type: Type.Literal('overlayRemove'), runDir: Type.String({ minLength: 1 }) }),
  /** Newly logged `scalars` events, in file order. */
  scalars: Type.Object({ type: Type.Literal('scalars'), points: Type.Array(ScalarPointSchema) }),
  /** Newly logged steps, in step order. */
  steps: Type.Object({ type: Type.Literal('steps'), steps: Type.Array(StepEventSchema) }),
  /** The header changed (status, step, …). */
  status: Type.Object({ type: Type.Literal('status'), run: RunHeaderSchema }),
  /** A finished evaluation. */
  eval: Type.Object({ type: Type.Literal('eval'), point: EvalPointSchema }),
  /** Drill-down: the texts of a `pairTexts` request, in its order (null: the line or its record is gone). */
  pairTexts: Type.Object({
    type: Type.Literal('pairTexts'),
    requestId: Type.Integer({ minimum: 0 }),
    texts: Type.Array(Type.Union([Type.String(), Type.Null()]), { maxItems: DRILLDOWN_MAX_REFS }),
  }),
} as const;
export type ToDashboard = MessageOf<typeof TO_DASHBOARD_SCHEMAS>;

/** webview → extension: each message is its type alone. */
export const FROM_DASHBOARD_SCHEMAS = {
  /** The webview is loaded and listening: send a `reset`. */
  ready: Type.Object({ type: Type.Literal('ready') }, { additionalProperties: false }),
  /** Stop the running training (the Stop button; only enabled while status is running). */
  stop: Type.Object({ type: Type.Literal('stop') }, { additionalProperties: false }),
  /** Show the Retrieval Lens log. */
  openLog: Type.Object({ type: Type.Literal('openLog') }, { additionalProperties: false }),
  /** Evaluate the run shown. */
  evaluate: Type.Object({ type: Type.Literal('evaluate') }, { additionalProperties: false }),
  /** Apply a remedy of the quality verdict to the run's config (one undoable edit, computed from the config as it is now). */
  qualityRemedy: Type.Object(
    {
      type: Type.Literal('qualityRemedy'),
      remedy: Type.Union(
        QUALITY_REMEDY_IDS.map((s) => Type.Literal(s)),
        { errorMessage: `must be one of ${QUALITY_REMEDY_IDS.join('|')}` },
      ),
    },
    { additionalProperties: false },
  ),
  /** Choose the runs overlaid on the per-step charts (the host asks with a quick pick). */
  pickOverlay: Type.Object({ type: Type.Literal('pickOverlay') }, { additionalProperties: false }),
  /**
   * Save a chart through the host's save dialog: `png` data is a `data:image/png;base64,` URL (the canvas),
   * `csv` data the text. `name` suggests the file name (the host keeps only safe characters).
   */
  exportChart: Type.Object(
    {
      type: Type.Literal('exportChart'),
      format: Type.Union([Type.Literal('png'), Type.Literal('csv')], { errorMessage: 'must be png|csv' }),
      name: Type.String({ minLength: 1, maxLength: 200 }),
      data: Type.String({ maxLength: 256 * 2 ** 20 }),
    },
    { additionalProperties: false },
  ),
  /** Drill-down: read the texts of these references from their lines (answered by a `pairTexts` message). */
  pairTexts: Type.Object(
    { type: Type.Literal('pairTexts'), requestId: Type.Integer({ minimum: 0 }), refs: Type.Array(PairTextRefSchema, { maxItems: DRILLDOWN_MAX_REFS }) },
    { additionalProperties: false },
  ),
  /** Drill-down: open a training data file at a line. */
  openLine: Type.Object(
    { type: Type.Literal('openLine'), file: Type.String({ minLength: 1 }), line: Type.Integer({ minimum: 1 }) },
    { additionalProperties: false },
  ),
  /** Suspected false negatives: set data.maskDuplicateNegatives to true in the run's config (one undoable edit). */
  maskDuplicateNegatives: Type.Object({ type: Type.Literal('maskDuplicateNegatives') }, { additionalProperties: false }),
  /** Suspected false negatives: the duplicate groups report of the run's training data (src/core/data/duplicateGroups.ts). */
  duplicateGroups: Type.Object({ type: Type.Literal('duplicateGroups') }, { additionalProperties: false }),
} as const;
export type FromDashboard = MessageOf<typeof FROM_DASHBOARD_SCHEMAS>;

/** Validates a RunHeader; exported for the webview's saved state. */
export function runHeaderProblem(x: unknown, path = 'run'): string | null {
  return schemaProblem(RunHeaderSchema, x, path, isRunHeader);
}

/** Runs the dashboard overlays at most beside the run shown. */
export const MAX_OVERLAY_RUNS = 5;

/** The one rule of a step event a schema cannot say (lo < hi of each histogram). */
function histogramsProblem(m: ToDashboard): string | null {
  if (m.type !== 'reset' && m.type !== 'steps' && m.type !== 'overlay') return null;
  for (let i = 0; i < m.steps.length; i++) {
    const problem = histogramProblem(m.steps[i], `${m.type}.steps[${i}]`);
    if (problem !== null) return problem;
  }
  return null;
}

/** Validates a message sent to the dashboard webview; the reason names the path of the bad field. */
export const parseToDashboard: (x: unknown) => ParseResult<ToDashboard> = defineChannel(TO_DASHBOARD_SCHEMAS, TO_DASHBOARD_CHECKS, histogramsProblem);

/** Validates a message sent by the dashboard webview. */
export const parseFromDashboard: (x: unknown) => ParseResult<FromDashboard> = defineChannel(FROM_DASHBOARD_SCHEMAS, FROM_DASHBOARD_CHECKS);
