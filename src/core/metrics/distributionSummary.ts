/**
 * DistributionSummary of a Float32Array: count, mean, population std, min/max, linear-interpolated
 * percentiles (see orderStatistics.ts) and a fixed-range histogram. Definitions: docs/diagnostics.md.
 */
import { linearPercentiles } from '../numeric/orderStatistics';
import type { ComputedSummary } from './types';

/** Number of histogram bins of every DistributionSummary. */
export const HISTOGRAM_BINS = 32;

/** Fixed histogram range of every similarity distribution (cosines of L2-normalised embeddings). */
export const SIMILARITY_RANGE: readonly [number, number] = [-1, 1];

/** Order statistics of a summary, as fractions: min (p = 0), p05, p25, p50, p75, p95, max (p = 1). */
const SUMMARY_PERCENTILES = [0, 0.05, 0.25, 0.5, 0.75, 0.95, 1] as const;

/** Throws unless `range` is a finite [lo, hi] with lo < hi. */
function checkRange(range: readonly [number, number], name: string): void {
  const [lo, hi] = range;
  if (!Number.isFinite(lo) || !Number.isFinite(hi) || !(lo < hi)) {
    throw new RangeError(`${name}: histogram range must be finite with lo < hi, got [${lo}, ${hi}]`);
  }
}

/**
 * Bin index of `x` in a HISTOGRAM_BINS-bin histogram over [lo, hi]: bin k holds
 * lo + k·w <= x < lo + (k+1)·w with w = (hi − lo)/HISTOGRAM_BINS; x = hi goes to the last bin,
 * values below lo to bin 0 and values above hi to the last bin (clamping).
 */
export function histogramBin(x: number, lo: number, hi: number): number {
  const b = Math.floor((x - lo) * (HISTOGRAM_BINS / (hi - lo)));
  return b < 0 ? 0 : b >= HISTOGRAM_BINS ? HISTOGRAM_BINS - 1 : b;
}

/** A summary of zero values: count 0, every statistic 0 and an all-zero histogram. */
export function emptySummary(range: readonly [number, number]): ComputedSummary {
  return {
    count: 0,
    mean: 0,
    std: 0,
    min: 0,
    p05: 0,
    p25: 0,
    p50: 0,
    p75: 0,
    p95: 0,
    max: 0,
    hist: { lo: range[0], hi: range[1], counts: new Array<number>(HISTOGRAM_BINS).fill(0) },
  };
}

/**
 * Summarises `values` (count, mean, population std, min, p05…p95, max, 32-bin histogram over the
 * fixed `range`); `values` is not modified. Throws a RangeError naming `name` if a value is NaN or
 * ±Infinity. An empty array gives `emptySummary(range)`.
 */
export function summarizeDistribution(values: Float32Array, range: readonly [number, number], name: string): ComputedSummary {
  checkRange(range, name);
  const n = values.length;
  if (n === 0) return emptySummary(range);
  const [lo, hi] = range;
  const bins = new Int32Array(HISTOGRAM_BINS);
  const scale = HISTOGRAM_BINS / (hi - lo); // same arithmetic as histogramBin
  const last = HISTOGRAM_BINS - 1;
  // Sums of deviations from a shift c (the first value) give the variance in one pass without
  // the cancellation of the raw Σx² − (Σx)²/n formula.
  const c = values[0];
  let sum = 0;
  let sumSq = 0;
  for (let i = 0; i < n; i++) {
    const x = values[i];
    const dev = x - c;
    sum += dev;
    sumSq += dev * dev;
    const f = (x - lo) * scale; // f | 0 = ⌊f⌋ for 0 <= f < 32, as in histogramBin
    bins[f < 0 ? 0 : f >= HISTOGRAM_BINS ? last : f | 0]++;
  }
  // A NaN or ±Infinity anywhere makes the sum non-finite (finite float32 sums cannot overflow a
  // double), so one check after the loop suffices; then find the first offender for the message.
  if (!Number.isFinite(sum)) {
    const i = values.findIndex((x) => !Number.isFinite(x));
    throw new RangeError(`${name} contains a non-finite value (${values[i]}) at index ${i}`);
  }
  const counts = Array.from(bins);
  const mean = c + sum / n;
  const variance = Math.max(0, (sumSq - (sum * sum) / n) / n);
  // min and max are the order statistics at p = 0 and p = 1 (same selection pass, exact).
  const [min, p05, p25, p50, p75, p95, max] = linearPercentiles(values, SUMMARY_PERCENTILES);
  return { count: n, mean, std: Math.sqrt(variance), min, p05, p25, p50, p75, p95, max, hist: { lo, hi, counts } };
}
