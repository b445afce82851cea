import * as tf from '@tensorflow/tfjs';
import { AdaptiveForm } from './types';

/** Maps a (stop-gradient) similarity matrix, a base value and α to a per-pair hyper-parameter. */
export type AdaptiveFn = (sim: tf.Tensor, base: number, alpha: number) => tf.Tensor;

/** One adaptive form: how it builds the margin δ_ji and the temperature τ_ji. */
export interface AdaptiveFormFns {
  margin: AdaptiveFn;
  temperature: AdaptiveFn;
}

/**
 * Registry of adaptive forms (form name → functions). `linear`:
 *   δ_ji = δ₀ + α·(1 − s),    τ_ji = τ₀·(1 + α·(1 − s)).
 */
export const ADAPTIVE_FORMS: Readonly<Record<AdaptiveForm, AdaptiveFormFns>> = {
  linear: {
    margin: (sim, base, alpha) => tf.add(base, tf.mul(alpha, tf.sub(1, sim))),
    temperature: (sim, base, alpha) => tf.mul(base, tf.add(1, tf.mul(alpha, tf.sub(1, sim)))),
  },
};

/** Looks up an adaptive form, throwing a clear error for unknown names. */
export function getAdaptiveForm(name: string): AdaptiveFormFns {
  const form = Object.prototype.hasOwnProperty.call(ADAPTIVE_FORMS, name)
    ? ADAPTIVE_FORMS[name as AdaptiveForm]
    : undefined;
  if (!form) {
    throw new Error(`Unknown adaptive form "${name}"; known: ${Object.keys(ADAPTIVE_FORMS).join(', ')}`);
  }
  return form;
}
