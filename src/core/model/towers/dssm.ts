/**
 * DSSM scoring (model.preset "dssm", and any one-head query tower): s(q, v) = ⟨q, v⟩ of unit vectors.
 *   q [B × D] query embeddings, items [N × D] candidates (rows 0..B−1 the positives v).
 * `scores` [2B × N] = [q; v]·itemsᵀ (sQV then sVV), pos_j = ⟨q_j, v_j⟩; backward maps ∂L/∂scores and
 * ∂L/∂pos to ∂L/∂q [B × D] and ∂L/∂items [N × D]:
 *   ∂L/∂[q; v] = dS·items (+ dPos_j·v_j on q_j);  ∂L/∂items = dSᵀ·[q; v] (+ ∂L/∂v_j and dPos_j·q_j on rows 0..B−1).
 */
import { matMulHost, transposeHost } from '../../numeric/matMul';
import type { BatchScores } from './index';

export function dotBatchScores(eQ: Float32Array, eI: Float32Array, B: number, N: number, D: number): BatchScores {
  const qv = new Float32Array(2 * B * D);
  qv.set(eQ.subarray(0, B * D));
  qv.set(eI.subarray(0, B * D), B * D);
  const scores = matMulHost(qv, transposeHost(eI, N, D), 2 * B, D, N);
  const pos = new Float64Array(B);
  for (let j = 0; j < B; j++) {
    let s = 0;
    for (let k = 0; k < D; k++) s += eQ[j * D + k] * eI[j * D + k];
    pos[j] = s;
  }
  const backward = (dScores: Float32Array, dPos: Float64Array) => {
    const dQV = matMulHost(dScores, eI, 2 * B, N, D);
    const dItems = matMulHost(transposeHost(dScores, 2 * B, N), qv, N, 2 * B, D);
    for (let j = 0; j < B; j++) {
      const g = dPos[j];
      const o = j * D;
      const ov = (B + j) * D;
      for (let k = 0; k < D; k++) {
        dQV[o + k] += g * eI[o + k];
        dItems[o + k] += dQV[ov + k] + g * eQ[o + k];
      }
    }
    return { dQ: dQV.subarray(0, B * D), dItems };
  };
  return { scores, pos, backward };
}
