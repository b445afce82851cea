/**
 * One line of events.jsonl: serialisation of an event and tolerant parsing/validation of a line.
 */
import { EVENT_SCHEMA_VERSION, type RunEvent, type RunEventInput } from './eventTypes';
import { isPlainObject } from '../jsonGuards';
import { upgradeStepEvent } from './stepEventUpgrade';

/**
 * Serialise an event as one JSON line including the trailing "\n". Puts `"v"` (always
 * EVENT_SCHEMA_VERSION), `"type"` and `"time"` (now, unless given) first. Non-finite numbers
 * become null (JSON has no NaN/Infinity).
 */
export function serializeEvent(e: RunEventInput, now: Date = new Date()): string {
  // Callers may pass a full event (with its own `v`); the writer's schema version always wins.
  const { type, time, v: _ignored, ...rest } = e as RunEventInput & { v?: unknown };
  return JSON.stringify({ v: EVENT_SCHEMA_VERSION, type, time: time ?? now.toISOString(), ...rest }) + '\n';
}

/** Outcome of parsing one line. */
export type ParsedLine =
  | { kind: 'event'; event: RunEvent }
  /** A well-formed event of a type this reader does not know (newer writer): skipped silently. */
  | { kind: 'unknown-type'; type: string }
  | { kind: 'bad'; reason: string };

type FieldCheck = [field: string, ok: (v: unknown) => boolean, what: string];

const isNumber = (v: unknown): boolean => typeof v === 'number';
const isString = (v: unknown): boolean => typeof v === 'string';
const isObject = isPlainObject;

/** Fields each known event type must carry (beyond v/type/time) for readers to use it. */
const REQUIRED: Record<RunEvent['type'], FieldCheck[]> = {
  start: [],
  step: [['step', isNumber, 'a number']],
  log: [
    ['level', isString, 'a string'],
    ['message', isString, 'a string'],
  ],
  eval: [
    ['step', isNumber, 'a number'],
    ['metrics', isObject, 'an object'],
  ],
  checkpoint: [
    ['step', isNumber, 'a number'],
    ['kind', (v) => v === 'last' || v === 'best', '"last" or "best"'],
    ['path', isString, 'a string'],
  ],
  end: [
    ['status', (v) => v === 'completed' || v === 'stopped' || v === 'failed', '"completed", "stopped" or "failed"'],
    ['step', isNumber, 'a number'],
  ],
};

/**
 * Parse one line (without its "\n"; a trailing "\r" is tolerated). Checks JSON syntax, that it is an
 * object with integer `v` ≤ EVENT_SCHEMA_VERSION, string `type` and `time`, and the identity fields
 * of known types. Unknown fields are kept; unknown types are reported as 'unknown-type'. Step events
 * of an older schema are upgraded (stepEventUpgrade.ts: v1's R is recomputed with v2's definition).
 */
export function parseEventLine(line: string): ParsedLine {
  const text = line.endsWith('\r') ? line.slice(0, -1) : line;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { kind: 'bad', reason: `invalid JSON: ${(err as Error).message}` };
  }
  if (!isObject(value)) return { kind: 'bad', reason: 'not a JSON object' };
  const o = value as Record<string, unknown>;
  if (!Number.isInteger(o.v) || (o.v as number) < 1) return { kind: 'bad', reason: '"v" must be a positive integer' };
  if ((o.v as number) > EVENT_SCHEMA_VERSION) {
    return { kind: 'bad', reason: `event schema v=${o.v} is newer than the supported v=${EVENT_SCHEMA_VERSION}` };
  }
  if (typeof o.type !== 'string') return { kind: 'bad', reason: '"type" must be a string' };
  if (typeof o.time !== 'string') return { kind: 'bad', reason: '"time" must be a string' };
  if (!Object.prototype.hasOwnProperty.call(REQUIRED, o.type)) return { kind: 'unknown-type', type: o.type };
  for (const [field, ok, what] of REQUIRED[o.type as RunEvent['type']]) {
    if (!ok(o[field])) return { kind: 'bad', reason: `${o.type} event: "${field}" must be ${what}` };
  }
  upgradeStepEvent(o);
  return { kind: 'event', event: o as unknown as RunEvent };
}
