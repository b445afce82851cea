/**
 * The protocol between the extension and the Dashboard webview (both directions are JSON messages
 * through `webview.postMessage` / `acquireVsCodeApi().postMessage`). Both sides import this module and
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
import { COLLAPSE_STATES } from '../../core/metrics/collapseMonitor';
import type { StepEvent } from '../../core/runs/eventTypes';
import { isFiniteNumber, isPlainObject } from '../../core/jsonGuards';

export type { StepEvent };

/** Statuses a run header can show (the derived status of src/core/runs/status.ts). */
export const RUN_STATUSES = ['running', 'completed', 'stopped', 'failed', 'crashed', 'unknown'] as const;
export type RunHeaderStatus = (typeof RUN_STATUSES)[number];

/** Header facts of the run shown. */
export interface RunHeader {
  /** Absolute path of the run folder. */
  runDir: string;
  /** Experiment name. */
  name: string;
  status: RunHeaderStatus;
  /** Compute backend, e.g. "wasm". */
  backend: string;
  /** Last completed step. */
  step: number;
  /** Planned steps; null if unknown. */
  totalSteps: number | null;
  /** ISO 8601 start time. */
  startedAt: string | null;
  configPath: string | null;
}

/**
 * One evaluation: metric name → value, e.g. {"recall@10": 0.41, "mrr@10": 0.22}. `null` stands for an
 * undefined value (as in eval events of events.jsonl); the dashboard leaves it out.
 */
export interface EvalPoint {
  step: number;
  metrics: Record<string, number | null>;
}

/** extension → webview */
export type ToDashboard =
  /** Full history: on open, on reload (answer to `ready`) and when switching runs. `run` null: no run to show. */
  | { type: 'reset'; run: RunHeader | null; steps: StepEvent[]; evals: EvalPoint[] }
  /** Newly logged steps, in step order. */
  | { type: 'steps'; steps: StepEvent[] }
  /** The header changed (status, step, …). */
  | { type: 'status'; run: RunHeader }
  /** A finished evaluation. */
  | { type: 'eval'; point: EvalPoint };

/** webview → extension */
export type FromDashboard =
  /** The webview is loaded and listening: send a `reset`. */
  | { type: 'ready' }
  /** Stop the running training (the Stop button; only enabled while status is running). */
  | { type: 'stop' }
  /** Show the Retrieval Lens log. */
  | { type: 'openLog' }
  /** Evaluate the run shown. */
  | { type: 'evaluate' };

export type ParseResult<T> = { ok: true; value: T } | { ok: false; reason: string };

type Obj = Record<string, unknown>;

const isObj: (x: unknown) => x is Obj = isPlainObject;
const isNum = isFiniteNumber;
const isNumOrNull = (x: unknown): boolean => x === null || isNum(x);
const isStrOrNull = (x: unknown): boolean => x === null || typeof x === 'string';

/** A validator returns null when `x` is fine, else the problem (with the path of the bad field). */
type Check = (x: unknown, path: string) => string | null;

const SUMMARY_STATS = ['count', 'mean', 'std', 'min', 'p05', 'p25', 'p50', 'p75', 'p95', 'max'] as const;
const COLLAPSE_FIELDS = ['ratio', 'gap', 'violationRate', 'itemCosine', 'uniformity', 'dimStd', 'effectiveRank'] as const;
const RECALL_FIELDS = ['at1', 'at5', 'at10'] as const;
const VERDICT_STATES: readonly string[] = COLLAPSE_STATES;

/** Every listed field is a number or null. */
function numbersOrNull(o: Obj, fields: readonly string[], path: string): string | null {
  for (const f of fields) if (!isNumOrNull(o[f])) return `${path}.${f} must be a number or null`;
  return null;
}

/** A DistributionSummary (numbers may be null: non-finite values are written as null). */
const checkSummary: Check = (x, path) => {
  if (!isObj(x)) return `${path} must be an object`;
  const stats = numbersOrNull(x, SUMMARY_STATS, path);
  if (stats) return stats;
  const h = x.hist;
  if (!isObj(h)) return `${path}.hist must be an object`;
  if (!isNum(h.lo) || !isNum(h.hi) || !(h.lo < h.hi)) return `${path}.hist needs finite lo < hi`;
  if (!Array.isArray(h.counts) || h.counts.length === 0 || !h.counts.every(isNum)) return `${path}.hist.counts must be a non-empty array of numbers`;
  return null;
};

const checkSummaryOrNull: Check = (x, path) => (x === null ? null : checkSummary(x, path));

