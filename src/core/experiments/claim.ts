/**
 * The one rule behind every "A beats B" that sweeps, ablations and comparisons print: per-seed values of a
 * metric for two arms are compared with Welch's two-sample t-test (two-sided, unequal variances, α = 0.05;
 * the t distribution's CDF from jStat).
 * - Fewer than 2 values in either arm: no claim is made ("n = 1: no claim"), whatever the means.
 * - p < α: the arm with the higher mean beats the other, with the difference, p and n named.
 * - Otherwise: "no significant difference", with the difference, p and n named.
 * Identical values on both sides (zero variance) with equal means are no difference; zero variance with
 * different means is a difference (p = 0).
 */
import { jStat } from 'jstat';

export const CLAIM_ALPHA = 0.05;

export interface Arm {
  label: string;
  values: readonly number[];
}

export interface Claim {
  /** 'a' or 'b' beats the other (significant), 'none' no significant difference, 'too-few' no claim. */
  winner: 'a' | 'b' | 'none' | 'too-few';
  /** mean(a) − mean(b) (null when an arm has no value). */
  diff: number | null;
  /** Welch's two-sided p-value (null below 2 values an arm). */
  p: number | null;
  /** The sentence that says it. */
  text: string;
}

const mean = (v: readonly number[]) => v.reduce((s, x) => s + x, 0) / v.length;
const variance = (v: readonly number[], m: number) => v.reduce((s, x) => s + (x - m) ** 2, 0) / (v.length - 1);

/** Welch's t-test of two samples of ≥ 2 values each: t, the Welch–Satterthwaite degrees of freedom and the two-sided p. */
export function welchTTest(a: readonly number[], b: readonly number[]): { t: number; df: number; p: number } {
  const ma = mean(a);
  const mb = mean(b);
  const va = variance(a, ma) / a.length;
  const vb = variance(b, mb) / b.length;
  const se2 = va + vb;
  if (se2 === 0) return { t: ma === mb ? 0 : Math.sign(ma - mb) * Infinity, df: a.length + b.length - 2, p: ma === mb ? 1 : 0 };
  const t = (ma - mb) / Math.sqrt(se2);
  const df = se2 ** 2 / ((va * va) / (a.length - 1) + (vb * vb) / (b.length - 1));
  const p = 2 * (1 - jStat.studentt.cdf(Math.abs(t), df));
  return { t, df, p: Math.min(1, Math.max(0, p)) };
}

/**
 * What may be said of arm `a` against arm `b` for `metric`. `scale` and `unit` format the difference
 * (100 and "points" for recall in [0, 1]).
 */
export function compareArms(a: Arm, b: Arm, metric: string, scale = 100, unit = 'points'): Claim {
  const av = a.values.filter(Number.isFinite);
  const bv = b.values.filter(Number.isFinite);
  if (av.length === 0 || bv.length === 0) return { winner: 'too-few', diff: null, p: null, text: `${a.label} vs ${b.label}: not measured, no claim` };
  const diff = mean(av) - mean(bv);
  const d = `${diff >= 0 ? '+' : ''}${(scale * diff).toFixed(1)} ${unit} of ${metric}`;
  if (av.length < 2 || bv.length < 2) {
    return {
      winner: 'too-few',
      diff,
      p: null,
      text: `${a.label} vs ${b.label}: ${d}, n = ${av.length} vs ${bv.length}: fewer than 2 seeds an arm, no claim (run --seeds 2 or more)`,
    };
  }
  const { p } = welchTTest(av, bv);
  const test = `Welch's t-test p = ${p < 0.001 ? '< 0.001' : p.toFixed(3)}, n = ${av.length} vs ${bv.length}`;
  if (p < CLAIM_ALPHA && diff !== 0) {
    const [w, l] = diff > 0 ? [a.label, b.label] : [b.label, a.label];
    return { winner: diff > 0 ? 'a' : 'b', diff, p, text: `${w} beats ${l}: ${a.label} ${d} (${test})` };
  }
  return { winner: 'none', diff, p, text: `${a.label} vs ${b.label}: ${d}, no significant difference (${test})` };
}
