/**
 * The one protocol between a parent (extension or CLI) and the background trainer process
 * (child_process.fork, JSON over the IPC channel). Every message that arrives is checked with
 * `parseToTrainer` / `parseFromTrainer` before use; unknown or malformed messages are rejected with a
 * reason, never acted upon.
 */
import { COLLAPSE_STATES } from '../core/metrics/collapseMonitor';
import type { EmbeddingMapData } from '../core/embeddingMap/types';
import type { ConfigProblem } from '../core/config/configError';
import { EVAL_PHASES, type EvalPhase } from '../core/eval/phases';
import type { EvalEntry } from '../core/eval/types';
import type { FinalRunStatus, LogLevel, RunError, StepEvent } from '../core/runs/eventTypes';
import { isFiniteNumber, isPlainObject } from '../core/jsonGuards';

/** Parent → trainer: train a config into a new run. */
export interface StartMessage {
  type: 'start';
  configPath: string;
  /** `key=value` overrides, as `--set` on the CLI. */
  overrides: string[];
  steps?: number;
  /** Folder for run folders (default: the config's output.runsDir). */
  runsRoot?: string;
  /**
   * Keep training when the parent goes away (IPC channel closed, e.g. a VS Code window reload); the
   * run is then followed through its folder and stopped with SIGINT. Default false: a lost parent
   * stops the run (the CLI's behaviour).
   */
  outliveParent?: boolean;
}

/** Parent → trainer: finish the current step, write the last checkpoint, end with status "stopped". */
export interface StopMessage {
  type: 'stop';
}

/** Parent → trainer: evaluate a run's checkpoint with Faiss (one job per process, like 'start'). */
export interface EvaluateMessage {
  type: 'evaluate';
  runDir: string;
  /** Checkpoint folder under checkpoints/ (default "best" when present, else "last"). */
  checkpoint?: 'last' | 'best';
  /** Test data to evaluate on instead of the config's data.test. */
  data?: string;
}

/** Parent → trainer: encode a sample of a checkpoint's items and test queries, export them for the projector, optionally project to 2-D. */
export interface ExportEmbeddingsMessage {
  type: 'exportEmbeddings';
  runDir: string;
  checkpoint?: 'last' | 'best';
  /** Folder for vectors.tsv and metadata.tsv. */
  outDir: string;
  items: number;
  queries: number;
  /** 2-D map to compute and send back ('none': export only). */
  projection: 'none' | 'pca' | 'umap';
}

export type ToTrainer = StartMessage | StopMessage | EvaluateMessage | ExportEmbeddingsMessage;


export { EVAL_PHASES, type EvalPhase };
export type { EmbeddingMapData };

/** Trainer → parent. */
export type FromTrainer =
  | { type: 'ready'; pid: number }
  | { type: 'started'; runDir: string; totalSteps: number; backend: string; examples: number; badLines: number }
  | { type: 'step'; event: StepEvent }
  /** A periodic evaluation during training finished (same metrics as the eval event). */
  | { type: 'eval'; step: number; metrics: Record<string, number> }
  | { type: 'log'; level: LogLevel; message: string }
  /** A problem that ended the job: before any run existed (bad config, missing data, no backend), or an evaluation error. */
  | { type: 'error'; message: string; problems?: ConfigProblem[] }
  | { type: 'done'; status: FinalRunStatus; runDir: string | null; step: number; error?: RunError }
  /** Evaluation progress (throttled like steps). */
  | { type: 'progress'; phase: EvalPhase; done: number; total: number }
  /** An evaluation finished: its metrics entry (also appended to eval/metrics.json) and the failures file. */
  | { type: 'evaluated'; runDir: string; entry: EvalEntry; failuresFile: string }
  /** Embeddings exported (and projected when asked). */
  | { type: 'embeddings'; runDir: string; step: number; vectors: string; metadata: string; count: number; map: EmbeddingMapData | null };

/** The trainer's last message of a job. */
export type DoneMessage = Extract<FromTrainer, { type: 'done' }>;

export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

const isObj = isPlainObject;
const isStr = (x: unknown): x is string => typeof x === 'string';
const isNum = isFiniteNumber;
const isNumOrNull = (x: unknown) => x === null || isNum(x);
const LOG_LEVELS = ['debug', 'info', 'warn', 'error'];
const FINAL = ['completed', 'stopped', 'failed'];

function fail<T>(reason: string): Parsed<T> {
  return { ok: false, reason };
}

