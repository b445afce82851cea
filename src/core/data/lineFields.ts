/**
 * Helpers that turn one line into typed fields or explain precisely why they cannot. A reader
 * calls them inside a try block and records a {@link LineFault}'s message as the bad-line reason.
 */

/** The reason one line is unusable; thrown by the field helpers, caught by the readers. */
export class LineFault extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'LineFault';
  }
}

/** A JSON value's kind for messages: "null", "array", "string", "number", "object", ... */
export function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

/** True for plain JSON objects (not arrays, not null). */
export function isObject(value: unknown): value is Record<string, unknown> {
  return kindOf(value) === 'object';
}

/** Parses a line as one JSON object; faults with "invalid JSON: <parser message>" or "expected a JSON object, got array". */
export function parseJsonObject(text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new LineFault(`invalid JSON: ${(err as Error).message}`);
  }
  if (!isObject(value)) throw new LineFault(`expected a JSON object, got ${kindOf(value)}`);
  return value;
}

/** A required string field; faults with `missing field "key"` or `field "key" must be a string, got number`. */
export function requiredString(obj: Record<string, unknown>, key: string): string {
  const value = obj[key];
  if (value === undefined) throw new LineFault(`missing field "${key}"`);
  if (typeof value !== 'string') throw new LineFault(`field "${key}" must be a string, got ${kindOf(value)}`);
  return value;
}

/** An optional string field (absent or null → undefined); faults when present with another type. */
export function optionalString(obj: Record<string, unknown>, key: string): string | undefined {
  const value = obj[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new LineFault(`field "${key}" must be a string, got ${kindOf(value)}`);
  return value;
}

/**
 * An optional id field (absent or null → undefined). Ids are strings; finite numbers are accepted
 * and turned into strings (some exports write numeric ids). Faults on empty ids and other types;
 * `label` is the field's name in messages (e.g. "positive.id" for a nested field).
 */
export function optionalId(obj: Record<string, unknown>, key: string, label: string = key): string | undefined {
  const value = obj[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value !== 'string') throw new LineFault(`field "${label}" must be a string, got ${kindOf(value)}`);
  if (value.trim().length === 0) throw new LineFault(`empty field "${label}"`);
  return value;
}

/** A required id field: like {@link optionalId} but faults with `missing field "key"` when absent. */
export function requiredId(obj: Record<string, unknown>, key: string): string {
  const id = optionalId(obj, key);
  if (id === undefined) throw new LineFault(`missing field "${key}"`);
  return id;
}
