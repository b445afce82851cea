/**
 * BM25 ranking over the index's arrays, by term ids: what {@link Bm25Index} ranks with on its own thread and what
 * each worker thread of a parallel search (parallelSearch.ts) ranks with on the same shared arrays. No term
 * dictionary here: the caller turns a query's text into term ids.
 */
import { BlockMaxScorer, postingBounds, WINDOW_BITS, type PostingBounds, type ScoredPostings } from './blockMaxScore';
import { TopRows } from './topRows';

export const BM25_PARAMS = { k1: 1.2, b: 0.75 } as const;

/**
 * A query whose terms hold at most this many postings in all is ranked by the exhaustive scorer, a longer one by
 * block-max MaxScore (`npm run bench:bm25`: below it pruning saves less than it costs).
 */
export const PRUNE_MIN_POSTINGS = 5_000;

/** The arrays a ranker reads (every one may live on a SharedArrayBuffer, read by several threads). */
export interface RankerArrays {
  /** Postings of term t are [offsets[t], offsets[t + 1]): rows ascending, their term frequencies. */
  offsets: Uint32Array;
  rows: Uint32Array;
  tfs: Uint16Array;
  /** Distinct words of each row (|d|). */
  lengths: Uint32Array;
  bounds: PostingBounds;
}

/** A ranking: rows and scores, best first. */
export interface Ranking {
  labels: number[];
  scores: number[];
}

/** BM25 (Okapi, Lucene's IDF) over one index's arrays; its buffers are reused from query to query: one per thread. */
export class Bm25Ranker {
  /** k1·(1 − b + b·|d|/avgdl) of every row, and idf of every term: the parts of the score that do not depend on the query. */
  private readonly norm: Float64Array;
  private readonly idf: Float64Array;
  private acc: Float64Array | null = null;
  private scorer: BlockMaxScorer | null = null;
  /** Postings whose contribution the last ranking computed (benchmarks). */
  lastPostingsRead = 0;
  /** Which scorer the last {@link rank} chose (benchmarks). */
  lastScorer: 'exhaustive' | 'pruned' = 'exhaustive';

  /** The arrays, with the block maxima and posting bounds (computed here when not given: a new index). */
  readonly a: RankerArrays;

  constructor(a: Omit<RankerArrays, 'bounds'> & { bounds?: PostingBounds }) {
    const n = a.lengths.length;
    const { k1, b } = BM25_PARAMS;
    let sum = 0;
    for (let r = 0; r < n; r++) sum += a.lengths[r];
    const avgdl = n > 0 ? sum / n : 0;
    this.norm = new Float64Array(n);
    for (let r = 0; r < n; r++) this.norm[r] = k1 * (1 - b + (b * a.lengths[r]) / avgdl);
    const terms = a.offsets.length - 1;
    this.idf = new Float64Array(terms);
    for (let t = 0; t < terms; t++) {
      const df = a.offsets[t + 1] - a.offsets[t];
      this.idf[t] = Math.log(1 + (n - df + 0.5) / (df + 0.5));
    }
    this.a = { ...a, bounds: a.bounds ?? postingBounds({ ...a, norm: this.norm, idf: this.idf, k1p1: BM25_PARAMS.k1 + 1 }) };
  }

  get documentCount(): number {
    return this.a.lengths.length;
  }

  /**
   * The top `depth` rows for distinct term ids (in query order), ties by row, by whichever scorer costs less: the
   * exhaustive one while the terms hold at most {@link PRUNE_MIN_POSTINGS} postings in all, block-max MaxScore
   * above (the same rows and scores to the last bit).
   */
  rank(ids: readonly number[], depth: number): Ranking {
    let postings = 0;
    for (const t of ids) postings += this.a.offsets[t + 1] - this.a.offsets[t];
    this.lastScorer = postings <= PRUNE_MIN_POSTINGS ? 'exhaustive' : 'pruned';
    return this.lastScorer === 'exhaustive' ? this.exhaustive(ids, depth) : this.pruned(ids, depth, WINDOW_BITS);
  }

  /** Block-max MaxScore whatever the query's cost (blockMaxScore.ts; tests vary the window). */
  pruned(ids: readonly number[], depth: number, windowBits = WINDOW_BITS): Ranking {
    this.lastPostingsRead = 0;
    if (depth <= 0 || ids.length === 0) return { labels: [], scores: [] };
    const scorer = (this.scorer ??= new BlockMaxScorer(this.scored(), this.a.bounds, this.documentCount));
    const out = scorer.query(ids, depth, windowBits);
    this.lastPostingsRead = scorer.read;
    return out;
  }

  /** The reference ranking: every posting of every query term added into a score per row. */
  exhaustive(ids: readonly number[], depth: number): Ranking {
    const { offsets, rows, tfs } = this.a;
    const k1p1 = BM25_PARAMS.k1 + 1;
    const acc = (this.acc ??= new Float64Array(this.documentCount));
    const touched: number[] = [];
    let read = 0;
    for (const t of ids) {
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

  /** The arrays the scorers read. */
  scored(): ScoredPostings {
    const { offsets, rows, tfs } = this.a;
    return { offsets, rows, tfs, norm: this.norm, idf: this.idf, k1p1: BM25_PARAMS.k1 + 1 };
  }
}
