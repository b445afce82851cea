/**
 * One pass over the B×N pair matrices of a step: gathers the values the distribution summaries
 * need and counts in-batch ranks and violations on the way (one read of ~250k entries instead of
 * one per quantity). Fails fast, naming the quantity and position, on NaN or ±Infinity.
 */
import { NEG_MASK_THRESHOLD } from './stepInputChecks';
import type { StepHostTensors } from './stepInputs';

/** Result of scanPairs. The Float32Arrays are views into scratch buffers reused by the next call. */
export interface PairScan {
  /** s(q_j, v_j) for j = 0..B-1. */
  positives: Float32Array;
  /** s(q_j, items_i) over valid negatives, (j, i) row-major. */
  sQNeg: Float32Array;
  /** s(v_j, items_i) over valid negatives, same order. */
  sVNeg: Float32Array;
  /** δ_ji or τ_ji over valid negatives, same order. */
  hyper: Float32Array;
  /**
   * 1-based in-batch rank of each pair's positive among {v_j} ∪ N(j) by s(q_j, ·):
   * rank_j = 1 + #{ i ≠ j : negMask[j,i] = 1 and sQV[j,i] >= sQV[j,j] }. Ties count against the
   * positive, so equal scores (e.g. a collapsed model) never give a flattering rank; masked
   * columns (negMask = 0: the diagonal, accidental hits) are not candidates. 0 for a row without any
   * valid negative: its positive is not ranked against anything, so it is left out of recall.
   */
  ranks: Int32Array;
  /** #{ valid (j, i) : s(q_j, v_j) <= s(v_j, items_i) }. */
  violations: number;
}

let scratchQ = new Float32Array(0);
let scratchV = new Float32Array(0);
let scratchH = new Float32Array(0);

function nonFinite(quantity: string, value: number, j: number, i?: number): RangeError {
  const where = i === undefined ? `pair j=${j}` : `pair j=${j}, item i=${i}`;
  return new RangeError(`${quantity} is ${value} at ${where}`);
}

/** The error for the first non-finite used value of row j (slow path, only on failure). */
function firstNonFinite(x: StepHostTensors, j: number, hyperName: string): RangeError {
  const { N, sQV, sVV, negMask, hyper } = x;
  const row = j * N;
  for (let i = 0; i < N; i++) {
    if (!(negMask[row + i] > NEG_MASK_THRESHOLD) || i === j) continue;
    if (!Number.isFinite(sQV[row + i])) return nonFinite('s(q,v⁻) (sQV over valid negatives)', sQV[row + i], j, i);
    if (!Number.isFinite(sVV[row + i])) return nonFinite('s(v,v⁻) (sVV over valid negatives)', sVV[row + i], j, i);
    if (!Number.isFinite(hyper[row + i])) return nonFinite(hyperName, hyper[row + i], j, i);
  }
  return new RangeError(`non-finite value in row j=${j}`); // unreachable: rowCheck saw one
}

/**
 * Scans the pairs of `x` (shapes assumed checked by checkStepHostTensors). Throws a RangeError
 * naming the quantity, e.g. "s(v,v⁻) (sVV over valid negatives) is NaN at pair j=3, item i=7",
 * when a used value is NaN or ±Infinity. Values where negMask = 0 are never read except the
 * diagonal of sQV.
 */
export function scanPairs(x: StepHostTensors): PairScan {
  const { B, N, sQV, sVV, negMask, hyper } = x;
  const hyperName = x.hyperKind === 'delta' ? 'δ (hyper over valid negatives)' : 'τ (hyper over valid negatives)';
  if (scratchQ.length < B * N) {
    scratchQ = new Float32Array(B * N);
    scratchV = new Float32Array(B * N);
    scratchH = new Float32Array(B * N);
  }
  const qNeg = scratchQ;
  const vNeg = scratchV;
  const hNeg = scratchH;
  const maskThreshold = NEG_MASK_THRESHOLD; // a local: imported bindings can be getters in hot loops
  const positives = new Float32Array(B);
  const ranks = new Int32Array(B);
  let count = 0;
  let violations = 0;
  for (let j = 0; j < B; j++) {
    const row = j * N;
    const pos = sQV[row + j];
    if (pos - pos !== 0) throw nonFinite('s(q,v) (sQV diagonal)', pos, j);
    positives[j] = pos;
    let above = 0;
    let negatives = 0;
    // Finite unless a used value is NaN / ±Infinity (a sum of finite float32s cannot overflow).
    let rowCheck = 0;
    for (let i = 0; i < N; i++) {
      if (!(negMask[row + i] > maskThreshold) || i === j) continue;
      const a = sQV[row + i];
      const b = sVV[row + i];
      const h = hyper[row + i];
      rowCheck += a + b + h;
      // +(boolean) counts without a branch: on noisy early-training scores these comparisons are
      // coin flips, and mispredicted branches doubled the cost of this loop.
      above += +(a >= pos);
      negatives++;
      violations += +(pos <= b);
      qNeg[count] = a;
      vNeg[count] = b;
      hNeg[count] = h;
      count++;
    }
    if (!Number.isFinite(rowCheck)) throw firstNonFinite(x, j, hyperName);
    ranks[j] = negatives > 0 ? 1 + above : 0;
  }
  return {
    positives,
    sQNeg: qNeg.subarray(0, count),
    sVNeg: vNeg.subarray(0, count),
    hyper: hNeg.subarray(0, count),
    ranks,
    violations,
  };
}
