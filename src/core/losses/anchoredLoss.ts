import * as tf from '@tensorflow/tfjs';
import { pairHyper } from './adaptive';
import { marginLoss } from './fixedMargin';
import { softmaxLoss } from './softmax';
import { HyperValue, LossConfig } from './types';

/** Result of the loss for one anchor side, with the δ/τ it used. */
export interface AnchoredLoss {
  loss: tf.Scalar;
  hyper: HyperValue;
}

/**
 * The configured loss (margin or softmax, fixed or adaptive) for one anchor side:
 * mean_j ℓ(j) with positive scores `pos` [B], candidate scores `neg` [B, N] and the per-pair
 * δ_ji / τ_ji derived from `refSim` [B, N] (see `pairHyper`).
 */
export function anchoredLoss(
  pos: tf.Tensor1D,
  neg: tf.Tensor2D,
  refSim: tf.Tensor2D,
  mask: tf.Tensor2D,
  cfg: LossConfig,
): AnchoredLoss {
  const hyper = pairHyper(refSim, cfg);
  const loss = cfg.type === 'margin' ? marginLoss(pos, neg, mask, hyper) : softmaxLoss(pos, neg, mask, hyper);
  return { loss, hyper };
}
