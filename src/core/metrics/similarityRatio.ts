/**
 * The ratio R = mean s(q,v) / mean s(v,v⁻) and its undefined-near-zero rule
 * (docs/diagnostics.md, "Ratio R").
 */

/**
 * R is reported only when mean s(v,v⁻) is above this: near 0 the ratio explodes, and below 0 it
 * flips sign, so it stops meaning "how far positives are above item–item similarity"; the gap
 * mean s(q,v) − mean s(v,v⁻) is the indicator then.
 */
export const RATIO_MIN_DENOMINATOR = 0.05;

/** R = meanQV / meanVNeg, or null when meanVNeg <= RATIO_MIN_DENOMINATOR. */
export function similarityRatio(meanQV: number, meanVNeg: number): number | null {
  return meanVNeg > RATIO_MIN_DENOMINATOR ? meanQV / meanVNeg : null;
}