/** Validates a message sent to the trainer. */
export function parseToTrainer(x: unknown): Parsed<ToTrainer> {
  if (!isObj(x)) return fail('message is not an object');
  if (x.type === 'stop') return { ok: true, value: { type: 'stop' } };
  if (x.type === 'evaluate') {
    if (!isStr(x.runDir) || x.runDir === '') return fail('evaluate.runDir must be a non-empty string');
    if (x.checkpoint !== undefined && x.checkpoint !== 'last' && x.checkpoint !== 'best') return fail('evaluate.checkpoint must be "last" or "best"');
    if (x.data !== undefined && !isStr(x.data)) return fail('evaluate.data must be a string');
    return { ok: true, value: { type: 'evaluate', runDir: x.runDir, checkpoint: x.checkpoint as 'last' | 'best' | undefined, data: x.data as string | undefined } };
  }
  if (x.type === 'exportEmbeddings') {
    if (!isStr(x.runDir) || x.runDir === '') return fail('exportEmbeddings.runDir must be a non-empty string');
    if (x.checkpoint !== undefined && x.checkpoint !== 'last' && x.checkpoint !== 'best') return fail('exportEmbeddings.checkpoint must be "last" or "best"');
    if (!isStr(x.outDir) || x.outDir === '') return fail('exportEmbeddings.outDir must be a non-empty string');
    for (const k of ['items', 'queries'] as const) if (!(Number.isInteger(x[k]) && (x[k] as number) >= 0)) return fail(`exportEmbeddings.${k} must be a non-negative integer`);
    if (!['none', 'pca', 'umap'].includes(x.projection as string)) return fail('exportEmbeddings.projection must be none, pca or umap');
    return { ok: true, value: { type: 'exportEmbeddings', runDir: x.runDir, checkpoint: x.checkpoint as 'last' | 'best' | undefined, outDir: x.outDir, items: x.items as number, queries: x.queries as number, projection: x.projection as 'none' | 'pca' | 'umap' } };
  }
  if (x.type !== 'start') return fail(`unknown message type ${JSON.stringify(x.type)}`);
  if (!isStr(x.configPath) || x.configPath === '') return fail('start.configPath must be a non-empty string');
  if (!Array.isArray(x.overrides) || !x.overrides.every(isStr)) return fail('start.overrides must be an array of strings');
  if (x.steps !== undefined && !(Number.isInteger(x.steps) && (x.steps as number) > 0)) return fail('start.steps must be a positive integer');
  if (x.runsRoot !== undefined && !isStr(x.runsRoot)) return fail('start.runsRoot must be a string');
  if (x.outliveParent !== undefined && typeof x.outliveParent !== 'boolean') return fail('start.outliveParent must be a boolean');
  return {
    ok: true,
    value: { type: 'start', configPath: x.configPath, overrides: x.overrides as string[], steps: x.steps as number | undefined, runsRoot: x.runsRoot as string | undefined, ...(x.outliveParent !== undefined ? { outliveParent: x.outliveParent as boolean } : {}) },
  };
}

/** Shallow check of a step event: the fields the parent reads without further checks. */
function isStepEvent(e: unknown): e is StepEvent {
  return (
    isObj(e) && e.type === 'step' && Number.isInteger(e.step) && isNum(e.epoch) && isNumOrNull(e.loss) &&
    isNumOrNull(e.lossQ) && isNumOrNull(e.lossSym) && isNum(e.lr) && isNumOrNull(e.gradNorm) && isNum(e.stepMs) &&
    isObj(e.diagnostics) && isObj(e.diagnostics.dist) && isObj(e.diagnostics.collapse) && isObj(e.diagnostics.recall) &&
    isObj(e.verdict) && (COLLAPSE_STATES as readonly string[]).includes(e.verdict.state as string) && isStr(e.verdict.reason)
  );
}

/** Validates a message from the trainer. */
export function parseFromTrainer(x: unknown): Parsed<FromTrainer> {
  if (!isObj(x)) return fail('message is not an object');
  switch (x.type) {
    case 'ready':
      return isNum(x.pid) ? { ok: true, value: x as FromTrainer } : fail('ready.pid must be a number');
    case 'started':
      return isStr(x.runDir) && isNum(x.totalSteps) && isStr(x.backend) && isNum(x.examples) && isNum(x.badLines)
        ? { ok: true, value: x as FromTrainer }
        : fail('started: runDir, totalSteps, backend, examples, badLines required');
    case 'step':
      return isStepEvent(x.event) ? { ok: true, value: x as FromTrainer } : fail('step.event is not a valid step event');
    case 'eval':
      return Number.isInteger(x.step) && isObj(x.metrics) && Object.values(x.metrics).every(isNum)
        ? { ok: true, value: x as FromTrainer }
        : fail('eval: step and numeric metrics required');
    case 'log':
      return LOG_LEVELS.includes(x.level as string) && isStr(x.message) ? { ok: true, value: x as FromTrainer } : fail('log: level and message required');
    case 'error':
      return isStr(x.message) && (x.problems === undefined || Array.isArray(x.problems)) ? { ok: true, value: x as FromTrainer } : fail('error.message must be a string');
    case 'done':
      return FINAL.includes(x.status as string) && (x.runDir === null || isStr(x.runDir)) && isNum(x.step) && (x.error === undefined || (isObj(x.error) && isStr(x.error.message)))
        ? { ok: true, value: x as FromTrainer }
        : fail('done: status, runDir, step required');
    case 'progress':
      return EVAL_PHASES.includes(x.phase as EvalPhase) && isNum(x.done) && isNum(x.total) ? { ok: true, value: x as FromTrainer } : fail('progress: phase, done, total required');
    case 'evaluated':
      return isStr(x.runDir) && isStr(x.failuresFile) && isObj(x.entry) && isNum(x.entry.step) && isObj(x.entry.exact)
        ? { ok: true, value: x as FromTrainer }
        : fail('evaluated: runDir, entry, failuresFile required');
    case 'embeddings':
      return isStr(x.runDir) && isNum(x.step) && isStr(x.vectors) && isStr(x.metadata) && isNum(x.count) &&
        (x.map === null || (isObj(x.map) && Array.isArray(x.map.coords) && Array.isArray(x.map.points) && x.map.coords.length === 2 * x.map.points.length))
        ? { ok: true, value: x as FromTrainer }
        : fail('embeddings: runDir, step, vectors, metadata, count and map (null or coords for every point) required');
    default:
      return fail(`unknown message type ${JSON.stringify(x.type)}`);
  }
}
