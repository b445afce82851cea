/**
 * Charts of what every step event logs beside the diagnostics (issue 19): the gradient norm, the
 * learning rate, steps/s, and the effective rank of the item embeddings (a collapse indicator).
 */
import type { SeriesChartSpec } from './seriesChart';

export const GRAD_NORM: SeriesChartSpec = {
  axes: [{ id: 'y', position: 'left', suggestedMin: 0 }],
  overlay: 'train.gradNorm',
  lines: [{ series: 'train.gradNorm', label: 'gradient norm', color: 'orange' }],
};

export const LEARNING_RATE: SeriesChartSpec = {
  axes: [{ id: 'y', position: 'left', suggestedMin: 0 }],
  overlay: 'train.lr',
  lines: [{ series: 'train.lr', label: 'learning rate', color: 'blue' }],
};

export const STEPS_PER_SEC: SeriesChartSpec = {
  axes: [{ id: 'y', position: 'left', suggestedMin: 0 }],
  overlay: 'train.stepsPerSec',
  lines: [{ series: 'train.stepsPerSec', label: 'steps/s', color: 'green' }],
};

export const EFFECTIVE_RANK: SeriesChartSpec = {
  axes: [{ id: 'y', position: 'left', suggestedMin: 0 }],
  overlay: 'collapse.effectiveRank',
  lines: [{ series: 'collapse.effectiveRank', label: 'effective rank', color: 'purple' }],
};

/** Captions and descriptions of the cards (id, caption, description). */
export const TRAINING_CARDS = {
  gradNorm: ['Gradient norm', 'Global L2 norm of the gradients before clipping, per logged step'],
  lr: ['Learning rate', 'The learning rate used for each logged step'],
  stepsPerSec: ['Steps/s', 'Training speed: 1000 / the wall-clock milliseconds of each logged step'],
  effectiveRank: [
    'Effective rank',
    'Effective rank of the batch item embeddings (exp of the entropy of their normalised singular values): it falls as the items collapse onto few directions',
  ],
} as const;
