/**
 * Margin (hinge) loss of one anchor row j (the paper's margin loss, fixed δ or adaptive δ_ji):
 *   ℓ(j) = (1/|N(j)|) Σ_{i∈N(j)} max(0, δ_ji − pos_j + neg_ji)
 * with pos_j = s(anchor_j, positive_j), neg_ji = s(anchor_j, candidate_i), N(j) the valid negatives.
 * Gradient: ∂ℓ/∂neg_ji = ∂ℓ/∂δ_ji = 1[δ_ji − pos_j + neg_ji > 0] / |N(j)|, ∂ℓ/∂pos_j = −Σ_i ∂ℓ/∂neg_ji.
 */
import type { RowScratch } from './types';

/**
 * ℓ(j) for the row neg[no .. no + N) with mask[mo .. mo + N) and δ in s.hyper (|N(j)| = count ≥ 1);
 * writes ∂ℓ/∂neg into s.dNeg and ∂ℓ/∂δ into s.dHyper. Returns ℓ(j).
 */
export function marginRow(neg: Float32Array, no: number, pos: number, mask: Float32Array, mo: number, N: number, count: number, s: RowScratch): number {
  const { hyper: delta, dNeg, dHyper } = s;
  const inv = 1 / count;
  let sum = 0;
  for (let i = 0; i < N; i++) {
    const violation = delta[i] - pos + neg[no + i];
    const active = mask[mo + i] !== 0 && violation > 0;
    if (active) sum += violation;
    // A NaN hinge (`NaN > 0` is false) must not vanish from the loss: it makes the row, and so the
    // loss, NaN, and the trainer fails the step naming it, as the tfjs reference does.
    else if (mask[mo + i] !== 0 && violation !== violation) sum = NaN;
    dNeg[i] = active ? inv : 0;
    dHyper[i] = dNeg[i];
  }
  return sum * inv;
}