/** The fields of a step event the dashboard reads. */
const checkStepEvent: Check = (x, path) => {
  if (!isObj(x)) return `${path} must be an object`;
  if (x.type !== 'step') return `${path}.type must be "step"`;
  if (!Number.isInteger(x.step) || (x.step as number) < 0) return `${path}.step must be a non-negative integer`;
  if (typeof x.time !== 'string') return `${path}.time must be a string`;
  for (const f of ['loss', 'lossQ', 'lossSym', 'gradNorm', 'lr', 'stepMs', 'examplesPerSec', 'epoch']) {
    if (!isNumOrNull(x[f])) return `${path}.${f} must be a number or null`;
  }
  const d = x.diagnostics;
  if (!isObj(d)) return `${path}.diagnostics must be an object`;
  const dist = d.dist;
  if (!isObj(dist)) return `${path}.diagnostics.dist must be an object`;
  for (const f of ['delta', 'tau']) {
    const p = checkSummaryOrNull(dist[f], `${path}.diagnostics.dist.${f}`);
    if (p) return p;
  }
  for (const f of ['sQV', 'sQNeg', 'sVNeg']) {
    const p = checkSummary(dist[f], `${path}.diagnostics.dist.${f}`);
    if (p) return p;
  }
  if (!isObj(d.collapse)) return `${path}.diagnostics.collapse must be an object`;
  const c = numbersOrNull(d.collapse, COLLAPSE_FIELDS, `${path}.diagnostics.collapse`);
  if (c) return c;
  if (!isObj(d.recall)) return `${path}.diagnostics.recall must be an object`;
  const r = numbersOrNull(d.recall, RECALL_FIELDS, `${path}.diagnostics.recall`);
  if (r) return r;
  const v = x.verdict;
  if (!isObj(v) || !VERDICT_STATES.includes(v.state as string) || typeof v.reason !== 'string') {
    return `${path}.verdict must be {state: ${VERDICT_STATES.join('|')}, reason: string}`;
  }
  return null;
};

/** Validates a RunHeader; exported for the webview's saved state. */
export function runHeaderProblem(x: unknown, path = 'run'): string | null {
  if (!isObj(x)) return `${path} must be an object`;
  if (typeof x.runDir !== 'string') return `${path}.runDir must be a string`;
  if (typeof x.name !== 'string') return `${path}.name must be a string`;
  if (!(RUN_STATUSES as readonly unknown[]).includes(x.status)) return `${path}.status must be one of ${RUN_STATUSES.join('|')}`;
  if (typeof x.backend !== 'string') return `${path}.backend must be a string`;
  if (!isNum(x.step) || x.step < 0) return `${path}.step must be a non-negative number`;
  if (!(x.totalSteps === null || (isNum(x.totalSteps) && x.totalSteps >= 0))) return `${path}.totalSteps must be a non-negative number or null`;
  if (!isStrOrNull(x.startedAt)) return `${path}.startedAt must be a string or null`;
  if (!isStrOrNull(x.configPath)) return `${path}.configPath must be a string or null`;
  return null;
}

const checkEvalPoint: Check = (x, path) => {
  if (!isObj(x)) return `${path} must be an object`;
  if (!isNum(x.step) || x.step < 0) return `${path}.step must be a non-negative number`;
  if (!isObj(x.metrics)) return `${path}.metrics must be an object`;
  for (const [k, v] of Object.entries(x.metrics)) if (!isNumOrNull(v)) return `${path}.metrics["${k}"] must be a number or null`;
  return null;
};

/** Every element of an array passes `check`. */
function checkArray(x: unknown, path: string, check: Check): string | null {
  if (!Array.isArray(x)) return `${path} must be an array`;
  for (let i = 0; i < x.length; i++) {
    const p = check(x[i], `${path}[${i}]`);
    if (p) return p;
  }
  return null;
}

function result<T>(problem: string | null, value: unknown): ParseResult<T> {
  return problem === null ? { ok: true, value: value as T } : { ok: false, reason: problem };
}

/** Validates a message sent to the dashboard webview. */
export function parseToDashboard(x: unknown): ParseResult<ToDashboard> {
  if (!isObj(x)) return { ok: false, reason: 'message is not an object' };
  switch (x.type) {
    case 'reset':
      return result(
        (x.run === null ? null : runHeaderProblem(x.run, 'reset.run')) ??
          checkArray(x.steps, 'reset.steps', checkStepEvent) ??
          checkArray(x.evals, 'reset.evals', checkEvalPoint),
        x,
      );
    case 'steps':
      return result(checkArray(x.steps, 'steps.steps', checkStepEvent), x);
    case 'status':
      return result(runHeaderProblem(x.run, 'status.run'), x);
    case 'eval':
      return result(checkEvalPoint(x.point, 'eval.point'), x);
    default:
      return { ok: false, reason: `unknown message type ${JSON.stringify(x.type)}` };
  }
}

const FROM_TYPES: readonly string[] = ['ready', 'stop', 'openLog', 'evaluate'];

/** Validates a message sent by the dashboard webview. */
export function parseFromDashboard(x: unknown): ParseResult<FromDashboard> {
  if (!isObj(x)) return { ok: false, reason: 'message is not an object' };
  if (typeof x.type !== 'string' || !FROM_TYPES.includes(x.type)) return { ok: false, reason: `unknown message type ${JSON.stringify(x.type)}` };
  if (Object.keys(x).length !== 1) return { ok: false, reason: `${x.type} takes no fields` };
  return { ok: true, value: { type: x.type } as FromDashboard };
}
