/**
 * The one protocol between a parent (extension or CLI) and the background trainer process
 * (child_process.fork, JSON over the IPC channel). Each message is one TypeBox schema giving both its
 * type and its check; every message that arrives is checked with `parseToTrainer` / `parseFromTrainer`
 * before use; unknown or malformed messages are rejected with a located reason, never acted upon.
 * Step events are the run-format schema (src/core/runs/eventSchema.ts), the same rule as events.jsonl.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { ConfigProblem } from '../core/config/configError';
import { AUDIT_PARTS, type AuditPart, type AuditReport } from '../core/data/audit/auditData';
import type { EmbeddingMapData } from '../core/embeddingMap/types';
import { EVAL_PHASES, type EvalPhase } from '../core/eval/phases';
import { QualityVerdictSchema } from '../core/quality/qualityVerdict';
import type { EvalEntry } from '../core/eval/types';
import { FinalRunStatusSchema, HeldOutSchema, LogLevelSchema, RunErrorSchema, StepEventSchema, histogramProblem } from '../core/runs/eventSchema';
import { defineChannel, type MessageOf, type ParseResult } from '../core/messageChannel';
import { FROM_TRAINER_CHECKS, TO_TRAINER_CHECKS } from './protocolChecks.generated';

const NonEmptyString = Type.String({ minLength: 1, errorMessage: 'must be a non-empty string' });
/** A checkpoint folder under checkpoints/. */
const Checkpoint = Type.Union([Type.Literal('last'), Type.Literal('best')], { errorMessage: 'must be "last" or "best"' });

/** Parent → trainer: train a config into a new run. */
export const StartMessageSchema = Type.Object({
  type: Type.Literal('start'),
  configPath: NonEmptyString,
  /** `key=value` overrides, as `--set` on the CLI. */
  overrides: Type.Array(Type.String(), { errorMessage: 'must be an array of strings' }),
  steps: Type.Optional(Type.Integer({ exclusiveMinimum: 0, errorMessage: 'must be a positive integer' })),
  /** Folder for run folders (default: the config's output.runsDir). */
  runsRoot: Type.Optional(Type.String()),
  /**
   * Keep training when the parent goes away (IPC channel closed, e.g. a VS Code window reload); the
   * run is then followed through its folder and stopped with SIGINT. Default false: a lost parent
   * stops the run (the CLI's behaviour).
   */
  outliveParent: Type.Optional(Type.Boolean()),
});
export type StartMessage = Static<typeof StartMessageSchema>;

/** Parent → trainer: finish the current step, write the last checkpoint, end with status "stopped". */
export const StopMessageSchema = Type.Object({ type: Type.Literal('stop') });
export type StopMessage = Static<typeof StopMessageSchema>;

/** Parent → trainer: evaluate a run's checkpoint with Faiss (one job per process, like 'start'). */
export const EvaluateMessageSchema = Type.Object({
  type: Type.Literal('evaluate'),
  runDir: NonEmptyString,
  /** Checkpoint folder under checkpoints/ (default "best" when present, else "last"). */
  checkpoint: Type.Optional(Checkpoint),
  /** Test data to evaluate on instead of the config's data.test. */
  data: Type.Optional(Type.String()),
  /** A folder of precomputed embeddings (docs/run-format.md §8.1) to evaluate instead of a checkpoint. */
  embeddings: Type.Optional(NonEmptyString),
});
export type EvaluateMessage = Static<typeof EvaluateMessageSchema>;

/** Parent → trainer: encode a sample of a checkpoint's items and test queries, export them for the projector, optionally project to 2-D. */
export const ExportEmbeddingsMessageSchema = Type.Object({
  type: Type.Literal('exportEmbeddings'),
  runDir: NonEmptyString,
  checkpoint: Type.Optional(Checkpoint),
  /** Folder for vectors.tsv and metadata.tsv. */
  outDir: NonEmptyString,
  items: Type.Integer({ minimum: 0, errorMessage: 'must be a non-negative integer' }),
  queries: Type.Integer({ minimum: 0, errorMessage: 'must be a non-negative integer' }),
  /** 2-D map to compute and send back ('none': export only). */
  projection: Type.Union([Type.Literal('none'), Type.Literal('pca'), Type.Literal('umap')], { errorMessage: 'must be none, pca or umap' }),
});
export type ExportEmbeddingsMessage = Static<typeof ExportEmbeddingsMessageSchema>;

