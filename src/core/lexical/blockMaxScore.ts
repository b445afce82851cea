/**
 * Block-max MaxScore over the BM25 index's typed-array postings: the top `depth` rows of a query with exactly the
 * rows and scores (to the last bit, ties by row) of adding up every posting, while most postings are never scored.
 *
 * Built once (saved with the index): each term's row-sorted postings are cut into blocks of BLOCK_SIZE postings,
 * and each block keeps the largest contribution one of its postings can add to a score,
 *   blockMax[b] = max over postings (r, f) of the block of  idf(t)·f·(k1+1) / (f + norm[r])     (float32, rounded up)
 * computed with the scoring expression itself, so it bounds every contribution of the block (Ding & Suel,
 * "Faster top-k document retrieval using block-max indexes", SIGIR 2011), and each posting keeps its contribution
 * quantised up to 8 bits (an impact, as impact-ordered indexes store them: Anh & Moffat, SIGIR 2006),
 *   bound[j] = ⌈contribution / scale[t]⌉,  scale[t] = (the largest block maximum of t) / 255 · (1 + 2^−40),
 * so bound[j]·scale[t] ≥ the contribution: the pruning sums these bounds (one byte read and one multiply, where
 * the contribution costs a term frequency, a row's length norm and a division) and only step 4 sums exactly.
 *
 * A query (m distinct terms) walks the rows in windows of 2^windowBits consecutive rows (Lucene's MaxScoreBulkScorer
 * works the same way):
 * 1. per window w and query term i, wmax[i][w] = max of the blockMax of the blocks holding a posting of i in w
 *    (0: none), found block by block (a block inside one window costs O(1); a sparse block is walked by galloping
 *    from window to window); ub[w] = Σ_i wmax[i][w] bounds every score in w;
 * 2. windows are taken by ub descending (the threshold θ = the depth-th best score so far rises fast), and a window
 *    whose ub is below θ is skipped whole;
 * 3. inside a window, its terms by wmax ascending: the longest prefix whose bounds sum below θ is non-essential
 *    (MaxScore, Turtle & Flood 1995): a row only they hold cannot enter the top. The essential terms' postings'
 *    bounds in the window are added term at a time into a window-sized accumulator; each row touched is then
 *    completed by looking its non-essential terms up (galloping search) and adding their postings' bounds,
 *    largest window bound first, only while its partial bound plus the bounds still to come reaches θ;
 * 4. a row that reaches θ is scored again in the query's term order (as the exhaustive scorer sums) and offered.
 * Every comparison with θ keeps a relative slack of 1e-9, so rounding in the partial sums never drops a row; a row
 * tied with θ is always offered (the heap breaks ties by row).
 */
import { sharedArray } from './sharedArray';
import { TopRows } from './topRows';

/** Postings per block of the block maxima (part of the saved index's layout). */
export const BLOCK_SIZE = 64;
/** Rows per window of the pruned scorer, as a power of two (measured with `npm run bench:bm25`). */
export const WINDOW_BITS = 12;
const SLACK = 1 - 1e-9;

/** The index's arrays the scorer reads. */
export interface ScoredPostings {
  /** Postings of term t are [offsets[t], offsets[t + 1]): rows ascending, their term frequencies. */
  offsets: Uint32Array;
  rows: Uint32Array;
  tfs: Uint16Array;
  /** k1·(1 − b + b·|d|/avgdl) per row, idf per term, k1 + 1: a contribution is idf·f·k1p1 / (f + norm[r]). */
  norm: Float64Array;
  idf: Float64Array;
  k1p1: number;
}

/** Index of term t's first block: base[t] = Σ_{t' < t} ⌈df(t') / BLOCK_SIZE⌉ (base[terms] = the block count). */
export function blockBases(offsets: Uint32Array): Uint32Array {
  const terms = offsets.length - 1;
  const base = new Uint32Array(terms + 1);
  for (let t = 0; t < terms; t++) base[t + 1] = base[t] + Math.ceil((offsets[t + 1] - offsets[t]) / BLOCK_SIZE);
  return base;
}

const f32 = new Float32Array(1);
const f32Bits = new Uint32Array(f32.buffer);
/** The smallest float32 ≥ v (v positive and finite). */
function float32Up(v: number): number {
  f32[0] = v;
  if (f32[0] < v) f32Bits[0]++;
  return f32[0];
}

/** What the scorer reads beside the postings, computed at build time and saved with the index. */
export interface PostingBounds {
  /** Per block of each term's postings, the largest contribution (float32, rounded up). */
  blockMax: Float32Array;
  /** Per posting, its contribution quantised up: bound[j]·scale[t] ≥ contribution (see {@link boundScales}). */
  bound: Uint8Array;
}

/** scale of a term's 8-bit bounds from its largest block maximum: / 255, enlarged by 2^−40 against rounding. */
function termScale(maxBlockMax: number): number {
  return (maxBlockMax / 255) * (1 + 2 ** -40);
}

