/**
 * One line of events.jsonl: serialisation of an event and tolerant parsing/validation of a line.
 */
import { EVENT_SCHEMA_VERSION, EVENT_SCHEMAS, eventProblem, type RunEvent, type RunEventInput } from './eventSchema';
import { isPlainObject } from '../jsonGuards';
import { upgradeStepEvent } from './stepEventUpgrade';

/**
 * Longest free text an event carries (a log message, an end event's error message): a longer one is cut
 * to this many characters and says so (boundText), so one event can never hide the others from readers
 * that scan the end of events.jsonl (python/retrieval_lens/run_writer.py cuts the same way).
 */
export const MAX_EVENT_TEXT_CHARS = 16 * 1024;

/** `text` unchanged when at most MAX_EVENT_TEXT_CHARS long, else its start and how much was cut. */
export function boundText(text: string): string {
  if (text.length <= MAX_EVENT_TEXT_CHARS) return text;
  return `${text.slice(0, MAX_EVENT_TEXT_CHARS)} … [cut: ${text.length} characters, the first ${MAX_EVENT_TEXT_CHARS} kept]`;
}

/** An event with its free texts bounded (boundText): the log message and the end event's error message. */
function boundEvent<E extends RunEventInput>(e: E): E {
  if (e.type === 'log' && e.message.length > MAX_EVENT_TEXT_CHARS) return { ...e, message: boundText(e.message) };
  if (e.type === 'end' && e.error && e.error.message.length > MAX_EVENT_TEXT_CHARS) return { ...e, error: { ...e.error, message: boundText(e.error.message) } };
  return e;
}

/**
 * Serialise an event as one JSON line including the trailing "\n". Puts `"v"` (always
 * EVENT_SCHEMA_VERSION), `"type"` and `"time"` (now, unless given) first. Non-finite numbers
 * become null (JSON has no NaN/Infinity); free texts are bounded (boundText).
 */
export function serializeEvent(e: RunEventInput, now: Date = new Date()): string {
  // Callers may pass a full event (with its own `v`); the writer's schema version always wins.
  const { type, time, v: _ignored, ...rest } = boundEvent(e) as RunEventInput & { v?: unknown };
  return JSON.stringify({ v: EVENT_SCHEMA_VERSION, type, time: time ?? now.toISOString(), ...rest }) + '\n';
}

/** Outcome of parsing one line. */
export type ParsedLine =
  | { kind: 'event'; event: RunEvent }
  /** A well-formed event of a type this reader does not know (newer writer): skipped silently. */
  | { kind: 'unknown-type'; type: string }
  | { kind: 'bad'; reason: string };

/**
 * Parse one line (without its "\n"; a trailing "\r" is tolerated). Checks JSON syntax, that it is an
 * object with integer `v` ≤ EVENT_SCHEMA_VERSION, string `type` and `time`, and that an event of a
 * known type matches its schema (eventSchema.ts), after step events of an older schema are upgraded
 * (stepEventUpgrade.ts: v1's R is recomputed with v2's definition). Unknown fields are kept; unknown
 * types are reported as 'unknown-type'; a mismatch is 'bad' with the located field, e.g.
 * `step event, diagnostics.collapse.gap: must be a number or null`.
 */
export function parseEventLine(line: string): ParsedLine {
  const text = line.endsWith('\r') ? line.slice(0, -1) : line;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { kind: 'bad', reason: `invalid JSON: ${(err as Error).message}` };
  }
  if (!isPlainObject(value)) return { kind: 'bad', reason: 'not a JSON object' };
  const o = value as Record<string, unknown>;
  if (!Number.isInteger(o.v) || (o.v as number) < 1) return { kind: 'bad', reason: '"v" must be a positive integer' };
  if ((o.v as number) > EVENT_SCHEMA_VERSION) {
    return { kind: 'bad', reason: `event schema v=${o.v} is newer than the supported v=${EVENT_SCHEMA_VERSION}` };
  }
  if (typeof o.type !== 'string') return { kind: 'bad', reason: '"type" must be a string' };
  if (typeof o.time !== 'string') return { kind: 'bad', reason: '"time" must be a string' };
  if (!Object.prototype.hasOwnProperty.call(EVENT_SCHEMAS, o.type)) return { kind: 'unknown-type', type: o.type };
  upgradeStepEvent(o);
  const problem = eventProblem(o.type as RunEvent['type'], o);
  if (problem !== null) return { kind: 'bad', reason: `${o.type} event, ${problem}` };
  return { kind: 'event', event: o as unknown as RunEvent };
}
