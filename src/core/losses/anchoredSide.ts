/**
 * One anchor side of the loss, mean_j ℓ(j) over the rows with at least one valid negative:
 *   mean_j ℓ(j) = (1/|J|) Σ_{j∈J} ℓ(j),   J = {j : |N(j)| ≥ 1}   (0 when J is empty),
 * ℓ the margin row (marginLoss.ts) or softmax row (softmaxLoss.ts), δ/τ fixed or from the adaptive form
 * (adaptiveHyper.ts) of the reference similarity — held constant (sg) unless `cfg.stopGradient` is false —
 * or, with `cfg.temperatureRule` "adap-tau", one τ_j per anchor row (adapTau.ts, held constant).
 * ∂L/∂α, ∂L/∂δ₀, ∂L/∂τ₀ (learned hyper-parameters, learnedHyper.ts) = Σ_j Σ_i ∂ℓ(j)/∂h_ji · ∂h_ji/∂param / |J|.
 */
import { adapTauTemperatures } from './adapTau';
import { getAdaptiveForm } from './adaptiveHyper';
import { marginRow } from './marginLoss';
import { softmaxRow } from './softmaxLoss';
import type { HostLossInputs, LossConfig, RowScratch } from './types';

/**
 * One anchor side, mean_j ℓ(j) over the rows with ≥ 1 negative: candidate scores
 * `neg` (row j at negOff + j·N), δ/τ from the reference scores `ref` (row j at refOff + j·N).
 * Adds weight·∂/∂neg into dS at negOff, weight·∂/∂ref into dS at refOff (adaptive δ/τ without
 * stop-gradient only) and weight·∂/∂pos into dPos; writes δ/τ into hyperOut when given; adds
 * weight·∂/∂(α, δ₀, τ₀) into dLearned[0..2] when given. Returns the mean.
 */
export function anchoredSide(
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
  dLearned?: Float64Array,
): number {
  const { scores, pos, negMask, B, N } = inp;
  const softmax = cfg.type === 'softmax';
  const adapTau = softmax && cfg.temperatureRule === 'adap-tau';
  const form = cfg.adaptive && !adapTau ? getAdaptiveForm(cfg.adaptiveForm)[softmax ? 'temperature' : 'margin'] : undefined;
  const base = softmax ? cfg.tau0 : cfg.delta0;
  const fixed = softmax ? cfg.temperature : cfg.margin;
  const refGrad = form !== undefined && !cfg.stopGradient;
  const scale = weight / Math.max(rowsWithNegatives, 1);
  const rowTau = adapTau
    ? adapTauTemperatures(scores, negOff, inp.pos, negMask, counts, B, N, cfg.tau0, cfg.adapTauScale ?? 1, new Float64Array(B))
    : undefined;
  const acc = new Float64Array(2);
  let total = 0;
  for (let j = 0; j < B; j++) {
    const no = negOff + j * N;
    const ro = refOff + j * N;
    const mo = j * N;
    const hyper = s.hyper;
    if (rowTau) hyper.fill(rowTau[j]);
    else if (form) form.values(scores, ro, N, base, cfg.alpha, hyper);
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
    if (dLearned && (form || rowTau)) {
      acc.fill(0);
      if (form) form.params(scores, ro, N, base, cfg.alpha, s.dHyper, acc);
      else for (let i = 0; i < N; i++) acc[0] += s.dHyper[i] * (rowTau![j] / cfg.tau0);
      dLearned[softmax ? 2 : 1] += scale * acc[0];
      dLearned[0] += scale * acc[1];
    }
    if (refGrad) {
      form.grads(scores, ro, N, base, cfg.alpha, s.dForm);
      for (let i = 0; i < N; i++) dS[ro + i] += scale * s.dHyper[i] * s.dForm[i];
    }
  }
  return total / Math.max(rowsWithNegatives, 1);
}
