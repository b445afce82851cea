/**
 * BM25 over a corpus, tokenised exactly like the towers' words (`words` of model/featurize.ts: lower-cased
 * Unicode letter/digit runs, no stemming, no stop words), so lexical and dense evidence speak of the same terms.
 *
 * Score (Okapi BM25, Lucene's IDF), for the distinct query terms t:
 *   bm25(q, d) = Σ_t idf(t) · tf(t,d)·(k1+1) / (tf(t,d) + k1·(1 − b + b·|d|/avgdl)),  idf(t) = ln(1 + (N − df(t) + 0.5)/(df(t) + 0.5))
 * with k1 = 1.2, b = 0.75, and |d| the number of distinct words of d (avgdl their mean), as MiniSearch defines
 * the field length. test/unit/lexical.test.ts checks the scores against this formula written out and against
 * MiniSearch's own search() (test/reference/miniSearchBm25.ts, the coordination boost divided out).
 *
 * Why not MiniSearch itself (the BM25 of 0.2–0.4): it keeps each posting in JS Maps and serialises to JSON;
 * at a million items (≈ 25M postings) evaluation peaked at 4.64 GB with it, against 1.33 GB without BM25
 * (docs/evaluation-benchmark.md). This index holds the postings in typed arrays: while the corpus streams by,
 * a forward index (per document its term ids and term frequencies, ≈ 6 bytes a posting), inverted once at the
 * end into term → rows (ascending) + term frequencies (6 bytes a posting), document lengths, and the term
 * dictionary. Ranking is document at a time with MaxScore pruning ({@link Bm25Index.query}), identical to adding
 * up every posting of the query terms ({@link Bm25Index.queryExhaustive}) and keeping the top `depth` in a heap.
 * Saved as one binary file (see {@link Bm25Index.toBuffer}).
 */
import type { SearchResult } from '../vectorIndex/types';
import { crc32 } from 'node:zlib';
import { words } from '../model/featurize';

export const BM25_PARAMS = { k1: 1.2, b: 0.75 } as const;
/** Changes whenever tokenisation, parameters or the saved layout change: part of the saved index's key. */
export const BM25_VERSION = `rlens-bm25-2/words-v1/k1=${BM25_PARAMS.k1}/b=${BM25_PARAMS.b}`;

/** A term frequency is stored in 16 bits: a word repeated more often in one text counts 65535 times. */
const MAX_TF = 0xffff;
const MAGIC = 'RLBM25\n';
/** Rows a query scores in full before pruning starts (phase 1 of {@link Bm25Index.query}): at most 2,000 and 1% of the corpus, at least `depth`. */
const SEED_ROWS = 2000;

/** Distinct words of a text, in order of first appearance (a query's terms). */
export function distinctWords(text: string): string[] {
  return [...new Set(words(text))];
}

/** A growable typed array (the forward index while the corpus streams by). */
class Growable<T extends Uint32Array | Uint16Array> {
  length = 0;
  constructor(
    private data: T,
    private readonly make: (n: number) => T,
  ) {}
  push(x: number): void {
    if (this.length === this.data.length) {
      const bigger = this.make(Math.max(1024, Math.ceil(this.data.length * 1.5)));
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.length++] = x;
  }
  get(i: number): number {
    return this.data[i];
  }
  /** The filled part (a copy, so the growth slack is released). */
  take(): T {
    const out = this.data.slice(0, this.length) as T;
    this.data = this.make(0);
    this.length = 0;
    return out;
  }
}

/** The inverted index: term → rows (ascending) and term frequencies; per row its length. */
interface Postings {
  terms: string[];
  /** Postings of term t are [offsets[t], offsets[t + 1]). */
  offsets: Uint32Array;
  rows: Uint32Array;
  tfs: Uint16Array;
  /** Distinct words of each row (|d|). */
  lengths: Uint32Array;
}

/** A BM25 index over corpus rows 0..n−1 (labels are row numbers, like a faiss index's). */
export class Bm25Index {
  private readonly termIds: Map<string, number>;
  /** k1·(1 − b + b·|d|/avgdl) of every row, and idf of every term: the parts of the score that do not depend on the query. */
  private readonly norm: Float64Array;
  private readonly idf: Float64Array;
  private acc: Float64Array | null = null;
  private ub: Float64Array | null = null;

