/**
 * Schemas of everything stored in a run folder: meta.json and the events of events.jsonl (TypeBox: each
 * schema gives both the TypeScript type and the runtime check). The on-disk format is specified in
 * docs/run-format.md; test/unit/runFormatDoc.test.ts checks the doc's examples and field tables against
 * these schemas.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { CollapseVerdictSchema, Measured, NumberOrNull, StepDiagnosticsSchema } from '../metrics/types';
import { QualityVerdictSchema } from '../quality/qualityVerdict';
import { StepSamplesSchema, SuspectedFalseNegativesSchema } from '../metrics/stepSamples';
import { schemaProblem } from '../schemaCheck';
import { EVENT_CHECKS } from './eventChecks.generated';

/** Version of the run folder layout and meta.json; bumped only on breaking changes. */
export const RUN_FORMAT_VERSION = 1;
/**
 * Version of the event line schema (`"v"` of every events.jsonl line); bumped only on breaking changes.
 * v2: `diagnostics.collapse.ratio` is R = (1 − mean s(v,v⁻)) / (1 − mean s(q,v)) (v1: mean s(q,v) /
 * mean s(v,v⁻)), `ratioNote` added, verdict states extended (see docs/run-format.md).
 */
export const EVENT_SCHEMA_VERSION = 2;

/** Any JSON value. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
const JsonObject = Type.Unsafe<{ [key: string]: JsonValue }>(Type.Record(Type.String(), Type.Unknown()));

/** One of the given strings; the static type is their union. */
const oneOf = <const T extends readonly string[]>(values: T) =>
  Type.Unsafe<T[number]>(
    Type.Union(
      values.map((v) => Type.Literal(v)),
      {
        errorMessage: `must be ${values
          .map((v) => JSON.stringify(v))
          .join(', ')
          .replace(/, ([^,]*)$/, ' or $1')}`,
      },
    ),
  );

/** Status as written by the trainer. */
export const RunStatusSchema = oneOf(['running', 'completed', 'stopped', 'failed'] as const);
export type RunStatus = Static<typeof RunStatusSchema>;
/** Final statuses a trainer may finish with. */
export const FinalRunStatusSchema = oneOf(['completed', 'stopped', 'failed'] as const);
export type FinalRunStatus = Static<typeof FinalRunStatusSchema>;
/**
 * Status as reported to readers: the written status, or `crashed` when meta says running but the
 * writer is gone, or `unknown` when meta.json is missing, invalid or of a newer format.
 */
export type DerivedRunStatus = RunStatus | 'crashed' | 'unknown';

/** ISO 8601 time string (readers parse it with Date.parse). */
const Time = Type.String();

/** Why a run failed. */
export const RunErrorSchema = Type.Object({
  message: Type.String(),
  /** Step at which the failure happened (the step being computed, not the last completed one). */
  step: Type.Optional(Type.Integer()),
  /**
   * Name of the offending quantity when a value became non-finite: "loss", "loss_q", "loss_sym" or
   * "gradient_norm" (src/core/training/trainLoop.ts).
   */
  quantity: Type.Optional(Type.String()),
});
export type RunError = Static<typeof RunErrorSchema>;

/** A saved checkpoint; `path` is relative to the run folder with `/` separators, e.g. "checkpoints/last". */
export const CheckpointRefSchema = Type.Object({ step: Type.Integer({ minimum: 0 }), path: Type.String() });
export type CheckpointRef = Static<typeof CheckpointRefSchema>;

/** The best checkpoint so far, with the metric that made it best. */
export const BestCheckpointRefSchema = Type.Composite([
  CheckpointRefSchema,
  Type.Object({
    /** Metric name, e.g. "recall@10". */
    metric: Type.String(),
    value: Type.Number(),
    /**
     * Which rule chose it: "held-out" (highest held-out exact recall@10 of live evaluation, when the config has
     * test data and evaluation.every is not 0) or "in-batch" (highest smoothed in-batch recall@10). Absent in
     * runs written before it.
     */
    rule: Type.Optional(oneOf(['held-out', 'in-batch'] as const)),
  }),
]);
export type BestCheckpointRef = Static<typeof BestCheckpointRefSchema>;

/** Software versions; node/tfjs/retrievalLens plus any free-form extra entries (e.g. "torch", "cuda"). */
export const RunVersionsSchema = Type.Object(
  { node: Type.String(), tfjs: Type.String(), retrievalLens: Type.String() },
  { additionalProperties: Type.String() },
);
export type RunVersions = Static<typeof RunVersionsSchema> & { [name: string]: string };

