/**
 * Mean embedding bag over a table kept in a Float32Array [rows × dim], computed on the host so that
 * its gradient is a sparse row update: only the rows a batch touches are ever read or written.
 *
 * The kernels below (`bagForwardRange`, `buildRowIndex`) also run on the trainer's host-lane worker
 * thread (training/laneWorker.ts), on tables in shared memory.
 */

/** Bags of feature ids in one flat array: bag r holds ids[offsets[r] .. offsets[r + 1]). */
export interface FlatBags {
  ids: Int32Array;
  /** [count + 1] */
  offsets: Int32Array;
  count: number;
}

/** Concatenates bags into a FlatBags (into `out`'s arrays when they are large enough). */
export function flattenBags(seqs: Int32Array[], out?: { ids: Int32Array; offsets: Int32Array }): FlatBags {
  let total = 0;
  for (const s of seqs) total += s.length;
  const ids = out && out.ids.length >= total ? out.ids : new Int32Array(total);
  const offsets = out && out.offsets.length >= seqs.length + 1 ? out.offsets : new Int32Array(seqs.length + 1);
  let o = 0;
  offsets[0] = 0;
  for (let r = 0; r < seqs.length; r++) {
    ids.set(seqs[r], o);
    o += seqs[r].length;
    offsets[r + 1] = o;
  }
  return { ids, offsets, count: seqs.length };
}

/**
 * out[r] = mean_{t ∈ bag r} table[t] for the bags r0 ≤ r < r1 (zeros for an empty bag); out is
 * [bags × dim]. Sums in bag order with float32 rounding after every addition (bit-identical to a plain
 * `out[r] += table[t]` loop); four rows per pass so that their cache misses overlap.
 */
export function bagForwardRange(table: Float32Array, dim: number, ids: Int32Array, offsets: Int32Array, r0: number, r1: number, out: Float32Array): void {
  const f = Math.fround;
  for (let r = r0; r < r1; r++) {
    const s = offsets[r];
    const n = offsets[r + 1] - s;
    const o = r * dim;
    for (let d = 0; d < dim; d++) out[o + d] = 0;
    if (n === 0) continue;
    let k = s;
    const end = s + n;
    for (; k + 3 < end; k += 4) {
      const a = ids[k] * dim;
      const b = ids[k + 1] * dim;
      const c = ids[k + 2] * dim;
      const e = ids[k + 3] * dim;
      for (let d = 0; d < dim; d++) out[o + d] = f(f(f(out[o + d] + table[a + d]) + table[b + d]) + table[c + d]) + table[e + d];
    }
    for (; k < end; k++) {
      const a = ids[k] * dim;
      for (let d = 0; d < dim; d++) out[o + d] += table[a + d];
    }
    const inv = 1 / n;
    for (let d = 0; d < dim; d++) out[o + d] *= inv;
  }
}

/** bag[r] = mean_{t ∈ seqs[r]} table[t]  (zeros for an empty sequence). Returns [seqs.length × dim]. */
export function bagForward(table: Float32Array, dim: number, seqs: Int32Array[]): Float32Array {
  const { ids, offsets, count } = flattenBags(seqs);
  const out = new Float32Array(count * dim);
  bagForwardRange(table, dim, ids, offsets, 0, count, out);
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
 * (The trainer fuses this with the Adam update instead: see `RowIndex` and `Adam.updateRowsFromBags`.)
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

/**
 * Which bags touch which table rows, as compressed rows (CSR): the distinct ids of a FlatBags in
 * ascending order, `rows[0 .. count)`, and for distinct row u the bags containing it,
 * `bagOf[start[u] .. start[u + 1])`, in bag order (a bag listed once per occurrence). Ascending rows
 * make the lazy Adam walk the 134 MB arrays forwards; bag order keeps the gradient sums in the same
 * order as `bagBackward`'s.
 */
export interface RowIndex {
  rows: Int32Array;
  start: Int32Array;
  bagOf: Int32Array;
  count: number;
}

/** Scratch for buildRowIndex: `mark` a bitmap of ⌈vocab/32⌉ words (all zero between calls), `slotOf` [vocab]. */
export interface RowIndexScratch {
  mark: Uint32Array;
  slotOf: Int32Array;
}

export function rowIndexScratch(vocab: number): RowIndexScratch {
  return { mark: new Uint32Array((vocab + 31) >>> 5), slotOf: new Int32Array(vocab) };
}

/** An empty RowIndex able to hold `entries` occurrences. */
export function allocRowIndex(entries: number): RowIndex {
  return { rows: new Int32Array(entries), start: new Int32Array(entries + 1), bagOf: new Int32Array(entries), count: 0 };
}

/**
 * Fills `out` (arrays of length ≥ ids used, start ≥ that + 1) with the RowIndex of bags 0 ≤ r < nBags;
 * returns the number of distinct rows (also stored in the caller's RowIndex by `buildRowIndexOf`).
 * Linear in the number of ids plus vocab/32: distinct rows come out of a bitmap scan already sorted.
 */
export function buildRowIndex(
  ids: Int32Array,
  offsets: Int32Array,
  nBags: number,
  mark: Uint32Array,
  slotOf: Int32Array,
  rows: Int32Array,
  start: Int32Array,
  bagOf: Int32Array,
): number {
  const end = offsets[nBags];
  for (let k = 0; k < end; k++) {
    const t = ids[k];
    mark[t >>> 5] |= 1 << (t & 31);
  }
  let count = 0;
  for (let w = 0; w < mark.length; w++) {
    let bits = mark[w];
    if (bits === 0) continue;
    mark[w] = 0;
    while (bits !== 0) {
      const low = bits & -bits;
      const row = (w << 5) | (31 - Math.clz32(low));
      slotOf[row] = count;
      rows[count++] = row;
      bits ^= low;
    }
  }
  for (let u = 0; u <= count; u++) start[u] = 0;
  for (let k = 0; k < end; k++) start[slotOf[ids[k]] + 1]++;
  for (let u = 0; u < count; u++) start[u + 1] += start[u];
  // Fill in bag order, using slotOf as the per-row write cursor (left dirty: it is always rewritten first).
  for (let u = 0; u < count; u++) slotOf[rows[u]] = start[u];
  for (let r = 0; r < nBags; r++) {
    for (let k = offsets[r]; k < offsets[r + 1]; k++) bagOf[slotOf[ids[k]]++] = r;
  }
  return count;
}

/** buildRowIndex into `out` (grown when too small); returns `out` (or its replacement) with `count` set. */
export function buildRowIndexOf(bags: FlatBags, scratch: RowIndexScratch, out?: RowIndex): RowIndex {
  const entries = bags.offsets[bags.count];
  const idx = out && out.bagOf.length >= entries ? out : allocRowIndex(Math.max(entries, 1));
  idx.count = buildRowIndex(bags.ids, bags.offsets, bags.count, scratch.mark, scratch.slotOf, idx.rows, idx.start, idx.bagOf);
  return idx;
}