  private constructor(private readonly p: Postings) {
    this.termIds = new Map(p.terms.map((t, i) => [t, i]));
    const n = p.lengths.length;
    const { k1, b } = BM25_PARAMS;
    let sum = 0;
    for (let r = 0; r < n; r++) sum += p.lengths[r];
    const avgdl = n > 0 ? sum / n : 0;
    this.norm = new Float64Array(n);
    for (let r = 0; r < n; r++) this.norm[r] = k1 * (1 - b + (b * p.lengths[r]) / avgdl);
    this.idf = new Float64Array(p.terms.length);
    for (let t = 0; t < p.terms.length; t++) {
      const df = p.offsets[t + 1] - p.offsets[t];
      this.idf[t] = Math.log(1 + (n - df + 0.5) / (df + 0.5));
    }
  }

  /** Index the texts; `onProgress` is called every 5000 documents. */
  static build(texts: readonly string[], onProgress?: (done: number, total: number) => void): Bm25Index {
    const b = Bm25Index.builder();
    const chunk = 5000;
    for (let s = 0; s < texts.length; s += chunk) {
      b.add(texts.slice(s, s + chunk));
      onProgress?.(Math.min(texts.length, s + chunk), texts.length);
    }
    return b.finish();
  }

  /**
   * An index built batch by batch (a corpus streamed from disk): `add(texts)` indexes the next rows in order,
   * `finish()` returns the index (the same as {@link build} over all the texts).
   */
  static builder(): { add(texts: readonly string[]): void; finish(): Bm25Index } {
    const dict = new Map<string, number>();
    const terms: string[] = [];
    const docTerms = new Growable(new Uint32Array(1024), (n) => new Uint32Array(n));
    const docTfs = new Growable(new Uint16Array(1024), (n) => new Uint16Array(n));
    const docEnds = new Growable(new Uint32Array(1024), (n) => new Uint32Array(n));
    const tf = new Map<number, number>();
    return {
      add(texts) {
        for (const text of texts) {
          tf.clear();
          for (const w of words(text)) {
            let t = dict.get(w);
            if (t === undefined) {
              t = terms.length;
              dict.set(w, t);
              terms.push(w);
            }
            tf.set(t, (tf.get(t) ?? 0) + 1);
          }
          for (const [t, f] of tf) {
            docTerms.push(t);
            docTfs.push(Math.min(MAX_TF, f));
          }
          docEnds.push(docTerms.length);
        }
      },
      finish() {
        const ends = docEnds.take();
        const fwdTerms = docTerms.take();
        const fwdTfs = docTfs.take();
        dict.clear();
        return new Bm25Index(invert(terms, ends, fwdTerms, fwdTfs));
      },
    };
  }

  get documentCount(): number {
    return this.p.lengths.length;
  }

  /** Document frequency of a term (0 when no document holds it). */
  df(term: string): number {
    const t = this.termIds.get(term);
    return t === undefined ? 0 : this.p.offsets[t + 1] - this.p.offsets[t];
  }

  /** Postings whose contribution the last {@link query} / {@link queryExhaustive} computed (benchmarks). */
  lastPostingsRead = 0;

  /** Number of terms and postings (benchmarks). */
  stats(): { terms: number; postings: number } {
    return { terms: this.p.terms.length, postings: this.p.rows.length };
  }

