/**
 * The training loss and its exact gradient with respect to the scores, on host arrays, for the trainer's
 * hand-written backward pass (src/core/training/trainStep.ts): the [B, N] work is a few loops here,
 * against dozens of tfjs kernels and a gradient tape. Computed in float64. For a batch of B pairs
 * (q_j, v_j), N candidates (v_0..v_{B−1}, then explicit negatives) and the valid negatives N(j):
 *   L = mean_j ℓ(j) + w · mean_j ℓ_sym(j)
 * ℓ anchored on q_j (candidates s(q_j, ·), δ/τ from s(v_j, ·)), ℓ_sym on v_j (symmetricTerm.ts); each side
 * in anchoredSide.ts. Masks are 0/1 (as the batcher builds them). A NaN or ±Infinity in a used score or
 * δ/τ makes the loss non-finite on every variant (the trainer then fails the step with its number).
 * test/unit/model.test.ts checks values and gradients against the tfjs reference (test/reference/tfjsLoss.ts)
 * + tf.grads for the 8 variants it lists (fixed / adaptive × margin / softmax, with and without
 * stop-gradient and the symmetric term, τ₀ = 1/30) and the NaN propagation of each.
 */
import { anchoredSide } from './anchoredSide';
import { hasSymmetricTerm } from './symmetricTerm';
import type { HostLossInputs, LossConfig, RowScratch } from './types';

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
  /** ∂L/∂α, ∂L/∂δ₀, ∂L/∂τ₀ at the config's values (learnedHyper.ts; 0 for one the loss does not use). */
  dLearned: { alpha: number; delta0: number; tau0: number };
}

/**
 * L = lossQ + w·lossSym with ∂L/∂scores and ∂L/∂pos:
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
  const dL = new Float64Array(3);
  const lossQ = anchoredSide(inp, 0, B * N, counts, rowsWithNegatives, cfg, 1, dScores, dPos, scratch, hyper, dL);
  const lossSym = sym ? anchoredSide(inp, B * N, 0, counts, rowsWithNegatives, cfg, w, dScores, dPos, scratch, undefined, dL) : 0;
  const loss = sym ? lossQ + w * lossSym : lossQ;
  // A non-finite score can still give a finite loss (a −∞ hinge, an unused symmetric half): the
  // step must fail anyway, so any non-finite used score or positive makes the loss NaN.
  const dLearned = { alpha: dL[0], delta0: dL[1], tau0: dL[2] };
  return { loss: usedScoresFinite(inp, counts) ? loss : NaN, lossQ, lossSym, hyper, dScores, dPos, dLearned };
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
