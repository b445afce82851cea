/**
 * Mean embedding bag over a table kept in a Float32Array [rows × dim], computed on the host so that
 * its gradient is a sparse row update: only the rows a batch touches are ever read or written.
 */

/** bag[r] = mean_{t ∈ seqs[r]} table[t]  (zeros for an empty sequence). Returns [seqs.length × dim]. */
export function bagForward(table: Float32Array, dim: number, seqs: Int32Array[]): Float32Array {
  const out = new Float32Array(seqs.length * dim);
  for (let r = 0; r < seqs.length; r++) {
    const ids = seqs[r];
    if (ids.length === 0) continue;
    const o = r * dim;
    for (let k = 0; k < ids.length; k++) {
      const base = ids[k] * dim;
      for (let d = 0; d < dim; d++) out[o + d] += table[base + d];
    }
    const inv = 1 / ids.length;
    for (let d = 0; d < dim; d++) out[o + d] *= inv;
  }
  return out;
}

/** The touched rows of a table and their accumulated gradients: grads is [rows.length × dim]. */
export interface SparseRowGrads {
  rows: Int32Array;
  grads: Float32Array;
}

/**
 * Backward of bagForward: ∂L/∂table[t] = Σ_{r : t ∈ seqs[r]} ∂L/∂bag[r] / |seqs[r]|, returned only for
 * the touched rows. `slotOf` is scratch of length ≥ table rows, filled with -1 on entry and on exit.
 */
export function bagBackward(gradBag: Float32Array, dim: number, seqs: Int32Array[], slotOf: Int32Array): SparseRowGrads {
  const rows: number[] = [];
  for (const ids of seqs) {
    for (let k = 0; k < ids.length; k++) {
      if (slotOf[ids[k]] < 0) {
        slotOf[ids[k]] = rows.length;
        rows.push(ids[k]);
      }
    }
  }
  const grads = new Float32Array(rows.length * dim);
  for (let r = 0; r < seqs.length; r++) {
    const ids = seqs[r];
    if (ids.length === 0) continue;
    const inv = 1 / ids.length;
    const g = r * dim;
    for (let k = 0; k < ids.length; k++) {
      const s = slotOf[ids[k]] * dim;
      for (let d = 0; d < dim; d++) grads[s + d] += gradBag[g + d] * inv;
    }
  }
  for (const row of rows) slotOf[row] = -1;
  return { rows: Int32Array.from(rows), grads };
}