  /**
   * BM25 ranking of one query: rows and scores, best first, at most `depth`; ties by row. Exactly the ranking of
   * {@link queryExhaustive} (the same rows, the same scores to the last bit), found with MaxScore dynamic pruning
   * (Turtle & Flood, "Query evaluation: strategies and optimizations", IP&M 1995), document at a time:
   * - each query term t has an upper bound ub(t) = max over its postings of its contribution to a score
   *   (computed once per term, on first use, by the same floating-point expression as the score);
   * - terms sorted by ub ascending; once the heap holds `depth` rows, the threshold θ is its worst score, and the
   *   longest prefix of terms whose bounds sum below θ is "non-essential": a row that only they contain cannot
   *   enter the top `depth`, so candidates are drawn from the other terms' postings alone;
   * - a candidate's non-essential terms are looked up (galloping search in their row-sorted postings) only while
   *   its partial score plus the bounds still to come can reach θ;
   * - θ starts from the rows of the query's shortest posting lists (the rare terms, up to 2,000 rows and 1% of the corpus), scored in
   *   full first: on real text, where queries hold common words, θ otherwise rises slowly from the first rows.
   * The score of a row that is kept is summed in the query's term order, as the exhaustive scorer sums it, so the
   * two agree bit for bit; the pruning tests keep a relative slack of 1e-9 so rounding can never drop a row.
   * test/unit/lexical.test.ts compares the two on thousands of queries with ties; `npm run bench:bm25` measures both.
   */
  query(text: string, depth: number): { labels: number[]; scores: number[] } {
    const { offsets, rows, tfs } = this.p;
    const norm = this.norm;
    const k1p1 = BM25_PARAMS.k1 + 1;
    const ids: number[] = [];
    for (const term of distinctWords(text)) {
      const t = this.termIds.get(term);
      if (t !== undefined) ids.push(t);
    }
    this.lastPostingsRead = 0;
    if (depth <= 0 || ids.length === 0) return { labels: [], scores: [] };
    const m = ids.length;
    // Lists by ascending upper bound (slot i holds query position order[i]); cum[i] = Σ ub of slots 0..i.
    const ub = ids.map((t) => this.upperBound(t));
    const order = ids.map((_, i) => i).sort((a, b) => ub[a] - ub[b] || a - b);
    const cum = new Float64Array(m);
    for (let i = 0, sum = 0; i < m; i++) cum[i] = sum += ub[order[i]];
    const idf = Float64Array.from(order, (q) => this.idf[ids[q]]);
    const start = Uint32Array.from(order, (q) => offsets[ids[q]]);
    const end = Uint32Array.from(order, (q) => offsets[ids[q] + 1]);
    const contrib = new Float64Array(m); // by query position, summed in query order as the exhaustive scorer does
    const matched = new Uint8Array(m);
    const heap = new TopRows(depth);
    let read = 0;
    /** Adds slot i's posting j (of row d) to the row's score parts. */
    const take = (i: number, j: number): number => {
      const f = tfs[j];
      const v = (idf[i] * f * k1p1) / (f + norm[rows[j]]);
      contrib[order[i]] = v;
      matched[order[i]] = 1;
      read++;
      return v;
    };
    /** Offers row d with the parts taken, summed in query order, and clears them. */
    const offer = (d: number): boolean => {
      let total = 0;
      for (let q = 0; q < m; q++) if (matched[q]) total += contrib[q];
      matched.fill(0);
      return heap.offer(d, total);
    };

    // Phase 1, a first threshold: every row of the shortest lists (up to SEED_ROWS rows in all) scored in full.
    // Their scores are real, so the `depth`-th best of them is a safe threshold to start the pruning from.
    const seeded = new Set<number>();
    const byLength = [...order.keys()].sort((a, b) => end[a] - start[a] - (end[b] - start[b]));
    const seedRows: number[] = [];
    const seedBudget = Math.max(depth, Math.min(SEED_ROWS, Math.ceil(this.documentCount / 100)));
    for (const i of byLength) {
      if (seedRows.length + end[i] - start[i] > seedBudget) break;
      for (let j = start[i]; j < end[i]; j++) {
        if (seeded.has(rows[j])) continue;
        seeded.add(rows[j]);
        seedRows.push(rows[j]);
      }
    }
    seedRows.sort((a, b) => a - b);
    const pos = start.slice();
    for (const d of seedRows) {
      for (let i = 0; i < m; i++) {
        pos[i] = seek(rows, pos[i], end[i], d);
        if (pos[i] < end[i] && rows[pos[i]] === d) take(i, pos[i]);
      }
      offer(d);
    }

    // Phase 2, MaxScore over the rows not seeded, from the first postings on.
    pos.set(start);
    let theta = heap.full ? heap.worstScore : -Infinity;
    let firstEssential = 0;
    while (firstEssential < m && cum[firstEssential] < theta * (1 - 1e-9)) firstEssential++;
    while (firstEssential < m) {
      let d = Infinity;
      for (let i = firstEssential; i < m; i++) if (pos[i] < end[i] && rows[pos[i]] < d) d = rows[pos[i]];
      if (d === Infinity) break;
      if (seeded.has(d)) {
        for (let i = firstEssential; i < m; i++) if (pos[i] < end[i] && rows[pos[i]] === d) pos[i]++;
        continue;
      }
      let partial = 0;
      for (let i = firstEssential; i < m; i++) if (pos[i] < end[i] && rows[pos[i]] === d) partial += take(i, pos[i]++);
      let pruned = false;
      for (let i = firstEssential - 1; i >= 0; i--) {
        if (partial + cum[i] < theta * (1 - 1e-9)) {
          pruned = true;
          break;
        }
        pos[i] = seek(rows, pos[i], end[i], d);
        if (pos[i] < end[i] && rows[pos[i]] === d) partial += take(i, pos[i]++);
      }
      if (pruned) matched.fill(0);
      else if (offer(d) && heap.full) {
        theta = heap.worstScore;
        while (firstEssential < m && cum[firstEssential] < theta * (1 - 1e-9)) firstEssential++;
      }
    }
    this.lastPostingsRead = read;
    return heap.sorted();
  }

