/**
 * Adap-τ (Chen et al., "Adap-τ: Adaptively Modulating Embedding Magnitude for Recommendation", WWW 2023,
 * arXiv 2302.04775; code github.com/junkangwu/Adap_tau, modules/MF_tau.py `_loss_to_tau`, tau_mode
 * "weight_mean") applied per anchor of the batch (the paper's per-user temperature; a search query is
 * the anchor). For the rows j ∈ J with ≥ 1 valid negative:
 *   x_j = log Σ_{i∈N(j)} exp(neg_ji) − pos_j                       (the anchor's loss at τ = 1, sg)
 *   z_j = clamp((x_j − mean_{J} x) / t₂, −1/e, 1000)
 *   τ_j = τ₀ · exp(W(z_j))                                          (W: principal Lambert W)
 * The code's inverse temperature is w₀·exp(−W(z)), i.e. τ_j = exp(W(z_j)) / w₀ with τ₀ = 1/w₀: an anchor
 * whose loss is above the batch mean gets a larger τ (a softer softmax), one below a smaller τ.
 * τ_j is held constant in the backward pass (the code's `.detach()`); ∂τ_j/∂τ₀ = τ_j/τ₀ (learned τ₀).
 * Left out, and why: the paper's w₀ is estimated from whole-data statistics (|U|·|I| / |Y| and the mean
 * positive score); here τ₀ is the configured (or learned) base. The paper's per-user loss is a mean over the
 * previous epoch; search queries are not seen twice, so x_j is the anchor's loss in this batch. The row loss
 * stays the softmaxLoss.ts form (positive in the denominator, one τ_j for positive and negatives).
 * Shapes: candidate scores row j at negOff + j·N ([B × N]), pos [B], mask [B × N], out [B].
 */

/** Principal branch W(z) of the Lambert W function (w·eʷ = z) for z ≥ −1/e, by Halley's iteration. */
export function lambertW(z: number): number {
  if (Number.isNaN(z) || z < -1 / Math.E) return NaN;
  if (z === 0) return 0;
  // Start: near the branch point the series −1 + p − p²/3, p = √(2(ez + 1)); else log1p / log − log log.
  let w: number;
  if (z < -0.25) {
    const p = Math.sqrt(Math.max(0, 2 * (Math.E * z + 1)));
    w = -1 + p - (p * p) / 3;
  } else if (z < 3) w = Math.log1p(z) * 0.8;
  else {
    const l = Math.log(z);
    w = l - Math.log(l);
  }
  for (let k = 0; k < 50; k++) {
    const ew = Math.exp(w);
    const f = w * ew - z;
    if (f === 0) break;
    const wp1 = w + 1;
    if (wp1 === 0) break;
    const step = f / (ew * wp1 - ((w + 2) * f) / (2 * wp1));
    w -= step;
    if (Math.abs(step) <= 1e-15 * (1 + Math.abs(w))) break;
  }
  return w;
}

/** Largest z fed to W (the code's table ends at 1000). */
const Z_MAX = 1000;

/**
 * τ_j of every anchor row (rows without a negative get τ₀). `counts[j]` = |N(j)|.
 */
export function adapTauTemperatures(
  scores: Float32Array,
  negOff: number,
  pos: Float64Array,
  mask: Float32Array,
  counts: Int32Array,
  B: number,
  N: number,
  tau0: number,
  t2: number,
  out: Float64Array,
): Float64Array {
  const x = new Float64Array(B);
  let sum = 0;
  let rows = 0;
  for (let j = 0; j < B; j++) {
    if (counts[j] === 0) continue;
    const o = negOff + j * N;
    let m = -Infinity;
    for (let i = 0; i < N; i++) if (mask[j * N + i] !== 0 && scores[o + i] > m) m = scores[o + i];
    let s = 0;
    for (let i = 0; i < N; i++) if (mask[j * N + i] !== 0) s += Math.exp(scores[o + i] - m);
    x[j] = m + Math.log(s) - pos[j];
    sum += x[j];
    rows++;
  }
  const mean = rows > 0 ? sum / rows : 0;
  for (let j = 0; j < B; j++) {
    if (counts[j] === 0) {
      out[j] = tau0;
      continue;
    }
    const z = Math.min(Z_MAX, Math.max(-1 / Math.E, (x[j] - mean) / t2));
    out[j] = tau0 * Math.exp(lambertW(z));
  }
  return out;
}
