/**
 * The symmetric term: the same loss with v_j as anchor and q_j as positive, over the same negatives N(j),
 *   ℓ_sym(j) = ℓ(pos_j = s(v_j, q_j), neg_ji = s(v_j, v_i), δ/τ from sg[s(q_j, v_i)]),
 * added with weight w: L = mean_j ℓ(j) + w · mean_j ℓ_sym(j) (lossAndGrad.ts).
 */
import type { LossConfig } from './types';

/** True when the config asks for a symmetric term that actually contributes (symmetric and w ≠ 0). */
export function hasSymmetricTerm(cfg: LossConfig): boolean {
  return cfg.symmetric && cfg.symmetricWeight !== 0;
}