  /** The reference ranking for {@link query}: every posting of every query term added into a score per row. */
  queryExhaustive(text: string, depth: number): { labels: number[]; scores: number[] } {
    const { offsets, rows, tfs } = this.p;
    const k1p1 = BM25_PARAMS.k1 + 1;
    const acc = (this.acc ??= new Float64Array(this.documentCount));
    const touched: number[] = [];
    let read = 0;
    for (const term of distinctWords(text)) {
      const t = this.termIds.get(term);
      if (t === undefined) continue;
      const idf = this.idf[t];
      read += offsets[t + 1] - offsets[t];
      for (let j = offsets[t]; j < offsets[t + 1]; j++) {
        const r = rows[j];
        const f = tfs[j];
        if (acc[r] === 0) touched.push(r);
        acc[r] += (idf * f * k1p1) / (f + this.norm[r]);
      }
    }
    this.lastPostingsRead = read;
    const heap = new TopRows(depth);
    for (const r of touched) heap.offer(r, acc[r]);
    for (const r of touched) acc[r] = 0;
    return heap.sorted();
  }

  /** The largest contribution term t can add to a score (cached; computed by the scoring expression itself). */
  private upperBound(t: number): number {
    const ub = (this.ub ??= new Float64Array(this.p.terms.length).fill(NaN));
    if (Number.isNaN(ub[t])) {
      const { offsets, rows, tfs } = this.p;
      const k1p1 = BM25_PARAMS.k1 + 1;
      const idf = this.idf[t];
      let max = 0;
      for (let j = offsets[t]; j < offsets[t + 1]; j++) {
        const f = tfs[j];
        const v = (idf * f * k1p1) / (f + this.norm[rows[j]]);
        if (v > max) max = v;
      }
      ub[t] = max;
    }
    return ub[t];
  }

  /** All queries, as a faiss-shaped result (label −1, score −Infinity past the last match). */
  search(queries: readonly string[], depth: number, onProgress?: (done: number, total: number) => void): SearchResult {
    const nq = queries.length;
    const labels = new Int32Array(nq * depth).fill(-1);
    const scores = new Float32Array(nq * depth).fill(-Infinity);
    queries.forEach((q, qi) => {
      const r = this.query(q, depth);
      labels.set(r.labels, qi * depth);
      scores.set(r.scores, qi * depth);
      if (onProgress && (qi + 1) % 1000 === 0) onProgress(qi + 1, nq);
    });
    onProgress?.(nq, nq);
    return { nq, k: depth, labels, scores };
  }

