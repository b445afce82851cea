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
 * dictionary, and, per block of 64 postings, the largest contribution in the block (block maxima), and per posting
 * its contribution rounded up to 8 bits (1 byte a posting: what the pruning adds up). Ranking
 * ({@link Bm25Index.query}) adds up every posting of the query terms and keeps the top `depth` in a heap
 * ({@link Bm25Index.queryExhaustive}) when the query's lists are short, and otherwise prunes with the block
 * maxima (block-max MaxScore, blockMaxScore.ts) to exactly the same ranking — both in bm25Ranker.ts, which ranks by
 * term ids, so that the worker threads of a parallel search (parallelSearch.ts) rank with it too: the arrays live on
 * SharedArrayBuffers. Saved as one binary file (see {@link Bm25Index.toBuffer}).
 */
import type { SearchResult } from '../vectorIndex/types';
import { crc32 } from 'node:zlib';
import { words } from '../model/featurize';
import { BLOCK_SIZE, blockBases, WINDOW_BITS, type PostingBounds } from './blockMaxScore';
import { Bm25Ranker, BM25_PARAMS, type Ranking } from './bm25Ranker';
import { bm25Threads, bm25ThreadsFromEnv, PARALLEL_MIN_POSTINGS, PARALLEL_MIN_QUERIES, searchInThreads, type ParallelSearchResult } from './parallelSearch';
import { sharedArray } from './sharedArray';

export { BM25_PARAMS, PRUNE_MIN_POSTINGS } from './bm25Ranker';
/**
 * Changes whenever tokenisation or parameters change, i.e. whenever rankings may: part of the keys of the saved
 * index and of everything computed from BM25 rankings (held-out sample, mined negatives). ("2" is the layout of
 * the time; the layout has its own number since, {@link BM25_INDEX_FORMAT}.)
 */
export const BM25_VERSION = `rlens-bm25-2/words-v1/k1=${BM25_PARAMS.k1}/b=${BM25_PARAMS.b}`;

/** A term frequency is stored in 16 bits: a word repeated more often in one text counts 65535 times. */
const MAX_TF = 0xffff;
const MAGIC = 'RLBM25\n';
/**
 * The saved index's layout (header field `format`; files of before had none: 2): 3 added the block maxima, 4 the
 * postings' 8-bit bounds. Part of the saved index's key, so an index of another layout is rebuilt (and the log
 * says why).
 */