/** scale[t] of the postings' 8-bit bounds, from the saved block maxima (as {@link postingBounds} made them). */
export function boundScales(offsets: Uint32Array, blockMax: Float32Array): Float64Array {
  const base = blockBases(offsets);
  const scale = new Float64Array(offsets.length - 1);
  for (let t = 0; t < scale.length; t++) {
    let max = 0;
    for (let b = base[t]; b < base[t + 1]; b++) if (blockMax[b] > max) max = blockMax[b];
    scale[t] = termScale(max);
  }
  return scale;
}

/** The block maxima and the postings' 8-bit bounds of every term (see the file's comment); one contribution a posting. */
export function postingBounds(p: ScoredPostings): PostingBounds {
  const { offsets, rows, tfs, norm, idf, k1p1 } = p;
  const base = blockBases(offsets);
  const blockMax = sharedArray(Float32Array, base[base.length - 1]);
  const bound = sharedArray(Uint8Array, rows.length);
  let longest = 0;
  for (let t = 0; t < offsets.length - 1; t++) longest = Math.max(longest, offsets[t + 1] - offsets[t]);
  const v = new Float64Array(longest); // the contributions of one term's postings
  for (let t = 0, b = 0; t < offsets.length - 1; t++) {
    const id = idf[t];
    const start = offsets[t];
    const df = offsets[t + 1] - start;
    for (let k = 0; k < df; k++) {
      const f = tfs[start + k];
      v[k] = (id * f * k1p1) / (f + norm[rows[start + k]]);
    }
    let termMax = 0;
    for (let s = 0; s < df; s += BLOCK_SIZE, b++) {
      let max = 0;
      for (let k = s, e = Math.min(df, s + BLOCK_SIZE); k < e; k++) if (v[k] > max) max = v[k];
      blockMax[b] = float32Up(max);
      if (blockMax[b] > termMax) termMax = blockMax[b];
    }
    const sc = termScale(termMax);
    for (let k = 0; k < df; k++) {
      let q = Math.ceil(v[k] / sc);
      if (q * sc < v[k]) q++;
      bound[start + k] = Math.min(255, q); // v ≤ the term's largest block maximum < 255·sc: q ≤ 255
    }
  }
  return { blockMax, bound };
}

/** The first position in rows[from, to) (ascending) whose row is ≥ d, by galloping then binary search. */
export function seek(rows: Uint32Array, from: number, to: number, d: number): number {
  if (from >= to || rows[from] >= d) return from;
  let step = 1;
  let lo = from; // rows[lo] < d
  let hi = from + 1;
  while (hi < to && rows[hi] < d) {
    lo = hi;
    step *= 2;
    hi = Math.min(to, lo + step);
  }
  // rows[lo] < d, and hi === to or rows[hi] ≥ d
  while (hi - lo > 1) {
    const mid = (lo + hi) >>> 1;
    if (rows[mid] < d) lo = mid;
    else hi = mid;
  }
  return hi;
}

/** Block-max MaxScore over one index (its buffers are reused from query to query: one scorer per thread). */
export class BlockMaxScorer {
  private readonly base: Uint32Array;
  private readonly blockMax: Float32Array;
  private readonly bound: Uint8Array;
  private readonly scale: Float64Array;
  private wmax = new Float64Array(0);
  private wstart = new Uint32Array(0);
  private ub = new Float64Array(0);
  private keys = new Float64Array(0);
  private acc = new Float64Array(0);
  private bits = new Int32Array(0);
  /** Postings whose contribution the last query computed. */
  read = 0;

  constructor(
    private readonly p: ScoredPostings,
    bounds: PostingBounds,
    private readonly documents: number,
  ) {
    this.base = blockBases(p.offsets);
    ({ blockMax: this.blockMax, bound: this.bound } = bounds);
    if (this.base[this.base.length - 1] !== this.blockMax.length)
      throw new Error(`${this.blockMax.length} block maxima, the postings have ${this.base[this.base.length - 1]} blocks`);
    if (this.bound.length !== p.rows.length) throw new Error(`${this.bound.length} posting bounds, ${p.rows.length} postings`);
    this.scale = boundScales(p.offsets, this.blockMax);
  }

