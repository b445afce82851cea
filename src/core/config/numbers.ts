/** Numbers a config may hold: finite, and integers within 2^53 − 1 (config file, --set and the CLI's number flags). */

/** Why a parsed JSON number cannot be used (`written` is its text): not finite, or an integer beyond 2^53 − 1; null when fine. */
export function numberProblem(value: number, written: string): string | null {
  if (!Number.isFinite(value)) return `${written} is out of range (it is not a finite number)`;
  if (Number.isInteger(value) && !Number.isSafeInteger(value)) return `${written} is out of range (integers above ${Number.MAX_SAFE_INTEGER} lose digits)`;
  return null;
}

/** A positive integer from a command-line flag's text (`--steps 20`), or an Error naming the flag and its text. */
export function positiveIntegerFlag(name: string, text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer of at most ${Number.MAX_SAFE_INTEGER}, got "${text}"`);
  return n;
}
