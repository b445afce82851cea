/**
 * Incremental bucket decimation of one series for display. The exact values stay in the store's
 * columns; Chart.js only ever gets at most about 2 × maxBuckets (+2) points per series, however long
 * the run.
 *
 * Consecutive raw points are grouped into buckets of `bucketSize` points (a power of two, 1 while the
 * series is short, so short runs are drawn exactly). Each bucket keeps a summary — index of its min,
 * of its max and of its first missing value — and is drawn from that summary:
 * - `minmax` (lines): the min and max points at their own steps, in step order, plus a gap (y null)
 *   where a whole bucket is missing, so spikes and NaN holes survive decimation (a bucket with some
 *   values draws them: a gap inside every partly-missing bucket would break the line into isolated,
 *   invisible points — how R once vanished from the chart);
 * - `max` / `min` (upper / lower edges of a distribution band): one point per bucket at the bucket's
 *   first step holding the bucket's max / min, so the two edges of a band share their x positions.
 * The open (last) bucket also gets a point at its last step, so lines and bands reach the newest step.
 *
 * Appending a point touches only the open bucket's summary and its few display points. When the
 * bucket count would exceed `maxBuckets`, the bucket size doubles and neighbouring summaries merge
 * pairwise: O(maxBuckets), once per doubling of the series, never a pass over the raw values.
 *
 * A zoomed chart asks for `rangePoints(min, max)`: the raw points in that x range decimated afresh with
 * the same bucket budget and rules (exact when they are few), so zooming in shows the detail the
 * full-range buckets hide. O(points in the range), cached until the range or the points in it change.
 */
import { GrowableFloat64 } from './growableArray';

export type DecimationMode = 'minmax' | 'max' | 'min';

/** A display point; y null draws a gap. */
export interface ChartPoint {
  x: number;
  y: number | null;
}

/**
 * Default bucket budget: ≤ 500 buckets, i.e. ≤ ~1000 points for a min/max line (a chart is a few
 * hundred pixels wide, so more points draw the same picture slower); runs up to 500 logged steps are
 * drawn exactly.
 */
export const DEFAULT_MAX_BUCKETS = 500;

export class DecimatedSeries {
  private size = 1;
  private buckets = 0;
  private consumed = 0;
  private readonly minV: Float64Array;
  private readonly minI: Int32Array;
  private readonly maxV: Float64Array;
  private readonly maxI: Int32Array;
  private readonly gapI: Int32Array;
  private points: ChartPoint[] = [];
  /** Index in `points` where the open bucket's points start. */
  private openStart = 0;
  private changes = 0;
  /** Increases when the raw values were rewritten (rebuild). */
  private rebuilds = 0;
  private rangeCache: { key: string; points: ChartPoint[] } | null = null;

  /**
   * @param xs the x column (steps), shared by the series of one store
   * @param ys the exact values (NaN = missing), same length as xs once synced
   */
  constructor(
    private readonly xs: GrowableFloat64,
    private readonly ys: GrowableFloat64,
    readonly mode: DecimationMode,
    readonly maxBuckets = DEFAULT_MAX_BUCKETS,
  ) {
    if (!Number.isInteger(maxBuckets) || maxBuckets < 2) throw new RangeError(`DecimatedSeries: maxBuckets must be an integer >= 2, got ${maxBuckets}`);
    this.minV = new Float64Array(maxBuckets + 1);
    this.minI = new Int32Array(maxBuckets + 1);
    this.maxV = new Float64Array(maxBuckets + 1);
    this.maxI = new Int32Array(maxBuckets + 1);
    this.gapI = new Int32Array(maxBuckets + 1);
  }

  /** Raw points per bucket (1 = exact). */
  get bucketSize(): number {
    return this.size;
  }

  /** Raw points taken in so far. */
  get rawCount(): number {
    return this.consumed;
  }

  /** Display points right now. */
  get displayCount(): number {
    return this.points.length;
  }

  /** Increases whenever the display points change (lets a chart skip unchanged datasets). */
  get changeCount(): number {
    return this.changes;
  }

  /** Takes in the raw points appended to the columns since the last call. */
  sync(): void {
    const n = Math.min(this.xs.length, this.ys.length);
    if (n === this.consumed) return;
    for (let i = this.consumed; i < n; i++) this.add(i);
    this.consumed = n;
    this.drawOpenBucket();
    this.changes++;
  }