  /** The top `depth` rows (≥ 1) for the distinct query terms `ids` (in query order, at least one). */
  query(ids: readonly number[], depth: number, windowBits = WINDOW_BITS): { labels: number[]; scores: number[] } {
    const { offsets, rows, tfs, norm, idf, k1p1 } = this.p;
    const { bound, scale } = this;
    const W = 2 ** windowBits;
    const m = ids.length;
    const nW = Math.floor((this.documents - 1) / W) + 1;
    if (this.wmax.length < m * nW) [this.wmax, this.wstart] = [new Float64Array(m * nW), new Uint32Array(m * nW)];
    else this.wmax.fill(0, 0, m * nW);
    if (this.ub.length < nW) [this.ub, this.keys] = [new Float64Array(nW), new Float64Array(nW)];
    if (this.acc.length !== W) [this.acc, this.bits] = [new Float64Array(W), new Int32Array(W / 32)];
    const { wmax, wstart, ub, keys, acc, bits } = this;
    let read = 0;

    // 1. Window maxima and the first posting of each term in each window it has postings in.
    for (let i = 0; i < m; i++) {
      const t = ids[i];
      const e = offsets[t + 1];
      const row0 = i * nW;
      let lastW = -1;
      for (let s = offsets[t], b = this.base[t]; s < e; s += BLOCK_SIZE, b++) {
        const be = Math.min(e, s + BLOCK_SIZE);
        const v = this.blockMax[b];
        const wEnd = Math.floor(rows[be - 1] / W);
        for (let j = s; ;) {
          const w = Math.floor(rows[j] / W);
          if (w !== lastW) {
            wstart[row0 + w] = j;
            wmax[row0 + w] = v;
            lastW = w;
          } else if (v > wmax[row0 + w]) wmax[row0 + w] = v;
          if (w === wEnd || j + 1 >= be) break;
          j = seek(rows, j + 1, be, (w + 1) * W);
        }
      }
    }
    // 2. Windows by bound descending: sorted as doubles −ub[w] whose low 32 bits are replaced by w (the order of
    // bounds closer than 2^−20 may swap, which only changes the order windows are taken in, never the result).
    ub.fill(0, 0, nW);
    for (let i = 0; i < m; i++) for (let w = 0, r = i * nW; w < nW; w++, r++) ub[w] += wmax[r];
    let nz = 0;
    for (let w = 0; w < nW; w++) if (ub[w] > 0) keys[nz++] = -ub[w];
    const order = keys.subarray(0, nz);
    const low = new Uint32Array(order.buffer, order.byteOffset, nz * 2);
    for (let w = 0, k = 0; w < nW; w++) if (ub[w] > 0) low[2 * k++] = w;
    order.sort();

    const heap = new TopRows(depth);
    let theta = -Infinity;
    const slot = new Int32Array(m);
    const cum = new Float64Array(m);
    const cur = new Uint32Array(m);
    const end = new Uint32Array(m);
    const xcur = new Int32Array(m);
    for (let k = 0; k < nz; k++) {
      const w = low[2 * k];
      if (ub[w] < theta * SLACK) continue;
      const lo = w * W;
      const hi = lo + W;
      // 3. The window's terms by bound ascending; the non-essential prefix.
      let n = 0;
      for (let i = 0; i < m; i++) {
        const v = wmax[i * nW + w];
        if (v === 0) continue;
        let s = n++;
        for (; s > 0 && wmax[slot[s - 1] * nW + w] > v; s--) slot[s] = slot[s - 1];
        slot[s] = i;
      }
      for (let s = 0, sum = 0; s < n; s++) cum[s] = sum += wmax[slot[s] * nW + w];
      let ne = 0;
      while (ne < n && cum[ne] < theta * SLACK) ne++;
      if (ne === n) continue;
      for (let s = ne; s < n; s++) {
        const i = slot[s];
        const t = ids[i];
        const sc = scale[t];
        const e = offsets[t + 1];
        let j = wstart[i * nW + w];
        for (; j < e; j++) {
          const r = rows[j];
          if (r >= hi) break;
          const o = r - lo;
          acc[o] += bound[j] * sc;
          bits[o >>> 5] |= 1 << (o & 31);
        }
        read += j - wstart[i * nW + w];
      }
      for (let s = 0; s < ne; s++) {
        cur[s] = wstart[slot[s] * nW + w];
        end[s] = offsets[ids[slot[s]] + 1];
      }
      for (let i = 0; i < m; i++) xcur[i] = wmax[i * nW + w] === 0 ? -1 : wstart[i * nW + w];
      // Rows touched, ascending (the lookups' cursors only move forward).
      for (let x = 0; x < W / 32; x++) {
        let word = bits[x];
        if (word === 0) continue;
        bits[x] = 0;
        while (word !== 0) {
          const lowest = word & -word;
          word ^= lowest;
          const o = x * 32 + 31 - Math.clz32(lowest);
          let partial = acc[o];
          acc[o] = 0;
          const d = lo + o;
          let s = ne - 1;
          for (; s >= 0; s--) {
            if (partial + cum[s] < theta * SLACK) break;
            const i = slot[s];
            const j = (cur[s] = seek(rows, cur[s], end[s], d));
            if (j < end[s] && rows[j] === d) {
              partial += bound[j] * scale[ids[i]];
              read++;
            }
          }
          if (s >= 0 || partial < theta * SLACK) continue;
          // 4. The row's score as the exhaustive scorer adds it up: in the query's term order.
          let total = 0;
          for (let i = 0; i < m; i++) {
            if (xcur[i] < 0) continue;
            const t = ids[i];
            const j = (xcur[i] = seek(rows, xcur[i], offsets[t + 1], d));
            if (j < offsets[t + 1] && rows[j] === d) {
              const f = tfs[j];
              total += (idf[t] * f * k1p1) / (f + norm[d]);
            }
          }
          if (heap.offer(d, total) && heap.full) theta = heap.worstScore;
        }
      }
    }
    this.read = read;
    return heap.sorted();
  }
}
