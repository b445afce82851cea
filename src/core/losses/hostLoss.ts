import { getAdaptiveForm } from './adaptiveForms';
import { hasSymmetricTerm } from './symmetric';
import { LossConfig } from './types';

/**
 * The training loss of `computeLoss` (index.ts) and its exact gradient with respect to the scores,
 * on host arrays, for the trainer's hand-written backward pass: the [B, N] work is a few loops here,
 * against dozens of tfjs kernels and a gradient tape. Same formulas, same conventions (rows without
 * negatives excluded from the means, stop-gradient on the adaptive δ/τ), computed in float64.
 * Masks are 0/1 (as the batcher builds them). A NaN or ±Infinity in a used score or δ/τ makes the
 * loss non-finite on every variant (the trainer then fails the step with its number). test/model.test.ts
 * checks values and gradients against `computeLoss` + tf.grads for the 8 variants it lists (fixed /
 * adaptive × margin / softmax, with and without stop-gradient and the symmetric term, τ₀ = 1/30)
 * and the NaN propagation of each.
 */

/** Inputs: scores of both anchors against all candidates, positive scores and the negative mask. */
export interface HostLossInputs {
  /** [2B × N]: rows 0..B−1 sQV = s(q_j, items_i), rows B..2B−1 sVV = s(v_j, items_i). */
  scores: Float32Array;
  /** [B] pos_j = s(q_j, v_j). */
  pos: Float64Array;
  /** [B × N] 0/1: 1 where items[i] is a valid negative of pair j. */
  negMask: Float32Array;
  B: number;
  N: number;
}

export interface HostLossOutput {
  loss: number;
  lossQ: number;
  lossSym: number;
  /** [B × N] δ_ji / τ_ji of the query-anchored term (the constant for fixed losses). */
  hyper: Float32Array;
  /** [2B × N] ∂L/∂scores, laid out as `scores`. */
  dScores: Float32Array;
  /** [B] ∂L/∂pos_j. */
  dPos: Float64Array;
}

/** Per-row scratch of the row functions. */
interface RowScratch {
  hyper: Float64Array;
  dNeg: Float64Array;
  dHyper: Float64Array;
  /** d(δ or τ)/d(reference similarity) of the row. */
  dForm: Float64Array;
}

/**
 * Softmax row: ℓ = log(1 + Σ_{i∈N} exp(z_i)), z_i = (neg_i − pos)/τ_i, with m = max(0, max_i z_i)
 * subtracted for stability. With p_i = exp(z_i)/(1 + Σ exp(z)): ∂ℓ/∂neg_i = p_i/τ_i,
 * ∂ℓ/∂τ_i = −p_i·z_i/τ_i (0 outside N), and ∂ℓ/∂pos = −Σ_i ∂ℓ/∂neg_i. Returns ℓ.
 */
