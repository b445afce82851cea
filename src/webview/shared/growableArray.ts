/**
 * A growable Float64Array: the exact per-step values of one series (NaN stands for a missing value).
 * Doubling growth keeps appends amortised O(1) and memory at 8 bytes per value (100k steps × 20
 * series = 16 MB), unlike arrays of objects.
 */
export class GrowableFloat64 {
  private buf: Float64Array;
  private n = 0;

  constructor(capacity = 1024) {
    this.buf = new Float64Array(Math.max(1, capacity));
  }

  get length(): number {
    return this.n;
  }

  /** Appends a value (null and undefined are stored as NaN). */
  push(v: number | null | undefined): void {
    if (this.n === this.buf.length) {
      const next = new Float64Array(this.buf.length * 2);
      next.set(this.buf);
      this.buf = next;
    }
    this.buf[this.n++] = v === null || v === undefined ? NaN : v;
  }

  /** Value at index i (NaN when missing). */
  get(i: number): number {
    return this.buf[i];
  }

  /** Overwrites index i (< length). */
  set(i: number, v: number): void {
    if (i < 0 || i >= this.n) throw new RangeError(`GrowableFloat64.set: index ${i} outside 0..${this.n - 1}`);
    this.buf[i] = v;
  }

  /** Last value, NaN when empty. */
  last(): number {
    return this.n === 0 ? NaN : this.buf[this.n - 1];
  }

  /** Forgets every value (keeps the buffer). */
  clear(): void {
    this.n = 0;
  }
}
