/**
 * Softmax (InfoNCE) loss of one anchor row j (fixed τ or adaptive τ_ji): the cross-entropy of the
 * positive among {positive_j} ∪ N(j),
 *   ℓ(j) = log(1 + Σ_{i∈N(j)} exp(z_ji)),   z_ji = (neg_ji − pos_j) / τ_ji,
 * computed with m = max(0, max_i z_ji) subtracted so it stays finite for small τ. With
 * p_i = exp(z_ji) / (1 + Σ_i exp(z_ji)):
 *   ∂ℓ/∂neg_ji = p_i / τ_ji,   ∂ℓ/∂τ_ji = −p_i · z_ji / τ_ji,   ∂ℓ/∂pos_j = −Σ_i ∂ℓ/∂neg_ji.
 */
import type { RowScratch } from './types';

/**
 * ℓ(j) for the row neg[no .. no + N) with mask[mo .. mo + N) and τ in s.hyper; writes ∂ℓ/∂neg into
 * s.dNeg and ∂ℓ/∂τ into s.dHyper (0 outside N(j)). Returns ℓ(j).
 */
export function softmaxRow(neg: Float32Array, no: number, pos: number, mask: Float32Array, mo: number, N: number, s: RowScratch): number {
  const { hyper: tau, dNeg, dHyper: z } = s;
  let m = 0;
  for (let i = 0; i < N; i++) {
    const zi = mask[mo + i] === 0 ? -Infinity : (neg[no + i] - pos) / tau[i];
    z[i] = zi;
    if (zi > m) m = zi;
  }
  let sum = Math.exp(-m);
  for (let i = 0; i < N; i++) {
    const e = z[i] === -Infinity ? 0 : Math.exp(z[i] - m);
    dNeg[i] = e;
    sum += e;
  }
  const inv = 1 / sum;
  for (let i = 0; i < N; i++) {
    const p = dNeg[i] * inv;
    const invTau = 1 / tau[i];
    dNeg[i] = p * invTau;
    z[i] = p === 0 ? 0 : -p * z[i] * invTau; // becomes ∂ℓ/∂τ_i
  }
  return m + Math.log(sum);
}
