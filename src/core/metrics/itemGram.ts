/**
 * The B×B Gram matrix G = V Vᵀ of the item batch, preferably taken from the step's sVV instead of
 * being recomputed (a 350×350×128 product costs ~5 ms on the host; copying the block ~0.3 ms).
 */
import { rowGram } from '../numeric/gramMatrix';
import type { StepHostTensors } from './stepInputs';

/** Largest |sVV[j,i] − v_jᵀv_i| (relative to max(1, |v_jᵀv_i|)) for which sVV counts as V Vᵀ. */
export const ITEM_GRAM_TOLERANCE = 1e-3;

/** Where itemGram took the Gram matrix from. */
export type ItemGramSource = 'sVV' | 'itemEmb';

function dotRows(v: Float32Array, d: number, a: number, b: number): number {
  let s = 0;
  for (let k = 0; k < d; k++) s += v[a * d + k] * v[b * d + k];
  return s;
}

/**
 * G[j·B + i] = v_jᵀ v_i (float64). Items rows 0..B-1 are the batch positives and s is the dot
 * product of L2-normalised embeddings, so sVV[j, i] = v_jᵀ v_i for i < B: that block is used,
 * symmetrised as (sVV[j,i] + sVV[i,j]) / 2, when it agrees with itemEmb within
 * ITEM_GRAM_TOLERANCE on the 2B checked entries (j, j) and (j, j+1 mod B) — i.e. s really is that
 * dot product and the layout is as documented. Otherwise G is computed from itemEmb. Shapes are
 * assumed checked; a non-finite sVV entry in the block throws.
 */
export function itemGram(x: StepHostTensors): { gram: Float64Array; source: ItemGramSource } {
  const { B, N, D, sVV, itemEmb } = x;
  for (let j = 0; j < B; j++) {
    for (const i of [j, (j + 1) % B]) {
      const expected = dotRows(itemEmb, D, j, i);
      if (!(Math.abs(sVV[j * N + i] - expected) <= ITEM_GRAM_TOLERANCE * Math.max(1, Math.abs(expected)))) {
        return { gram: rowGram(itemEmb, B, D), source: 'itemEmb' };
      }
    }
  }
  const gram = new Float64Array(B * B);
  for (let j = 0; j < B; j++) {
    gram[j * B + j] = sVV[j * N + j];
    for (let i = j + 1; i < B; i++) {
      const g = 0.5 * (sVV[j * N + i] + sVV[i * N + j]);
      if (g - g !== 0) {
        throw new RangeError(`s(v,v) (sVV item–item block) is not finite at pair j=${j}, item i=${i}`);
      }
      gram[j * B + i] = g;
      gram[i * B + j] = g;
    }
  }
  return { gram, source: 'sVV' };
}

/**
 * Rows of the batch positives that are distinct items: row j is kept unless an earlier row i < j is
 * the same item, which the batcher marks by masking it as j's negative (negMask[j, i] = 0 for
 * i ≠ j, i < B: same id). Null when every row is distinct.
 */
export function distinctItemRows(x: StepHostTensors): Int32Array | null {
  const { B, N, negMask } = x;
  const keep: number[] = [];
  for (let j = 0; j < B; j++) {
    let duplicate = false;
    for (let i = 0; i < j && !duplicate; i++) duplicate = negMask[j * N + i] === 0;
    if (!duplicate) keep.push(j);
  }
  return keep.length === B ? null : Int32Array.from(keep);
}

/** The Gram matrix of the rows `rows` of the B×B Gram matrix `gram`. */
export function subGram(gram: Float64Array, b: number, rows: Int32Array): Float64Array {
  const u = rows.length;
  const out = new Float64Array(u * u);
  for (let a = 0; a < u; a++) for (let c = 0; c < u; c++) out[a * u + c] = gram[rows[a] * b + rows[c]];
  return out;
}
