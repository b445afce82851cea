import assert from 'node:assert/strict';

/**
 * A measured value read back from a run (typed `number | null`: null is a value that was not
 * finite): asserts it is a finite number, naming `what`, and returns it.
 */
export function finite(x: number | null | undefined, what: string): number {
  assert.ok(typeof x === 'number' && Number.isFinite(x), `${what} is ${x}, expected a finite number`);
  return x;
}