  /** Starts over from the columns' current contents (after values were rewritten, e.g. re-smoothed). */
  rebuild(): void {
    this.size = 1;
    this.buckets = 0;
    this.consumed = 0;
    this.points = [];
    this.openStart = 0;
    this.rebuilds++;
    this.rangeCache = null;
    this.sync();
    this.changes++;
  }

  /**
   * Raw index range [lo, hi) of the points whose x — `toX(step)` when given (wall time), else the step —
   * lies in [min, max], widened by one point on each side so that lines reach the chart's edges.
   */
  indexRange(min: number, max: number, toX?: (step: number) => number): { lo: number; hi: number } {
    const n = this.consumed;
    const x = (i: number) => (toX ? toX(this.xs.get(i)) : this.xs.get(i));
    // first index with x >= min, first index with x > max (x ascends with the index)
    const search = (pred: (i: number) => boolean) => {
      let lo = 0;
      let hi = n;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (pred(mid)) hi = mid;
        else lo = mid + 1;
      }
      return lo;
    };
    const first = search((i) => x(i) >= min);
    const end = search((i) => x(i) > max);
    return { lo: Math.max(0, first - 1), hi: Math.min(n, end + 1) };
  }

  /**
   * Display points of the raw points with x in [min, max] (see indexRange), decimated afresh over that range
   * with this series' bucket budget: exact up to 2 × maxBuckets points, else min/max (or band edge) buckets
   * of ⌈points / maxBuckets⌉; null when the range holds every point (toArray() is that). A cached array, the
   * same one until the range or its points change: copy it before handing it to Chart.js.
   */
  rangePoints(min: number, max: number, toX?: (step: number) => number): ChartPoint[] | null {
    const { lo, hi } = this.indexRange(min, max, toX);
    if (lo === 0 && hi === this.consumed) return null;
    const key = `${lo}:${hi}:${this.rebuilds}`;
    if (this.rangeCache?.key === key) return this.rangeCache.points;
    const points = this.decimateRange(lo, hi);
    this.rangeCache = { key, points };
    return points;
  }

  /** One pass over raw points [lo, hi): the display points of buckets of ⌈(hi − lo) / maxBuckets⌉ raw points. */
  private decimateRange(lo: number, hi: number): ChartPoint[] {
    const out: ChartPoint[] = [];
    const n = hi - lo;
    const at = (i: number): ChartPoint => {
      const y = this.ys.get(i);
      return { x: this.xs.get(i), y: Number.isNaN(y) ? null : y };
    };
    if (n <= 2 * this.maxBuckets) {
      for (let i = lo; i < hi; i++) out.push(at(i));
      return out;
    }
    const size = Math.ceil(n / this.maxBuckets);
    for (let first = lo; first < hi; first += size) {
      const end = Math.min(first + size, hi);
      let minI = -1;
      let maxI = -1;
      let gapI = -1;
      for (let i = first; i < end; i++) {
        const y = this.ys.get(i);
        if (Number.isNaN(y)) {
          if (gapI < 0) gapI = i;
          continue;
        }
        if (minI < 0 || y < this.ys.get(minI)) minI = i;
        if (maxI < 0 || y > this.ys.get(maxI)) maxI = i;
      }
      const last = end === hi ? hi - 1 : -1;
      if (this.mode === 'minmax') {
        const idx: number[] = [];
        for (const i of [minI, maxI, minI < 0 ? gapI : -1, last]) if (i >= 0 && !idx.includes(i)) idx.push(i);
        idx.sort((p, q) => p - q);
        for (const i of idx) out.push(at(i));
        continue;
      }
      const extremeI = this.mode === 'max' ? maxI : minI;
      const y = extremeI >= 0 ? this.ys.get(extremeI) : null;
      out.push({ x: this.xs.get(first), y });
      if (last > first) out.push({ x: this.xs.get(last), y });
    }
    return out;
  }

  /** A copy of the display points, for Chart.js (which instruments the arrays it is given). */
  toArray(): ChartPoint[] {
    return this.points.slice();
  }

  /** Adds raw point i to its bucket (opening / merging buckets as needed). */
  private add(i: number): void {
    let b = Math.floor(i / this.size);
    if (b >= this.maxBuckets) {
      this.mergePairs();
      b = Math.floor(i / this.size);
    }
    if (b === this.buckets) {
      if (this.buckets > 0) {
        // Close the previous bucket: redraw it without its "open" end point.
        this.points.length = this.openStart;
        this.drawBucket(this.buckets - 1, false, this.points);
        this.openStart = this.points.length;
      }
      this.minI[b] = -1;
      this.maxI[b] = -1;
      this.gapI[b] = -1;
      this.buckets++;
    }
    const y = this.ys.get(i);
    if (Number.isNaN(y)) {
      if (this.gapI[b] < 0) this.gapI[b] = i;
      return;
    }
    if (this.minI[b] < 0 || y < this.minV[b]) {
      this.minV[b] = y;
      this.minI[b] = i;
    }
    if (this.maxI[b] < 0 || y > this.maxV[b]) {
      this.maxV[b] = y;
      this.maxI[b] = i;
    }
  }

  /** Doubles the bucket size: bucket k becomes the merge of buckets 2k and 2k+1; redraws everything. */
  private mergePairs(): void {
    const half = Math.ceil(this.buckets / 2);
    for (let k = 0; k < half; k++) {
      const a = 2 * k;
      const b = a + 1;
      let minI = this.minI[a],
        minV = this.minV[a],
        maxI = this.maxI[a],
        maxV = this.maxV[a],
        gapI = this.gapI[a];
      if (b < this.buckets) {
        if (this.minI[b] >= 0 && (minI < 0 || this.minV[b] < minV)) {
          minI = this.minI[b];
          minV = this.minV[b];
        }
        if (this.maxI[b] >= 0 && (maxI < 0 || this.maxV[b] > maxV)) {
          maxI = this.maxI[b];
          maxV = this.maxV[b];
        }
        if (gapI < 0) gapI = this.gapI[b];
      }
      this.minI[k] = minI;
      this.minV[k] = minV;
      this.maxI[k] = maxI;
      this.maxV[k] = maxV;
      this.gapI[k] = gapI;
    }
    this.buckets = half;
    this.size *= 2;
    const points: ChartPoint[] = [];
    for (let k = 0; k < this.buckets - 1; k++) this.drawBucket(k, false, points);
    this.openStart = points.length;
    this.points = points;
  }

  /** Redraws the open (last) bucket. */
  private drawOpenBucket(): void {
    this.points.length = this.openStart;
    if (this.buckets > 0) this.drawBucket(this.buckets - 1, true, this.points);
  }

  /** Appends the display points of bucket k; `open`: also a point at the bucket's last raw index. */
  private drawBucket(k: number, open: boolean, out: ChartPoint[]): void {
    const first = k * this.size;
    const last = open ? this.lastIndexOfOpenBucket(first) : -1;
    const at = (i: number, y: number | null): ChartPoint => ({ x: this.xs.get(i), y });
    if (this.mode === 'minmax') {
      const idx: number[] = [];
      const gap = this.minI[k] < 0 ? this.gapI[k] : -1;
      for (const i of [this.minI[k], this.maxI[k], gap]) if (i >= 0 && !idx.includes(i)) idx.push(i);
      if (open && last >= 0 && !idx.includes(last)) idx.push(last);
      idx.sort((p, q) => p - q);
      for (const i of idx) {
        const y = this.ys.get(i);
        out.push(at(i, Number.isNaN(y) ? null : y));
      }
      return;
    }
    const extremeI = this.mode === 'max' ? this.maxI[k] : this.minI[k];
    const y = extremeI >= 0 ? (this.mode === 'max' ? this.maxV[k] : this.minV[k]) : null;
    out.push(at(first, y));
    if (open && last > first) out.push(at(last, y));
  }

  /** Last raw index of the open bucket starting at `first` (the newest raw point). */
  private lastIndexOfOpenBucket(first: number): number {
    const n = Math.min(this.xs.length, this.ys.length);
    return Math.min(first + this.size, n) - 1;
  }
}

/** The points of a whole series as they are (y null: a gap). */
export function exactPoints(x: readonly number[], y: readonly (number | null)[]): ChartPoint[] {
  return x.map((xi, i) => ({ x: xi, y: y[i] ?? null }));
}

/**
 * Display points of a whole series at once (a finished run): exact up to 2 × DEFAULT_MAX_BUCKETS points, else
 * min/max decimated (extremes and gaps kept).
 */
export function decimatedPoints(x: readonly number[], y: readonly (number | null)[]): ChartPoint[] {
  if (x.length <= 2 * DEFAULT_MAX_BUCKETS) return exactPoints(x, y);
  const xs = new GrowableFloat64(x.length);
  const ys = new GrowableFloat64(x.length);
  x.forEach((xi, i) => (xs.push(xi), ys.push(y[i])));
  const d = new DecimatedSeries(xs, ys, 'minmax');
  d.sync();
  return d.toArray().map((p) => ({ ...p }));
}
