/**
 * DPSR multi-head query tower (model.preset "dpsr"): Zhang et al., "Towards Personalized and Semantic Retrieval:
 * An End-to-End Solution for E-commerce Search via Embedding Learning", SIGIR 2020 (arXiv 2006.02282), §3
 * "Multi-Head Design" and "Attention Loss". The query tower gives K unit embeddings e_1..e_K (here: K output
 * layers on the shared embedding bag and hidden layer, towerForward.ts), the item tower one unit embedding g, and
 * the score is the paper's attention-weighted sum of the K inner products:
 *   c_k = e_kᵀg,   w_k = exp(c_k/β) / Σ_l exp(c_l/β),   s(q, v) = G(Q(q), S(v)) = Σ_k w_k c_k      (β = DPSR_BETA)
 * s is a convex combination of cosines, so it lies in [−1, 1] like the DSSM score; K = 1 gives s = eᵀg exactly.
 * Every loss, δ/τ, diagnostic, step sample and verdict of a dpsr run is computed on this s (docs/towers.md).
 * Gradient: ∂s/∂c_k = w_k·(1 + (c_k − s)/β); ∂s/∂e_k = ∂s/∂c_k·g, ∂s/∂g = Σ_k ∂s/∂c_k·e_k.
 * Shapes: query heads [rows × K·D] (row j holds e_j1..e_jK, i.e. [rows·K × D]), items [N × D].
 */
import { matMulHost, transposeHost } from '../../numeric/matMul';
import type { SearchResult } from '../../vectorIndex/types';
import type { BatchScores } from './index';

/** β, the softmax temperature over heads (fixed; β → 0 gives max_k c_k, β → ∞ the mean of the heads). */
export const DPSR_BETA = 0.1;

/** Default K when model.queryHeads is absent. */
export { DPSR_DEFAULT_HEADS } from './presets';

/**
 * The attention score of Q queries (K heads each) against N items: s [Q × N] (float32), and for the backward the
 * weights w [Q·K × N] and per-head cosines c [Q·K × N] (row j·K + k).
 */
export function dpsrScores(
  eQ: Float32Array,
  eI: Float32Array,
  Q: number,
  K: number,
  N: number,
  D: number,
): { s: Float32Array; c: Float32Array; w: Float32Array } {
  const c = matMulHost(eQ.subarray(0, Q * K * D), transposeHost(eI.subarray(0, N * D), N, D), Q * K, D, N);
  const w = new Float32Array(Q * K * N);
  const s = new Float32Array(Q * N);
  const ex = new Float64Array(K);
  for (let j = 0; j < Q; j++) {
    for (let n = 0; n < N; n++) {
      let max = -Infinity;
      for (let k = 0; k < K; k++) max = Math.max(max, c[(j * K + k) * N + n]);
      let z = 0;
      for (let k = 0; k < K; k++) z += ex[k] = Math.exp((c[(j * K + k) * N + n] - max) / DPSR_BETA);
      let acc = 0;
      for (let k = 0; k < K; k++) {
        const i = (j * K + k) * N + n;
        const wk = ex[k] / z;
        w[i] = wk;
        acc += wk * c[i];
      }
      // A NaN cosine gives NaN weights (max is then −∞ or NaN): the score stays NaN and the step fails.
      s[j * N + n] = Number.isNaN(max) ? NaN : acc;
    }
  }
  return { s, c, w };
}

/**
 * BatchScores of a DPSR batch (trainStep.ts): sQV from dpsrScores, sVV = ⟨v_j, items⟩, pos_j = sQV[j, j]
 * (item j is pair j's positive). Backward: a_jnk = dS_jn·w_jnk·(1 + (c_jnk − s_jn)/β);
 *   ∂L/∂e_jk = Σ_n a_jnk g_n  (A·items),  ∂L/∂g_n = Σ_jk a_jnk e_jk (Aᵀ·E) + the sVV terms as in dssm.ts.
 */
