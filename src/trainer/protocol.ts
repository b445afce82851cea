/**
 * The one protocol between a parent (extension or CLI) and the background trainer process
 * (child_process.fork, JSON over the IPC channel). Every message that arrives is checked with
 * `parseToTrainer` / `parseFromTrainer` before use; unknown or malformed messages are rejected with a
 * reason, never acted upon.
 */
import type { ConfigProblem } from '../core/config/configError';
import type { FinalRunStatus, LogLevel, RunError, StepEvent } from '../core/runs/eventTypes';

/** Parent → trainer: train a config into a new run. */
export interface StartMessage {
  type: 'start';
  configPath: string;
  /** `key=value` overrides, as `--set` on the CLI. */
  overrides: string[];
  steps?: number;
  /** Folder for run folders (default: the config's output.runsDir). */
  runsRoot?: string;
}

/** Parent → trainer: finish the current step, write the last checkpoint, end with status "stopped". */
export interface StopMessage {
  type: 'stop';
}

export type ToTrainer = StartMessage | StopMessage;

/** Trainer → parent. */
export type FromTrainer =
  | { type: 'ready'; pid: number }
  | { type: 'started'; runDir: string; totalSteps: number; backend: string; examples: number; badLines: number }
  | { type: 'step'; event: StepEvent }
  | { type: 'log'; level: LogLevel; message: string }
  /** A problem before any run existed (bad config, missing data, no backend). */
  | { type: 'error'; message: string; problems?: ConfigProblem[] }
  | { type: 'done'; status: FinalRunStatus; runDir: string | null; step: number; error?: RunError };

export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const isStr = (x: unknown): x is string => typeof x === 'string';
const isNum = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
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
  if (x.type !== 'start') return fail(`unknown message type ${JSON.stringify(x.type)}`);
  if (!isStr(x.configPath) || x.configPath === '') return fail('start.configPath must be a non-empty string');
  if (!Array.isArray(x.overrides) || !x.overrides.every(isStr)) return fail('start.overrides must be an array of strings');
  if (x.steps !== undefined && !(Number.isInteger(x.steps) && (x.steps as number) > 0)) return fail('start.steps must be a positive integer');
  if (x.runsRoot !== undefined && !isStr(x.runsRoot)) return fail('start.runsRoot must be a string');
  return { ok: true, value: { type: 'start', configPath: x.configPath, overrides: x.overrides as string[], steps: x.steps as number | undefined, runsRoot: x.runsRoot as string | undefined } };
}

/** Shallow check of a step event: the fields the parent reads without further checks. */
function isStepEvent(e: unknown): e is StepEvent {
  return (
    isObj(e) && e.type === 'step' && Number.isInteger(e.step) && isNum(e.epoch) && isNumOrNull(e.loss) &&
    isNumOrNull(e.lossQ) && isNumOrNull(e.lossSym) && isNum(e.lr) && isNumOrNull(e.gradNorm) && isNum(e.stepMs) &&
    isObj(e.diagnostics) && isObj(e.diagnostics.dist) && isObj(e.diagnostics.collapse) && isObj(e.diagnostics.recall) &&
    isObj(e.verdict) && ['healthy', 'warning', 'collapsed'].includes(e.verdict.state as string) && isStr(e.verdict.reason)
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
    case 'log':
      return LOG_LEVELS.includes(x.level as string) && isStr(x.message) ? { ok: true, value: x as FromTrainer } : fail('log: level and message required');
    case 'error':
      return isStr(x.message) && (x.problems === undefined || Array.isArray(x.problems)) ? { ok: true, value: x as FromTrainer } : fail('error.message must be a string');
    case 'done':
      return FINAL.includes(x.status as string) && (x.runDir === null || isStr(x.runDir)) && isNum(x.step) && (x.error === undefined || (isObj(x.error) && isStr(x.error.message)))
        ? { ok: true, value: x as FromTrainer }
        : fail('done: status, runDir, step required');
    default:
      return fail(`unknown message type ${JSON.stringify(x.type)}`);
  }
}