  /**
   * The saved form, one file: the line `RLBM25`, a little-endian uint32 header length, the header (JSON:
   * version, documents, terms, postings, byte length of the term list), the terms joined by "\n" (a word holds
   * no "\n"), then, each starting at a multiple of 8 bytes: offsets (uint32 × terms+1), rows (uint32 × postings),
   * term frequencies (uint16 × postings), lengths (uint32 × documents).
   */
  toBuffer(): Buffer {
    const termBytes = Buffer.from(this.p.terms.join('\n'), 'utf8');
    const arrays = [this.p.offsets, this.p.rows, this.p.tfs, this.p.lengths];
    const header = Buffer.from(
      JSON.stringify({
        version: BM25_VERSION,
        documents: this.documentCount,
        terms: this.p.terms.length,
        postings: this.p.rows.length,
        termBytes: termBytes.length,
        // CRC-32 of each section (terms, offsets, rows, tfs, lengths): a cache overwritten in place is refused.
        crc32: [termBytes, ...arrays].map((a) => crc32(new Uint8Array(a.buffer, a.byteOffset, a.byteLength))),
      }),
      'utf8',
    );
    const len = Buffer.alloc(4);
    len.writeUInt32LE(header.length);
    const parts: Buffer[] = [Buffer.from(MAGIC, 'latin1'), len, header, termBytes];
    let at = parts.reduce((s, b) => s + b.length, 0);
    for (const a of arrays) {
      const pad = (8 - (at % 8)) % 8;
      parts.push(Buffer.alloc(pad), Buffer.from(a.buffer, a.byteOffset, a.byteLength));
      at += pad + a.byteLength;
    }
    return Buffer.concat(parts, at);
  }

  /** Restores an index written by {@link toBuffer}; throws, saying what is wrong, on anything else. */
  static fromBuffer(buf: Buffer): Bm25Index {
    if (buf.subarray(0, MAGIC.length).toString('latin1') !== MAGIC) throw new Error('not a Retrieval Lens BM25 index');
    let at = MAGIC.length + 4;
    if (buf.length < at) throw new Error('truncated header');
    const headerLen = buf.readUInt32LE(MAGIC.length);
    if (buf.length < at + headerLen) throw new Error('truncated header');
    const h = JSON.parse(buf.subarray(at, at + headerLen).toString('utf8')) as Record<string, unknown>;
    at += headerLen;
    if (h.version !== BM25_VERSION) throw new Error(`index version ${String(h.version)}, expected ${BM25_VERSION}`);
    const count = (k: string) => {
      const v = h[k];
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new Error(`header field ${k} is not a count`);
      return v;
    };
    const [documents, termCount, postings, termBytes] = [count('documents'), count('terms'), count('postings'), count('termBytes')];
    const sums = h.crc32;
    if (!Array.isArray(sums) || sums.length !== 5) throw new Error('header has no section checksums');
    const need = (bytes: number) => {
      if (at + bytes > buf.length) throw new Error(`truncated: ${buf.length} bytes, more needed`);
    };
    const names = ['terms', 'offsets', 'rows', 'tfs', 'lengths'];
    let checked = 0;
    /** Checks the next section's CRC-32 against the header's. */
    const verify = (bytes: Uint8Array) => {
      if (crc32(bytes) !== sums[checked]) throw new Error(`section "${names[checked]}" does not match its checksum (the file was changed)`);
      checked++;
    };
    need(termBytes);
    verify(buf.subarray(at, at + termBytes));
    const terms =
      termCount === 0
        ? []
        : buf
            .subarray(at, at + termBytes)
            .toString('utf8')
            .split('\n');
    at += termBytes;
    if (terms.length !== termCount) throw new Error(`${terms.length} terms, the header says ${termCount}`);
    const section = <T>(n: number, bytesPer: number, make: (ab: ArrayBuffer) => T): T => {
      at += (8 - (at % 8)) % 8;
      need(n * bytesPer);
      verify(buf.subarray(at, at + n * bytesPer));
      const copy = new Uint8Array(n * bytesPer);
      copy.set(buf.subarray(at, at + n * bytesPer));
      at += n * bytesPer;
      return make(copy.buffer);
    };
    const offsets = section(termCount + 1, 4, (ab) => new Uint32Array(ab));
    const rows = section(postings, 4, (ab) => new Uint32Array(ab));
    const tfs = section(postings, 2, (ab) => new Uint16Array(ab));
    const lengths = section(documents, 4, (ab) => new Uint32Array(ab));
    if (at !== buf.length) throw new Error(`${buf.length - at} bytes after the last section`);
    if (offsets[0] !== 0 || offsets[termCount] !== postings) throw new Error('term offsets do not span the postings');
    for (let t = 0; t < termCount; t++) if (offsets[t] > offsets[t + 1]) throw new Error(`term offsets decrease at term ${t}`);
    for (let j = 0; j < postings; j++) if (rows[j] >= documents) throw new Error(`posting ${j} names row ${rows[j]} of ${documents}`);
    return new Bm25Index({ terms, offsets, rows, tfs, lengths });
  }
}