export function dpsrBatchScores(eQ: Float32Array, eI: Float32Array, B: number, K: number, N: number, D: number): BatchScores {
  const { s, c, w } = dpsrScores(eQ, eI, B, K, N, D);
  const v = eI.subarray(0, B * D);
  const sVV = matMulHost(v, transposeHost(eI, N, D), B, D, N);
  const scores = new Float32Array(2 * B * N);
  scores.set(s);
  scores.set(sVV, B * N);
  const pos = new Float64Array(B);
  for (let j = 0; j < B; j++) pos[j] = s[j * N + j];
  const backward = (dScores: Float32Array, dPos: Float64Array) => {
    const a = new Float32Array(B * K * N);
    for (let j = 0; j < B; j++) {
      for (let n = 0; n < N; n++) {
        const dS = dScores[j * N + n] + (n === j ? dPos[j] : 0);
        if (dS === 0) continue;
        const sj = s[j * N + n];
        for (let k = 0; k < K; k++) {
          const i = (j * K + k) * N + n;
          a[i] = dS * w[i] * (1 + (c[i] - sj) / DPSR_BETA);
        }
      }
    }
    const dQ = matMulHost(a, eI, B * K, N, D);
    const dItems = matMulHost(transposeHost(a, B * K, N), eQ.subarray(0, B * K * D), N, B * K, D);
    // sVV[j, n] = ⟨v_j, g_n⟩ with v_j = g_j: ∂g_n += Σ_j dV_jn v_j, ∂v_j += Σ_n dV_jn g_n.
    const dV = dScores.subarray(B * N, 2 * B * N);
    const fromV = matMulHost(transposeHost(dV, B, N), v, N, B, D);
    const toV = matMulHost(dV, eI, B, N, D);
    for (let i = 0; i < N * D; i++) dItems[i] += fromV[i];
    for (let i = 0; i < B * D; i++) dItems[i] += toV[i];
    return { dQ, dItems };
  };
  return { scores, pos, backward };
}

/** s(q_j, item_n) of one query (K heads at row qi of `eQ`) and one item row: the score a failure record shows. */
export function dpsrPairScore(eQ: Float32Array, qi: number, eI: Float32Array, n: number, K: number, D: number): number {
  return dpsrScores(eQ.subarray(qi * K * D, (qi + 1) * K * D), eI.subarray(n * D, (n + 1) * D), 1, K, 1, D).s[0];
}

/**
 * Retrieval for multi-head queries (docs/towers.md): each of the K heads searches the index on its own (`perHead`
 * = the K·nq rows of one search, `depth` hits each, as DPSR serves every head's embedding from the same index); the
 * union of a query's hits is re-scored with the exact attention score s against the items' embeddings and the
 * best `k` kept. Exact for K = 1; for K > 1 an item can be missed only when it is outside every head's top `depth`.
 */
export function mergeHeadHits(perHead: SearchResult, eQ: Float32Array, corpusEmb: Float32Array, nq: number, K: number, D: number, k: number): SearchResult {
  const labels = new Int32Array(nq * k).fill(-1);
  const scores = new Float32Array(nq * k).fill(-Infinity);
  const depth = perHead.k;
  for (let q = 0; q < nq; q++) {
    const cand = new Set<number>();
    for (let h = 0; h < K; h++)
      for (let j = 0; j < depth; j++) {
        const l = perHead.labels[(q * K + h) * depth + j];
        if (l >= 0) cand.add(l);
      }
    const ids = [...cand];
    const items = new Float32Array(ids.length * D);
    ids.forEach((l, i) => items.set(corpusEmb.subarray(l * D, (l + 1) * D), i * D));
    const { s } = dpsrScores(eQ.subarray(q * K * D, (q + 1) * K * D), items, 1, K, ids.length, D);
    const order = ids.map((_, i) => i).sort((a, b) => s[b] - s[a] || ids[a] - ids[b]);
    for (let r = 0; r < Math.min(k, order.length); r++) {
      labels[q * k + r] = ids[order[r]];
      scores[q * k + r] = s[order[r]];
    }
  }
  return { nq, k, labels, scores };
}
