import type { LossConfig } from '../../src/core/losses/types';

/** A base loss config for the loss tests: adaptive margin loss with the symmetric term, as in the paper's setup. */
export const DEFAULT_LOSS_CONFIG: LossConfig = Object.freeze({
  type: 'margin',
  adaptive: true,
  adaptiveForm: 'linear',
  margin: 0.1,
  temperature: 1 / 30,
  alpha: 0.5,
  delta0: 0.01,
  tau0: 1 / 30,
  stopGradient: true,
  symmetric: true,
  symmetricWeight: 0.05,
}) as LossConfig;
