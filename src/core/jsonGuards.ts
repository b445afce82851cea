/** Type guards for values parsed from JSON or received as messages (shared by every validator). */

/** A plain JSON object: not null, not an array. */
export function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}