/** Contents of meta.json, as written. */
export const RunMetaSchema = Type.Object({
  formatVersion: Type.Integer(),
  /** Experiment name as given (not slugged). */
  name: Type.String(),
  /** Path of the experiment config file the run was started from; null when built in memory. */
  configPath: Type.Union([Type.String(), Type.Null()], { errorMessage: 'must be a string or null' }),
  status: RunStatusSchema,
  /** Compute backend, e.g. "cpu", "wasm", "tensorflow", "cuda". */
  backend: Type.String(),
  versions: RunVersionsSchema,
  /** OS process id of the writer; null if unknown. */
  pid: Type.Union([Type.Integer(), Type.Null()], { errorMessage: 'must be an integer or null' }),
  /** Host name of the writer (os.hostname()). */
  host: Type.String(),
  /** ISO 8601 timestamps. */
  startedAt: Time,
  heartbeatAt: Time,
  endedAt: Type.Optional(Time),
  /** Last completed optimizer step (steps count from 1; 0 = none completed yet). */
  step: Type.Integer({ minimum: 0 }),
  /** Planned number of steps; null if unknown. */
  totalSteps: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()], { errorMessage: 'must be an integer or null' }),
  error: Type.Optional(RunErrorSchema),
  checkpoints: Type.Object({ last: Type.Optional(CheckpointRefSchema), best: Type.Optional(BestCheckpointRefSchema) }),
});
export type RunMeta = Omit<Static<typeof RunMetaSchema>, 'versions'> & { versions: RunVersions };

/**
 * meta.json as readers accept it (docs/run-format.md §3): RunMetaSchema with `configPath`, `pid`,
 * `totalSteps`, `versions` and `checkpoints` optional (readers fill in null / {}).
 */
export const RunMetaReadSchema = Type.Composite([
  Type.Omit(RunMetaSchema, ['configPath', 'pid', 'totalSteps', 'versions', 'checkpoints']),
  Type.Partial(Type.Pick(RunMetaSchema, ['configPath', 'pid', 'totalSteps', 'versions', 'checkpoints'])),
]);

/** Fields shared by every event line. */
const EventBase = {
  /** Event schema version (EVENT_SCHEMA_VERSION). */
  v: Type.Integer({ minimum: 1 }),
  /** ISO 8601 time the event was written. */
  time: Time,
};

/** First event of a run. */
export const StartEventSchema = Type.Object({
  ...EventBase,
  type: Type.Literal('start'),
  /** Short summary of the config (the full config is in config.json). */
  config: JsonObject,
  backend: Type.String(),
});
export type StartEvent = Static<typeof StartEventSchema>;

/**
 * One logged training step. Non-finite numbers (NaN, ±Infinity) are not representable in JSON and
 * are written as null — anywhere in the event, including inside `diagnostics` (see `Measured`).
 */
export const StepEventSchema = Type.Object({
  ...EventBase,
  type: Type.Literal('step'),
  /** Optimizer step just completed (1-based). */
  step: Type.Integer({ minimum: 0 }),
  /** 0-based epoch the step belongs to. */
  epoch: Type.Integer({ minimum: 0 }),
  /** Total loss; null when non-finite. */
  loss: NumberOrNull(),
  /** Query→item direction of the loss; null when non-finite. */
  lossQ: NumberOrNull(),
  /** Symmetric (item→query) part of the loss; null when non-finite or not used. */
  lossSym: NumberOrNull(),
  /** Learning rate used for this step. */
  lr: Measured(),
  /** Global L2 norm of the gradients before clipping; null when non-finite. */
  gradNorm: NumberOrNull(),
  /** Wall-clock duration of the step in milliseconds. */
  stepMs: Measured(),
  /** Training examples (query/positive pairs) processed per second during this step. */
  examplesPerSec: Measured(),
  diagnostics: StepDiagnosticsSchema,
  verdict: CollapseVerdictSchema,
  /** The learned α / δ₀ / τ₀ after this step (loss.trainable); absent when nothing is learned. */
  learned: Type.Optional(
    Type.Object({
      alpha: Type.Optional(Type.Number()),
      delta0: Type.Optional(Type.Number()),
      tau0: Type.Optional(Type.Number()),
    }),
  ),
  /**
   * A bounded sample of the step's pairs with data references and scores (src/core/metrics/stepSamples.ts,
   * docs/run-format.md §4.2); absent when diagnostics.stepSamples is false or in runs written before it.
   */
  samples: Type.Optional(StepSamplesSchema),
  /** In-batch negatives that look like false negatives (docs/diagnostics.md); absent as `samples`. */
  suspectedFalseNegatives: Type.Optional(SuspectedFalseNegativesSchema),
});
export type StepEvent = Static<typeof StepEventSchema>;

/**
 * The problem of a step event, located under `root`, or null when it is valid: its schema plus the
 * one rule a schema cannot say, that every histogram has lo < hi.
 */
export function stepEventProblem(x: unknown, root: string): string | null {
  return schemaProblem(StepEventSchema, x, root, EVENT_CHECKS.step) ?? histogramProblem(x as StepEvent, root);
}

