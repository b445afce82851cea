/**
 * The config keys that differ between runs: each run's config.json flattened to JSON paths
 * (`loss.margin`, `training.batchSize`, `data["odd.key"]`); arrays are compared as whole values.
 */
import type { JsonValue } from '../runs/eventSchema';

/** One config key whose value is not the same in every run; `undefined` where a run's config lacks it. */
export interface ConfigDifference {
  path: string;
  values: (JsonValue | undefined)[];
}

const IDENT = /^[A-Za-z_$][\w$]*$/;

/** The path of `key` under `prefix`: `a.b`, or `a["x.y"]` for keys that are not identifiers. */
function childPath(prefix: string, key: string): string {
  if (IDENT.test(key)) return prefix ? `${prefix}.${key}` : key;
  return `${prefix}[${JSON.stringify(key)}]`;
}

/** The leaves of a JSON value by path, in document order (objects are walked; arrays and primitives are leaves). */
export function flattenJson(value: unknown, prefix = '', out = new Map<string, JsonValue>()): Map<string, JsonValue> {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 0 && prefix) out.set(prefix, {});
    for (const [k, v] of entries) flattenJson(v, childPath(prefix, k), out);
  } else if (prefix) out.set(prefix, value as JsonValue);
  return out;
}

/**
 * The keys whose values differ between the configs (deep equality of the JSON values; a key missing in
 * some configs differs), in the order they first appear. A config that is null (unreadable) is skipped:
 * it neither adds keys nor makes one differ.
 */
export function configDifferences(configs: readonly unknown[]): ConfigDifference[] {
  const flats = configs.map((c) => (c === null || c === undefined ? null : flattenJson(c)));
  const paths: string[] = [];
  const seen = new Set<string>();
  for (const f of flats)
    for (const p of f?.keys() ?? []) {
      if (seen.has(p)) continue;
      seen.add(p);
      paths.push(p);
    }
  const out: ConfigDifference[] = [];
  for (const p of paths) {
    const values = flats.map((f) => f?.get(p));
    const present = flats.flatMap((f, i) => (f ? [JSON.stringify(values[i])] : []));
    if (new Set(present).size > 1) out.push({ path: p, values });
  }
  return out;
}