/** Inverts a forward index (row r's postings are [ends[r−1], ends[r]) of fwdTerms/fwdTfs) into term → rows. */
function invert(terms: string[], ends: Uint32Array, fwdTerms: Uint32Array, fwdTfs: Uint16Array): Postings {
  const offsets = new Uint32Array(terms.length + 1);
  for (let j = 0; j < fwdTerms.length; j++) offsets[fwdTerms[j] + 1]++;
  for (let t = 0; t < terms.length; t++) offsets[t + 1] += offsets[t];
  const cursor = offsets.slice(0, terms.length);
  const rows = new Uint32Array(fwdTerms.length);
  const tfs = new Uint16Array(fwdTerms.length);
  const lengths = new Uint32Array(ends.length);
  let j = 0;
  for (let r = 0; r < ends.length; r++) {
    lengths[r] = ends[r] - j;
    for (; j < ends[r]; j++) {
      const at = cursor[fwdTerms[j]]++;
      rows[at] = r;
      tfs[at] = fwdTfs[j];
    }
  }
  return { terms, offsets, rows, tfs, lengths };
}

/** The first position in rows[from, to) (ascending) whose row is ≥ d, by galloping then binary search. */
function seek(rows: Uint32Array, from: number, to: number, d: number): number {
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

/** The best `depth` rows offered, by score (ties: lower row first), in a min-heap whose top is the worst kept. */
class TopRows {
  private readonly rows: number[] = [];
  private readonly scores: number[] = [];
  constructor(private readonly depth: number) {}
  get full(): boolean {
    return this.rows.length >= this.depth;
  }
  /** The worst kept score (the threshold a row must beat once the heap is full). */
  get worstScore(): number {
    return this.scores[0];
  }
  private worse(i: number, j: number): boolean {
    const a = this.scores[i];
    const b = this.scores[j];
    return a < b || (a === b && this.rows[i] > this.rows[j]);
  }
  private swap(i: number, j: number): void {
    [this.rows[i], this.rows[j]] = [this.rows[j], this.rows[i]];
    [this.scores[i], this.scores[j]] = [this.scores[j], this.scores[i]];
  }
  /** Keeps (row, score) if it is among the best `depth` so far; says whether it was kept. */
  offer(row: number, score: number): boolean {
    if (this.depth <= 0) return false;
    if (this.rows.length < this.depth) {
      this.rows.push(row);
      this.scores.push(score);
      for (let i = this.rows.length - 1; i > 0;) {
        const parent = (i - 1) >> 1;
        if (!this.worse(i, parent)) break;
        this.swap(i, parent);
        i = parent;
      }
      return true;
    }
    const s0 = this.scores[0];
    if (!(s0 < score || (s0 === score && this.rows[0] > row))) return false;
    this.rows[0] = row;
    this.scores[0] = score;
    for (let i = 0; ;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < this.rows.length && this.worse(l, m)) m = l;
      if (r < this.rows.length && this.worse(r, m)) m = r;
      if (m === i) break;
      this.swap(i, m);
      i = m;
    }
    return true;
  }
  /** Rows and scores, best first. */
  sorted(): { labels: number[]; scores: number[] } {
    const idx = this.rows.map((_, i) => i).sort((a, b) => this.scores[b] - this.scores[a] || this.rows[a] - this.rows[b]);
    return { labels: idx.map((i) => this.rows[i]), scores: idx.map((i) => this.scores[i]) };
  }
}