/** Parent → trainer: audit a config's data (src/core/data/audit/auditData.ts): `auditProgress` now and then, `audited`, then `done`. */
export const AuditMessageSchema = Type.Object({
  type: Type.Literal('audit'),
  configPath: NonEmptyString,
  /** `key=value` overrides, as `--set` on the CLI. */
  overrides: Type.Array(Type.String(), { errorMessage: 'must be an array of strings' }),
});
export type AuditMessage = Static<typeof AuditMessageSchema>;

export type ToTrainer = StartMessage | StopMessage | EvaluateMessage | ExportEmbeddingsMessage | AuditMessage;

export { EVAL_PHASES, type EvalPhase };
export type { EmbeddingMapData };

/** Trainer → parent: the process is up and listening. */
const ReadySchema = Type.Object({ type: Type.Literal('ready'), pid: Type.Integer() });
/** A run folder was created for a `start` job. */
const StartedSchema = Type.Object({
  type: Type.Literal('started'),
  runDir: Type.String(),
  totalSteps: Type.Integer({ minimum: 0 }),
  backend: Type.String(),
  examples: Type.Integer({ minimum: 0 }),
  badLines: Type.Integer({ minimum: 0 }),
  /**
   * How exact `examples` is (src/core/data/exampleCount.ts); absent: exact. Streamed data not read yet:
   * 'at most' (one pair per line, bad lines not counted) or 'estimate' (a line may hold several pairs).
   */
  count: Type.Optional(Type.Union([Type.Literal('exact'), Type.Literal('at most'), Type.Literal('estimate')])),
  /** Streamed data: its data lines by the line indexes (exact). */
  dataLines: Type.Optional(Type.Integer({ minimum: 0 })),
  /** data.hardNegatives: BM25 negatives mined for how many training queries, in how long (ms; the recorded time when read from the cache). */
  hardNegatives: Type.Optional(
    Type.Object({
      mined: Type.Integer({ minimum: 0 }),
      queries: Type.Integer({ minimum: 0 }),
      ms: Type.Number({ minimum: 0 }),
      fromCache: Type.Boolean(),
    }),
  ),
});
/**
 * Streamed training data whose start count was not exact ('at most' / 'estimate' in 'started'): the first
 * epoch has been read, and these are its exact counts (training examples, data lines read, bad lines).
 */
const DataCountedSchema = Type.Object({
  type: Type.Literal('dataCounted'),
  examples: Type.Integer({ minimum: 0 }),
  linesRead: Type.Integer({ minimum: 0 }),
  badLines: Type.Integer({ minimum: 0 }),
});
/** A logged step, as written to events.jsonl. */
const StepSchema = Type.Object({ type: Type.Literal('step'), event: StepEventSchema });
/** A periodic evaluation during training finished (same metrics as the eval event). */
const EvalSchema = Type.Object({
  type: Type.Literal('eval'),
  step: Type.Integer({ minimum: 0 }),
  metrics: Type.Record(Type.String(), Type.Number(), { errorMessage: 'must be an object of numbers' }),
  /** Live held-out evaluation: the sample and the quality verdict after it (as in the eval event). */
  heldOut: Type.Optional(HeldOutSchema),
  quality: Type.Optional(QualityVerdictSchema),
});
const LogSchema = Type.Object({ type: Type.Literal('log'), level: LogLevelSchema, message: Type.String() });
/** A problem that ended the job: before any run existed (bad config, missing data, no backend), or an evaluation error. */
const ErrorSchema = Type.Object({
  type: Type.Literal('error'),
  message: Type.String(),
  /** Located config problems (src/core/config/configError.ts). */
  problems: Type.Optional(Type.Unsafe<ConfigProblem[]>(Type.Array(Type.Object({ path: Type.String(), message: Type.String() })))),
});
/** The trainer's last message of a job. */
const DoneSchema = Type.Object({
  type: Type.Literal('done'),
  status: FinalRunStatusSchema,
  runDir: Type.Union([Type.String(), Type.Null()], { errorMessage: 'must be a string or null' }),
  step: Type.Integer({ minimum: 0 }),
  error: Type.Optional(RunErrorSchema),
});
/** Evaluation progress (throttled like steps). */
const ProgressSchema = Type.Object({
  type: Type.Literal('progress'),
  phase: Type.Unsafe<EvalPhase>(
    Type.Union(
      EVAL_PHASES.map((p) => Type.Literal(p)),
      { errorMessage: `must be one of ${EVAL_PHASES.join('|')}` },
    ),
  ),
  done: Type.Number(),
  total: Type.Number(),
});
/** An evaluation finished: its metrics entry (also appended to eval/metrics.json) and the failures file. */
const EvaluatedSchema = Type.Object({
  type: Type.Literal('evaluated'),
  runDir: Type.String(),
  /** Checked for the fields the parent reads (step, exact); the evaluator owns the rest (src/core/eval/types.ts). */
  entry: Type.Unsafe<EvalEntry>(Type.Object({ step: Type.Integer({ minimum: 0 }), exact: Type.Union([Type.Object({}), Type.Null()]) })),
  failuresFile: Type.String(),
});

