import * as tf from '@tensorflow/tfjs';
import { anchoredLoss } from './anchoredLoss';
import { LossConfig } from './types';

/** True when the config asks for a symmetric term that actually contributes (symmetric and w ≠ 0). */
export function hasSymmetricTerm(cfg: LossConfig): boolean {
  return cfg.symmetric && cfg.symmetricWeight !== 0;
}

/**
 * Symmetric term mean_j ℓ_sym(j) (unweighted): the same loss with v_j as anchor and q_j as
 * positive, over the same negatives N(j):
 *   positive score s(v_j, q_j) = `pos`, negative scores s(v_j, v_i) = `sVV`,
 *   adaptive δ_ji / τ_ji from sg[s(q_j, v_i)] = `sQV`.
 */
export function symmetricLoss(
  pos: tf.Tensor1D,
  sQV: tf.Tensor2D,
  sVV: tf.Tensor2D,
  mask: tf.Tensor2D,
  cfg: LossConfig,
): tf.Scalar {
  return anchoredLoss(pos, sVV, sQV, mask, cfg).loss;
}