function softmaxRow(neg: Float32Array, no: number, pos: number, mask: Float32Array, mo: number, N: number, s: RowScratch): number {
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

/**
 * Margin row: ℓ = (1/|N|) Σ_{i∈N} max(0, δ_i − pos + neg_i) (|N| ≥ 1 here).
 * ∂ℓ/∂neg_i = ∂ℓ/∂δ_i = 1[δ_i − pos + neg_i > 0]/|N|, and ∂ℓ/∂pos = −Σ_i ∂ℓ/∂neg_i. Returns ℓ.
 */
function marginRow(neg: Float32Array, no: number, pos: number, mask: Float32Array, mo: number, N: number, count: number, s: RowScratch): number {
  const { hyper: delta, dNeg, dHyper } = s;
  const inv = 1 / count;
  let sum = 0;
  for (let i = 0; i < N; i++) {
    const violation = delta[i] - pos + neg[no + i];
    const active = mask[mo + i] !== 0 && violation > 0;
    if (active) sum += violation;
    // A NaN hinge (`NaN > 0` is false) must not vanish from the loss: it makes the row, and so the
    // loss, NaN, and the trainer fails the step naming it, as the tfjs losses do.
    else if (mask[mo + i] !== 0 && violation !== violation) sum = NaN;
    dNeg[i] = active ? inv : 0;
    dHyper[i] = dNeg[i];
  }
  return sum * inv;
}

/**
 * One anchor side, mean_j ℓ(j) over the rows with ≥ 1 negative (see `anchoredLoss`): candidate scores
 * `neg` (row j at negOff + j·N), δ/τ from the reference scores `ref` (row j at refOff + j·N).
 * Adds weight·∂/∂neg into dS at negOff, weight·∂/∂ref into dS at refOff (adaptive δ/τ without
 * stop-gradient only) and weight·∂/∂pos into dPos; writes δ/τ into hyperOut when given. Returns the mean.
 */
function anchoredSideHost(
  inp: HostLossInputs,
  negOff: number,
  refOff: number,
  counts: Int32Array,
  rowsWithNegatives: number,
  cfg: LossConfig,
  weight: number,
  dS: Float32Array,
  dPos: Float64Array,
  s: RowScratch,
  hyperOut?: Float32Array,
): number {
  const { scores, pos, negMask, B, N } = inp;
  const softmax = cfg.type === 'softmax';
  const form = cfg.adaptive ? getAdaptiveForm(cfg.adaptiveForm).host[softmax ? 'temperature' : 'margin'] : undefined;
  const base = softmax ? cfg.tau0 : cfg.delta0;
  const fixed = softmax ? cfg.temperature : cfg.margin;
  const refGrad = form !== undefined && !cfg.stopGradient;
  const scale = weight / Math.max(rowsWithNegatives, 1);
  let total = 0;
  for (let j = 0; j < B; j++) {
    const no = negOff + j * N;
    const ro = refOff + j * N;
    const mo = j * N;
    const hyper = s.hyper;
    if (form) form.values(scores, ro, N, base, cfg.alpha, hyper);
    else hyper.fill(fixed);
    if (hyperOut) for (let i = 0; i < N; i++) hyperOut[mo + i] = hyper[i];
    if (counts[j] === 0) continue;
    const l = softmax ? softmaxRow(scores, no, pos[j], negMask, mo, N, s) : marginRow(scores, no, pos[j], negMask, mo, N, counts[j], s);
    total += l;
    let dp = 0;
    const dNeg = s.dNeg;
    for (let i = 0; i < N; i++) {
      const g = scale * dNeg[i];
      dS[no + i] += g;
      dp -= g;
    }
    dPos[j] += dp;
    if (refGrad) {
      form.grads(scores, ro, N, base, cfg.alpha, s.dForm);
      for (let i = 0; i < N; i++) dS[ro + i] += scale * s.dHyper[i] * s.dForm[i];
    }
  }
  return total / Math.max(rowsWithNegatives, 1);
}

/**
 * L = lossQ + w·lossSym as in `computeLoss`, with ∂L/∂scores and ∂L/∂pos:
 *   lossQ anchored on q_j: candidates sQV, δ/τ from sVV;
 *   lossSym anchored on v_j: candidates sVV, δ/τ from sQV (skipped, 0, without a symmetric term).
 */
export function lossAndGradHost(inp: HostLossInputs, cfg: LossConfig): HostLossOutput {
  const { B, N, negMask } = inp;
  if (inp.scores.length < 2 * B * N || negMask.length < B * N || inp.pos.length < B || N < B) {
    throw new Error(`lossAndGradHost: inconsistent sizes (B ${B}, N ${N}, scores ${inp.scores.length}, mask ${negMask.length})`);
  }
  const counts = new Int32Array(B);
  let rowsWithNegatives = 0;
  for (let j = 0; j < B; j++) {
    let c = 0;
    for (let i = 0; i < N; i++) if (negMask[j * N + i] !== 0) c++;
    counts[j] = c;
    if (c > 0) rowsWithNegatives++;
  }
  const scratch: RowScratch = { hyper: new Float64Array(N), dNeg: new Float64Array(N), dHyper: new Float64Array(N), dForm: new Float64Array(N) };
  const dScores = new Float32Array(2 * B * N);
  const dPos = new Float64Array(B);
  const hyper = new Float32Array(B * N);
  const sym = hasSymmetricTerm(cfg);
  const w = cfg.symmetricWeight;
  // Gradients accumulate in float32 dScores: both terms add into both halves.
  const lossQ = anchoredSideHost(inp, 0, B * N, counts, rowsWithNegatives, cfg, 1, dScores, dPos, scratch, hyper);
  const lossSym = sym ? anchoredSideHost(inp, B * N, 0, counts, rowsWithNegatives, cfg, w, dScores, dPos, scratch) : 0;
  const loss = sym ? lossQ + w * lossSym : lossQ;
  // A non-finite score can still give a finite loss (a −∞ hinge, an unused symmetric half): the
  // step must fail anyway, so any non-finite used score or positive makes the loss NaN.
  return { loss: usedScoresFinite(inp, counts) ? loss : NaN, lossQ, lossSym, hyper, dScores, dPos };
}

/** Whether pos_j and both score rows at every valid negative are finite (rows with negatives only). */
function usedScoresFinite(inp: HostLossInputs, counts: Int32Array): boolean {
  const { scores, pos, negMask, B, N } = inp;
  let check = 0;
  for (let j = 0; j < B; j++) {
    if (counts[j] === 0) continue;
    check += pos[j];
    const row = j * N;
    for (let i = 0; i < N; i++) if (negMask[row + i] !== 0) check += scores[row + i] + scores[B * N + row + i];
  }
  // The sum of finite float32s cannot overflow float64: only a NaN / ±Infinity makes it non-finite.
  return Number.isFinite(check);
}
