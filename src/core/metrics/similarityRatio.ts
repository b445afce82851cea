/**
 * The ratio R of squared distances on unit vectors (docs/diagnostics.md, "Ratio R"):
 *
 *   R = mean ‖vⱼ − vᵢ‖² / mean ‖qⱼ − vⱼ‖² = (1 − mean s(v,v⁻)) / (1 − mean s(q,v)),
 *
 * means over valid negatives (numerator) and over pairs (denominator). R > 1: queries sit closer to
 * their positives than items sit to each other; R = 1 is the boundary s(q,v) = s(v,v⁻); R → 0 as the
 * items collapse onto each other. Defined for every batch except the degenerate one where every
 * query coincides with its positive (1 − mean s(q,v) ≈ 0).
 */

/** 1 − mean s(q,v) at or below this counts as 0 (float32 scores carry ~1e-7 relative error). */
export const RATIO_MIN_DISTANCE = 1e-6;

/** R, or null with the reason it is undefined. */
export type RatioResult = { ratio: number; note: null } | { ratio: null; note: string };

/**
 * R = (1 − meanVNeg) / (1 − meanQV); null with a reason when 1 − meanQV ≤ RATIO_MIN_DISTANCE or
 * there is no valid negative (`negatives` = 0).
 */
export function similarityRatio(meanQV: number, meanVNeg: number, negatives = 1): RatioResult {
  if (negatives <= 0) return { ratio: null, note: 'no valid negative in the batch' };
  const denominator = 1 - meanQV;
  if (!(denominator > RATIO_MIN_DISTANCE)) {
    return {
      ratio: null,
      note: `1 − mean s(q,v) = ${denominator.toExponential(1)} ≤ ${RATIO_MIN_DISTANCE}: every query coincides with its positive`,
    };
  }
  return { ratio: (1 - meanVNeg) / denominator, note: null };
}
