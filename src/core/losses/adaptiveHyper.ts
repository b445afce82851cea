/**
 * Adaptive δ/τ (Adaptive Hyper-parameter Learning for Deep Semantic Retrieval, EMNLP 2023): the per-pair
 * margin or temperature from the similarity s = sg[s(v_j, v_i)] of the anchor's positive to the negative
 * (sg[s(q_j, v_i)] for the symmetric term). `linear`:
 *   δ_ji = δ₀ + α·(1 − s),    τ_ji = τ₀·(1 + α·(1 − s));    dδ/ds = −α,  dτ/ds = −τ₀α
 * (the derivatives are used only without stop-gradient). For learned α, δ₀, τ₀ (learnedHyper.ts):
 *   ∂δ/∂δ₀ = 1,  ∂δ/∂α = 1 − s;   ∂τ/∂τ₀ = 1 + α(1 − s),  ∂τ/∂α = τ₀(1 − s).
 */
import type { AdaptiveForm } from './types';

/**
 * One form over one row of n similarities sim[off .. off + n): `values` writes the per-pair δ/τ into
 * out[0 .. n), `grads` their derivatives d/ds.
 */
export interface HostAdaptiveFn {
  values: (sim: Float32Array, off: number, n: number, base: number, alpha: number, out: Float64Array) => void;
  grads: (sim: Float32Array, off: number, n: number, base: number, alpha: number, out: Float64Array) => void;
  /** Adds Σ_i w_i·∂h_i/∂base into acc[0] and Σ_i w_i·∂h_i/∂α into acc[1] (h the per-pair δ/τ). */
  params: (sim: Float32Array, off: number, n: number, base: number, alpha: number, w: Float64Array, acc: Float64Array) => void;
}

/** One adaptive form: how it builds the margin δ_ji and the temperature τ_ji. */
export interface AdaptiveFormFns {
  margin: HostAdaptiveFn;
  temperature: HostAdaptiveFn;
}

/** Registry of adaptive forms (form name → functions). */
export const ADAPTIVE_FORMS: Readonly<Record<AdaptiveForm, AdaptiveFormFns>> = {
  linear: {
    margin: {
      values: (sim, off, n, base, alpha, out) => {
        for (let i = 0; i < n; i++) out[i] = base + alpha * (1 - sim[off + i]);
      },
      grads: (_sim, _off, n, _base, alpha, out) => out.fill(-alpha, 0, n),
      params: (sim, off, n, _base, _alpha, w, acc) => {
        for (let i = 0; i < n; i++) {
          acc[0] += w[i];
          acc[1] += w[i] * (1 - sim[off + i]);
        }
      },
    },
    temperature: {
      values: (sim, off, n, base, alpha, out) => {
        for (let i = 0; i < n; i++) out[i] = base * (1 + alpha * (1 - sim[off + i]));
      },
      grads: (_sim, _off, n, base, alpha, out) => out.fill(-base * alpha, 0, n),
      params: (sim, off, n, base, alpha, w, acc) => {
        for (let i = 0; i < n; i++) {
          acc[0] += w[i] * (1 + alpha * (1 - sim[off + i]));
          acc[1] += w[i] * base * (1 - sim[off + i]);
        }
      },
    },
  },
};

/** Looks up an adaptive form, throwing a clear error for unknown names. */
export function getAdaptiveForm(name: string): AdaptiveFormFns {
  const form = Object.prototype.hasOwnProperty.call(ADAPTIVE_FORMS, name) ? ADAPTIVE_FORMS[name as AdaptiveForm] : undefined;
  if (!form) {
    throw new Error(`Unknown adaptive form "${name}"; known: ${Object.keys(ADAPTIVE_FORMS).join(', ')}`);
  }
  return form;
}