/** The rule of a step event that its schema cannot say: every histogram has lo < hi (for a value that matches the schema). */
export function histogramProblem(e: StepEvent, root: string): string | null {
  const dist = e.diagnostics.dist;
  for (const k of ['delta', 'tau', 'sQV', 'sQNeg', 'sVNeg'] as const) {
    const h = dist[k]?.hist;
    if (h && !(h.lo < h.hi)) return `${root ? root + '.' : ''}diagnostics.dist.${k}.hist needs lo < hi`;
  }
  return null;
}

export const LogLevelSchema = oneOf(['debug', 'info', 'warn', 'error'] as const);
export type LogLevel = Static<typeof LogLevelSchema>;

/** A human-readable message. */
export const LogEventSchema = Type.Object({
  ...EventBase,
  type: Type.Literal('log'),
  level: LogLevelSchema,
  message: Type.String(),
});
export type LogEvent = Static<typeof LogEventSchema>;

/** The held-out sample of live evaluation (src/core/quality/heldOutSample.ts). */
export const HeldOutSchema = Type.Object({
  queries: Type.Integer({ minimum: 0 }),
  /** Items searched (the sample). */
  corpus: Type.Integer({ minimum: 0 }),
  /** Items of the whole corpus. */
  corpusTotal: Type.Integer({ minimum: 0 }),
  sampled: Type.Boolean(),
  /** E.g. "1,000 queries × 20,000 of 50,829 items (sampled, all positives kept)". */
  description: Type.String(),
});

/** Result of an evaluation. */
export const EvalEventSchema = Type.Object({
  ...EventBase,
  type: Type.Literal('eval'),
  /** Step after which the evaluation ran. */
  step: Type.Integer({ minimum: 0 }),
  /**
   * Metric name → value (shape owned by the evaluator, e.g. { "recall@10": 0.41, "mrr@10": 0.22 }):
   * numbers, null when undefined; readers skip values of other types rather than the event.
   */
  metrics: JsonObject,
  /**
   * Live held-out evaluation during training only: the sample searched (its `bm25/…` metrics are BM25 on the
   * same sample, computed once per run: the reference line), and the quality verdict after this evaluation.
   */
  heldOut: Type.Optional(HeldOutSchema),
  quality: Type.Optional(QualityVerdictSchema),
});
export type EvalEvent = Static<typeof EvalEventSchema>;

/** A checkpoint was written. */
export const CheckpointEventSchema = Type.Object({
  ...EventBase,
  type: Type.Literal('checkpoint'),
  step: Type.Integer({ minimum: 0 }),
  kind: oneOf(['last', 'best'] as const),
  /** Relative to the run folder, `/` separators. */
  path: Type.String(),
  /** For kind "best": the metric and its value. */
  metric: Type.Optional(Type.String()),
  value: Type.Optional(Type.Number()),
});
export type CheckpointEvent = Static<typeof CheckpointEventSchema>;

/** Last event of a run that ended normally (completed, stopped by the user, or failed). */
export const EndEventSchema = Type.Object({
  ...EventBase,
  type: Type.Literal('end'),
  status: FinalRunStatusSchema,
  /** Last completed step. */
  step: Type.Integer({ minimum: 0 }),
  error: Type.Optional(RunErrorSchema),
});
export type EndEvent = Static<typeof EndEventSchema>;

/**
 * The user's own numbers at a step (learning rate, gradient norm, anything; `retrieval_lens.Lens.log_scalars`):
 * name → value, null when non-finite (the dashboard charts them in "Your scalars").
 */
export const ScalarsEventSchema = Type.Object({
  ...EventBase,
  type: Type.Literal('scalars'),
  step: Type.Integer({ minimum: 0 }),
  values: Type.Record(Type.String({ minLength: 1 }), NumberOrNull()),
});
export type ScalarsEvent = Static<typeof ScalarsEventSchema>;

/** Schema of each event type. */
export const EVENT_SCHEMAS = {
  start: StartEventSchema,
  step: StepEventSchema,
  log: LogEventSchema,
  eval: EvalEventSchema,
  checkpoint: CheckpointEventSchema,
  end: EndEventSchema,
  scalars: ScalarsEventSchema,
} as const satisfies Record<string, TSchema>;

/** Any event of events.jsonl. */
export type RunEvent = StartEvent | StepEvent | LogEvent | EvalEvent | CheckpointEvent | EndEvent | ScalarsEvent;
export type RunEventType = RunEvent['type'];

/** The problem of an event of a known type, located under `root` ("" for top-level field names), or null. */
export function eventProblem(type: RunEventType, x: unknown, root = ''): string | null {
  return type === 'step' ? stepEventProblem(x, root) : schemaProblem(EVENT_SCHEMAS[type], x, root, EVENT_CHECKS[type]);
}

/** Distributive Omit, so that omitting keeps the union discriminated. */
type OmitEach<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** An event as given to a writer: `v` is added by the writer, `time` defaults to now. */
export type RunEventInput = OmitEach<RunEvent, 'v' | 'time'> & { time?: string };
