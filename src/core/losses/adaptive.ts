import * as tf from '@tensorflow/tfjs';
import { getAdaptiveForm } from './adaptiveForms';
import { stopGradient } from './stopGradient';
import { HyperValue, LossConfig } from './types';

/**
 * The δ (margin loss) or τ (softmax loss) used for each (anchor j, candidate i) pair.
 * - fixed (`cfg.adaptive = false`): the constant `cfg.margin` / `cfg.temperature`, returned as a number;
 * - adaptive: the form `cfg.adaptiveForm` applied to sg[refSim] (or refSim itself when
 *   `cfg.stopGradient` is false), e.g. linear: δ_ji = δ₀ + α(1 − s_ji), τ_ji = τ₀(1 + α(1 − s_ji)).
 * @param refSim [B, N] similarity that drives the adaptation (s(v_j, v_i) for the query-anchored
 *   term, s(q_j, v_i) for the symmetric term)
 */
export function pairHyper(refSim: tf.Tensor2D, cfg: LossConfig): HyperValue {
  if (!cfg.adaptive) {
    return cfg.type === 'margin' ? cfg.margin : cfg.temperature;
  }
  const form = getAdaptiveForm(cfg.adaptiveForm);
  const sim = cfg.stopGradient ? stopGradient(refSim) : refSim;
  return cfg.type === 'margin'
    ? form.margin(sim, cfg.delta0, cfg.alpha)
    : form.temperature(sim, cfg.tau0, cfg.alpha);
}