export const BM25_INDEX_FORMAT = 4;

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
  /** The ranking over the arrays (norms, idf, block maxima and posting bounds, the scorers' buffers). */
  private readonly ranker: Bm25Ranker;

  private constructor(
    private readonly p: Postings,
    bounds?: PostingBounds,
  ) {
    this.termIds = new Map(p.terms.map((t, i) => [t, i]));
    this.ranker = new Bm25Ranker({ offsets: p.offsets, rows: p.rows, tfs: p.tfs, lengths: p.lengths, ...(bounds ? { bounds } : {}) });
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
  get lastPostingsRead(): number {
    return this.ranker.lastPostingsRead;
  }

  /** Which scorer the last {@link query} chose (benchmarks). */
  get lastScorer(): 'exhaustive' | 'pruned' {
    return this.ranker.lastScorer;
  }

  /** Number of terms and postings (benchmarks). */
  stats(): { terms: number; postings: number } {
    return { terms: this.p.terms.length, postings: this.p.rows.length };
  }

  /**
   * BM25 ranking of one query: rows and scores, best first, at most `depth`; ties by row. Exactly the ranking of
   * {@link queryExhaustive} (the same rows, the same scores to the last bit), by whichever of the two scorers
   * costs less for this query: the exhaustive one while the query's terms hold at most
   * {@link PRUNE_MIN_POSTINGS} postings in all (on small corpora pruning only adds work), block-max MaxScore
   * ({@link queryPruned}) above. `npm run bench:bm25` measures both on corpora of 6k to 1M items.
   */
  query(text: string, depth: number): Ranking {
    return this.ranker.rank(this.queryTerms(text), depth);
  }

  /**
   * The ranking of {@link query} by block-max MaxScore whatever the query's cost (src/core/lexical/blockMaxScore.ts:
   * windows of 2^windowBits rows, block maxima over {@link BLOCK_SIZE} postings; tests vary the window).
   */
  queryPruned(text: string, depth: number, windowBits = WINDOW_BITS): Ranking {
    return this.ranker.pruned(this.queryTerms(text), depth, windowBits);
  }

  /** The reference ranking for {@link query}: every posting of every query term added into a score per row. */
  queryExhaustive(text: string, depth: number): Ranking {
    return this.ranker.exhaustive(this.queryTerms(text), depth);
  }

  /** The query's distinct terms that the corpus holds, as term ids in query order. */
  private queryTerms(text: string): number[] {
    const ids: number[] = [];
    for (const term of distinctWords(text)) {
      const t = this.termIds.get(term);
      if (t !== undefined) ids.push(t);
    }
    return ids;
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
   * All queries as {@link search} ranks them (the same rows and scores), on several threads: this one and worker
   * threads that read the index's shared arrays (parallelSearch.ts). `threads`: given (or RLENS_BM25_THREADS set),
   * used as it is; else {@link bm25Threads} for a job worth it (at least {@link PARALLEL_MIN_QUERIES} queries over
   * {@link PARALLEL_MIN_POSTINGS} postings), 1 below (ranked here, as search() does). `callerRanks` false: only
   * the worker threads rank.
   */
  async searchParallel(
    queries: readonly string[],
    depth: number,
    opts: { threads?: number; onProgress?: (done: number, total: number) => void; callerRanks?: boolean } = {},
  ): Promise<ParallelSearchResult> {
    const worthIt = queries.length >= PARALLEL_MIN_QUERIES && this.p.rows.length >= PARALLEL_MIN_POSTINGS;
    const threads = opts.threads ?? bm25ThreadsFromEnv() ?? (worthIt ? bm25Threads() : 1);
    if (threads <= 1) return { ...this.search(queries, depth, opts.onProgress), threads: 1, workers: 0 };
    return searchInThreads(
      this.ranker,
      queries.map((q) => this.queryTerms(q)),
      depth,
      threads,
      opts,
    );
  }

  /**
   * The saved form, one file: the line `RLBM25`, a little-endian uint32 header length, the header (JSON:
   * version, format, documents, terms, postings, byte length of the term list, block size, blocks, CRC-32 per
   * section), the terms joined by "\n" (a word holds no "\n"), then, each starting at a multiple of 8 bytes:
   * offsets (uint32 × terms+1), rows (uint32 × postings), term frequencies (uint16 × postings), lengths (uint32 ×
   * documents), block maxima (float32 × blocks), posting bounds (uint8 × postings).
   */
  toBuffer(): Buffer {
    const termBytes = Buffer.from(this.p.terms.join('\n'), 'utf8');
    const arrays = [this.p.offsets, this.p.rows, this.p.tfs, this.p.lengths, this.ranker.a.bounds.blockMax, this.ranker.a.bounds.bound];
    const header = Buffer.from(
      JSON.stringify({
        version: BM25_VERSION,
        format: BM25_INDEX_FORMAT,
        documents: this.documentCount,
        terms: this.p.terms.length,
        postings: this.p.rows.length,
        termBytes: termBytes.length,
        blockSize: BLOCK_SIZE,
        blocks: this.ranker.a.bounds.blockMax.length,
        // CRC-32 of each section (terms, offsets, rows, tfs, lengths, block maxima, posting bounds): a cache overwritten in place is refused.
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
    const format = h.format ?? 2;
    if (format !== BM25_INDEX_FORMAT)
      throw new Error(`index format ${String(format)}, expected ${BM25_INDEX_FORMAT} (with block maxima and posting bounds for pruned ranking)`);
    if (h.version !== BM25_VERSION) throw new Error(`index version ${String(h.version)}, expected ${BM25_VERSION}`);
    const count = (k: string) => {
      const v = h[k];
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new Error(`header field ${k} is not a count`);
      return v;
    };
    const [documents, termCount, postings, termBytes, blocks] = [count('documents'), count('terms'), count('postings'), count('termBytes'), count('blocks')];
    if (h.blockSize !== BLOCK_SIZE) throw new Error(`block size ${String(h.blockSize)}, expected ${BLOCK_SIZE}`);
    const sums = h.crc32;
    if (!Array.isArray(sums) || sums.length !== 7) throw new Error('header has no section checksums');
    const need = (bytes: number) => {
      if (at + bytes > buf.length) throw new Error(`truncated: ${buf.length} bytes, more needed`);
    };
    const names = ['terms', 'offsets', 'rows', 'tfs', 'lengths', 'block maxima', 'posting bounds'];
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
    const section = <T>(n: number, bytesPer: number, make: (ab: SharedArrayBuffer) => T): T => {
      at += (8 - (at % 8)) % 8;
      need(n * bytesPer);
      verify(buf.subarray(at, at + n * bytesPer));
      const copy = new Uint8Array(new SharedArrayBuffer(n * bytesPer)); // shared: read by a parallel search's threads
      copy.set(buf.subarray(at, at + n * bytesPer));
      at += n * bytesPer;
      return make(copy.buffer as SharedArrayBuffer);
    };
    const offsets = section(termCount + 1, 4, (ab) => new Uint32Array(ab));
    const rows = section(postings, 4, (ab) => new Uint32Array(ab));
    const tfs = section(postings, 2, (ab) => new Uint16Array(ab));
    const lengths = section(documents, 4, (ab) => new Uint32Array(ab));
    const blockMax = section(blocks, 4, (ab) => new Float32Array(ab));
    const bound = section(postings, 1, (ab) => new Uint8Array(ab));
    if (at !== buf.length) throw new Error(`${buf.length - at} bytes after the last section`);
    if (offsets[0] !== 0 || offsets[termCount] !== postings) throw new Error('term offsets do not span the postings');
    for (let t = 0; t < termCount; t++) if (offsets[t] > offsets[t + 1]) throw new Error(`term offsets decrease at term ${t}`);
    for (let j = 0; j < postings; j++) if (rows[j] >= documents) throw new Error(`posting ${j} names row ${rows[j]} of ${documents}`);
    for (let t = 0; t < termCount; t++)
      for (let j = offsets[t] + 1; j < offsets[t + 1]; j++) if (rows[j] <= rows[j - 1]) throw new Error(`the rows of term ${t} do not ascend at posting ${j}`);
    const blocksOfPostings = blockBases(offsets)[termCount];
    if (blocks !== blocksOfPostings) throw new Error(`${blocks} block maxima, the postings have ${blocksOfPostings} blocks`);
    for (let b = 0; b < blocks; b++)
      if (!(blockMax[b] > 0 && blockMax[b] < Infinity)) throw new Error(`block maximum ${b} is ${blockMax[b]}, not a positive number`);
    for (let j = 0; j < postings; j++) if (bound[j] === 0) throw new Error(`posting bound ${j} is 0 (every posting adds a positive score)`);
    return new Bm25Index({ terms, offsets, rows, tfs, lengths }, { blockMax, bound });
  }
}

/** Inverts a forward index (row r's postings are [ends[r−1], ends[r]) of fwdTerms/fwdTfs) into term → rows. */
function invert(terms: string[], ends: Uint32Array, fwdTerms: Uint32Array, fwdTfs: Uint16Array): Postings {
  // On SharedArrayBuffers: a parallel search's worker threads read them without a copy.
  const offsets = sharedArray(Uint32Array, terms.length + 1);
  for (let j = 0; j < fwdTerms.length; j++) offsets[fwdTerms[j] + 1]++;
  for (let t = 0; t < terms.length; t++) offsets[t + 1] += offsets[t];
  const cursor = offsets.slice(0, terms.length);
  const rows = sharedArray(Uint32Array, fwdTerms.length);
  const tfs = sharedArray(Uint16Array, fwdTerms.length);
  const lengths = sharedArray(Uint32Array, ends.length);
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
