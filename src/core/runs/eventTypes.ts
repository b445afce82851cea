/**
 * Types of everything stored in a run folder: meta.json and the events of events.jsonl.
 * The on-disk format is specified in docs/run-format.md; keep the two in sync.
 */
import type { CollapseVerdict, StepDiagnostics } from '../metrics/types';

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

/** Status as written by the trainer. */
export type RunStatus = 'running' | 'completed' | 'stopped' | 'failed';
/** Final statuses a trainer may finish with. */
export type FinalRunStatus = Exclude<RunStatus, 'running'>;
/**
 * Status as reported to readers: the written status, or `crashed` when meta says running but the
 * writer is gone, or `unknown` when meta.json is missing, invalid or of a newer format.
 */
export type DerivedRunStatus = RunStatus | 'crashed' | 'unknown';

/** Why a run failed. */
export interface RunError {
  message: string;
  /** Step at which the failure happened (the step being computed, not the last completed one). */
  step?: number;
  /** Name of the offending quantity when a value became non-finite, e.g. "loss" or "gradNorm". */
  quantity?: string;
}

/** A saved checkpoint; `path` is relative to the run folder with `/` separators, e.g. "checkpoints/last". */
export interface CheckpointRef {
  step: number;
  path: string;
}

/** The best checkpoint so far, with the metric that made it best. */
export interface BestCheckpointRef extends CheckpointRef {
  /** Metric name, e.g. "recall@10". */
  metric: string;
  value: number;
}

/** Software versions; node/tfjs/retrievalLens plus any free-form extra entries (e.g. "torch", "cuda"). */
export interface RunVersions {
  node: string;
  tfjs: string;
  retrievalLens: string;
  [name: string]: string;
}

/** Contents of meta.json. */
export interface RunMeta {
  formatVersion: number;
  /** Experiment name as given (not slugged). */
  name: string;
  /** Path of the experiment config file the run was started from; null when built in memory. */
  configPath: string | null;
  status: RunStatus;
  /** Compute backend, e.g. "cpu", "wasm", "tensorflow", "cuda". */
  backend: string;
  versions: RunVersions;
  /** OS process id of the writer; null if unknown. */
  pid: number | null;
  /** Host name of the writer (os.hostname()). */
  host: string;
  /** ISO 8601 timestamps. */
  startedAt: string;
  heartbeatAt: string;
  endedAt?: string;
  /** Last completed optimizer step (steps count from 1; 0 = none completed yet). */
  step: number;
  /** Planned number of steps; null if unknown. */
  totalSteps: number | null;
  error?: RunError;
  checkpoints: { last?: CheckpointRef; best?: BestCheckpointRef };
}

/** Fields shared by every event line. */
export interface EventBase {
  /** Event schema version (EVENT_SCHEMA_VERSION). */
  v: number;
  /** ISO 8601 time the event was written. */
  time: string;
}

/** First event of a run. */
export interface StartEvent extends EventBase {
  type: 'start';
  /** Short summary of the config (the full config is in config.json). */
  config: { [key: string]: JsonValue };
  backend: string;
}

/**
 * One logged training step. Non-finite numbers (NaN, ±Infinity) are not representable in JSON and
 * are written as null — anywhere in the event, including inside `diagnostics`.
 */
export interface StepEvent extends EventBase {
  type: 'step';
  /** Optimizer step just completed (1-based). */
  step: number;
  /** 0-based epoch the step belongs to. */
  epoch: number;
  /** Total loss; null when non-finite. */
  loss: number | null;
  /** Query→item direction of the loss; null when non-finite. */
  lossQ: number | null;
  /** Symmetric (item→query) part of the loss; null when non-finite or not used. */
  lossSym: number | null;
  /** Learning rate used for this step. */
  lr: number;
  /** Global L2 norm of the gradients before clipping; null when non-finite. */
  gradNorm: number | null;
  /** Wall-clock duration of the step in milliseconds. */
  stepMs: number;
  /** Training examples (query/positive pairs) processed per second during this step. */
  examplesPerSec: number;
  diagnostics: StepDiagnostics;
  verdict: CollapseVerdict;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** A human-readable message. */
export interface LogEvent extends EventBase {
  type: 'log';
  level: LogLevel;
  message: string;
}

/** Result of an evaluation. */
export interface EvalEvent extends EventBase {
  type: 'eval';
  /** Step after which the evaluation ran. */
  step: number;
  /** Metric name → value (shape owned by the evaluator, e.g. { "recall@10": 0.41, "mrr@10": 0.22 }). */
  metrics: { [key: string]: JsonValue };
}

/** A checkpoint was written. */
export interface CheckpointEvent extends EventBase {
  type: 'checkpoint';
  step: number;
  kind: 'last' | 'best';
  /** Relative to the run folder, `/` separators. */
  path: string;
  /** For kind "best": the metric and its value. */
  metric?: string;
  value?: number;
}

/** Last event of a run that ended normally (completed, stopped by the user, or failed). */
export interface EndEvent extends EventBase {
  type: 'end';
  status: FinalRunStatus;
  /** Last completed step. */
  step: number;
  error?: RunError;
}

/** Any event of events.jsonl. */
export type RunEvent = StartEvent | StepEvent | LogEvent | EvalEvent | CheckpointEvent | EndEvent;
export type RunEventType = RunEvent['type'];

/** Distributive Omit, so that omitting keeps the union discriminated. */
type OmitEach<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** An event as given to a writer: `v` is added by the writer, `time` defaults to now. */
export type RunEventInput = OmitEach<RunEvent, 'v' | 'time'> & { time?: string };
