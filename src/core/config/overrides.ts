import { numberProblem } from './numbers';

/**
 * `--set key=value` overrides: `key` is a dotted path (`loss.alpha`), `value` is parsed as JSON when it
 * parses (numbers, booleans, null, arrays) and taken as a string otherwise.
 */
export interface Override {
  path: string[];
  value: unknown;
  /** The original text, for error messages. */
  text: string;
}

/** Key segments that would reach Object.prototype (prototype pollution) instead of a config field. */
const RESERVED_SEGMENTS = new Set(['__proto__', 'constructor', 'prototype']);

/** Parses `a.b=value`; throws a plain Error naming the bad text. */
export function parseOverride(text: string): Override {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new Error(`--set expects key=value, got "${text}"`);
  const key = text.slice(0, eq).trim();
  const raw = text.slice(eq + 1).trim();
  const path = key.split('.');
  if (path.some((p) => p === '')) throw new Error(`--set: bad key "${key}" in "${text}"`);
  const reserved = path.find((p) => RESERVED_SEGMENTS.has(p));
  if (reserved !== undefined)
    throw new Error(`--set ${text}: "${reserved}" is not allowed in a key (it names no config field and would change JavaScript's objects)`);
  let value: unknown = raw;
  try {
    value = JSON.parse(raw);
  } catch {
    // not JSON: keep the string
  }
  const bad = typeof value === 'number' ? numberProblem(value, raw) : firstBadNumber(value);
  if (bad !== null) throw new Error(`--set ${text}: ${bad}`);
  return { path, value, text };
}

/** The first number in a parsed --set value that is not finite or is an integer beyond 2^53 − 1, described; null when none. */
function firstBadNumber(value: unknown): string | null {
  if (typeof value === 'number') return numberProblem(value, String(value));
  if (typeof value !== 'object' || value === null) return null;
  for (const v of Object.values(value)) {
    const bad = firstBadNumber(v);
    if (bad !== null) return bad;
  }
  return null;
}

/** Applies overrides to a plain object in place, creating intermediate objects as needed. */
export function applyOverrides(target: Record<string, unknown>, overrides: Override[]): void {
  for (const o of overrides) {
    let node: Record<string, unknown> = target;
    for (const key of o.path.slice(0, -1)) {
      const next = Object.prototype.hasOwnProperty.call(node, key) ? node[key] : undefined;
      if (next === undefined) node[key] = {};
      else if (typeof next !== 'object' || next === null || Array.isArray(next)) {
        throw new Error(`--set ${o.text}: "${key}" is not an object in the config`);
      }
      node = node[key] as Record<string, unknown>;
    }
    node[o.path[o.path.length - 1]] = o.value;
  }
}