/** Embeddings exported (and projected when asked): the files written and the 2-D map or null. */
const EmbeddingsSchema = Type.Object({
  type: Type.Literal('embeddings'),
  runDir: Type.String(),
  step: Type.Integer({ minimum: 0 }),
  vectors: Type.String(),
  metadata: Type.String(),
  count: Type.Integer({ minimum: 0 }),
  /** Checked for what the parent reads (coords and points; coords.length = 2·points.length, checked by `parseFromTrainer`); src/core/embeddingMap/types.ts owns the rest. */
  map: Type.Union([Type.Unsafe<EmbeddingMapData>(Type.Object({ coords: Type.Array(Type.Number()), points: Type.Array(Type.Object({})) })), Type.Null()]),
});

/** Audit progress (throttled like steps): the lines read so far of the part being read. */
const AuditProgressSchema = Type.Object({
  type: Type.Literal('auditProgress'),
  part: Type.Unsafe<AuditPart>(
    Type.Union(
      AUDIT_PARTS.map((p) => Type.Literal(p)),
      { errorMessage: `must be ${AUDIT_PARTS.slice(0, -1).join(', ')} or ${AUDIT_PARTS.at(-1)}` },
    ),
  ),
  linesRead: Type.Integer({ minimum: 0 }),
});
/** The audit's report (sent before `done`; a stopped audit sends none). */
const AuditedSchema = Type.Object({
  type: Type.Literal('audited'),
  /** Checked for the fields the parent reads (pairs, findings, ms); src/core/data/audit/auditData.ts owns the rest. */
  report: Type.Unsafe<AuditReport>(
    Type.Object({
      pairs: Type.Integer({ minimum: 0 }),
      findings: Type.Array(Type.Object({ kind: Type.String(), count: Type.Integer({ minimum: 0 }), examples: Type.Array(Type.Object({})) })),
      ms: Type.Number({ minimum: 0 }),
    }),
  ),
});

export const TO_TRAINER_SCHEMAS = {
  start: StartMessageSchema,
  stop: StopMessageSchema,
  evaluate: EvaluateMessageSchema,
  exportEmbeddings: ExportEmbeddingsMessageSchema,
  audit: AuditMessageSchema,
} as const;
export const FROM_TRAINER_SCHEMAS = {
  ready: ReadySchema,
  started: StartedSchema,
  dataCounted: DataCountedSchema,
  step: StepSchema,
  eval: EvalSchema,
  log: LogSchema,
  error: ErrorSchema,
  done: DoneSchema,
  progress: ProgressSchema,
  evaluated: EvaluatedSchema,
  embeddings: EmbeddingsSchema,
  auditProgress: AuditProgressSchema,
  audited: AuditedSchema,
} as const;

/** Trainer → parent. */
export type FromTrainer = MessageOf<typeof FROM_TRAINER_SCHEMAS>;

/** The trainer's last message of a job. */
export type DoneMessage = Extract<FromTrainer, { type: 'done' }>;

/** The rules of a message from the trainer that its schema cannot say (for a message that matches it). */
function crossFieldProblem(x: FromTrainer): string | null {
  if (x.type === 'step') return histogramProblem(x.event, 'step.event');
  const map = x.type === 'embeddings' ? x.map : null;
  if (map && map.coords.length !== 2 * map.points.length)
    return `embeddings.map.coords: must hold x, y for each of the ${map.points.length} points (has ${map.coords.length} numbers)`;
  return null;
}

/** Validates a message sent to the trainer; the reason is located, e.g. `start.steps: must be a positive integer`. */
export const parseToTrainer: (x: unknown) => ParseResult<ToTrainer> = defineChannel(TO_TRAINER_SCHEMAS, TO_TRAINER_CHECKS);

/** Validates a message from the trainer. */
export const parseFromTrainer: (x: unknown) => ParseResult<FromTrainer> = defineChannel(FROM_TRAINER_SCHEMAS, FROM_TRAINER_CHECKS, crossFieldProblem);
