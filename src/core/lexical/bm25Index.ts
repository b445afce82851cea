/**
 * BM25 over a corpus with MiniSearch (a maintained, dependency-free full-text index with BM25 scoring and
 * JSON (de)serialisation), tokenised exactly like the towers' words (`words` of model/featurize.ts:
 * lower-cased Unicode letter/digit runs, no stemming, no stop words), so lexical and dense evidence speak
 * of the same terms.
 *
 * Score (Okapi BM25, Lucene's IDF), for the distinct query terms t:
 *   bm25(q, d) = Σ_t idf(t) · tf(t,d)·(k1+1) / (tf(t,d) + k1·(1 − b + b·|d|/avgdl)),  idf(t) = ln(1 + (N − df(t) + 0.5)/(df(t) + 0.5))
 * with k1 = 1.2, b = 0.75, and |d| the number of distinct words of d (MiniSearch's field length; avgdl their
 * mean). MiniSearch computes exactly this per term with d = 0 (its BM25+ δ), then multiplies
 * a document's sum by the number of query terms it matched (a coordination boost), and its search() builds a
 * result object for every matching document and sorts them all: ~7 CPU-ms per query at 60k items (a query
 * with a frequent word matches most of the corpus), a minute for 8k queries. So the bulk ranking reads
 * MiniSearch's own index through its versioned serialised form (`toJSON()`, serializationVersion 2: term →
 * document → term frequency, document lengths, their mean) into flat posting arrays of precomputed term
 * weights, and keeps the top `depth` of each query with a small heap: the same scores as MiniSearch's
 * search() with the coordination factor divided out (checked in test/lexical.test.ts), ~50× faster.
 */
import MiniSearch from 'minisearch';
import type { SearchResult } from '../vectorIndex/types';
import { words } from '../model/featurize';

export const BM25_PARAMS = { k1: 1.2, b: 0.75 } as const;
/** Changes whenever tokenisation or parameters change: part of the saved index's key. */
export const BM25_VERSION = `minisearch-7/words-v1/k1=${BM25_PARAMS.k1}/b=${BM25_PARAMS.b}`;

interface Doc {
  i: number;
  text: string;
}

/** Distinct words of a text, in order of first appearance (a query's terms). */
export function distinctWords(text: string): string[] {
  return [...new Set(words(text))];
}

function options() {
  return {
    idField: 'i',
    fields: ['text'],
    storeFields: [] as string[],
    tokenize: (text: string) => words(text),
    processTerm: (term: string) => term,
    searchOptions: {
      tokenize: distinctWords,
      processTerm: (term: string) => term,
      combineWith: 'OR' as const,
      bm25: { k: BM25_PARAMS.k1, b: BM25_PARAMS.b, d: 0 },
    },
  };
}

/** MiniSearch's serialised index (serializationVersion 2), the parts read here. */
interface SerialisedIndex {
  documentCount: number;
  documentIds: Record<string, number>;
  fieldLength: Record<string, number[]>;
  averageFieldLength: number[];
  index: [string, Record<string, Record<string, number>>][];
  serializationVersion: number;
}

/** Term → its postings: rows and BM25 term weights, in flat arrays. */
interface Postings {
  terms: Map<string, number>;
  /** Postings of term t are [offsets[t], offsets[t + 1]). */
  offsets: Int32Array;
  rows: Int32Array;
  weights: Float64Array;
}

function compilePostings(js: SerialisedIndex): Postings {
  if (js.serializationVersion !== 2) throw new Error(`MiniSearch serialisation version ${js.serializationVersion} is not the supported 2`);
  const { k1, b } = BM25_PARAMS;
  const avgdl = js.averageFieldLength[0] ?? 0;
  const n = js.documentCount;
  const terms = new Map<string, number>();
  let total = 0;
  for (const [, fields] of js.index) total += Object.keys(fields['0'] ?? {}).length;
  const offsets = new Int32Array(js.index.length + 1);
  const rows = new Int32Array(total);
  const weights = new Float64Array(total);
  let at = 0;
  js.index.forEach(([term, fields], t) => {
    terms.set(term, t);
    offsets[t] = at;
    const docs = fields['0'] ?? {};
    const ids = Object.keys(docs);
    const idf = Math.log(1 + (n - ids.length + 0.5) / (ids.length + 0.5));
    for (const short of ids) {
      const tf = docs[short];
      const dl = js.fieldLength[short][0];
      rows[at] = js.documentIds[short];
      weights[at] = (idf * tf * (k1 + 1)) / (tf + k1 * (1 - b + (b * dl) / avgdl));
      at++;
    }
  });
  offsets[js.index.length] = at;
  return { terms, offsets, rows, weights };
}

/** A BM25 index over corpus rows 0..n−1 (labels are row numbers, like a faiss index's). */
export class Bm25Index {
  private postings: Postings | null = null;
  private acc: Float64Array | null = null;

  private constructor(private readonly ms: MiniSearch<Doc>) {}

  /** Index the texts; `onProgress` is called every 5000 documents. */
  static build(texts: readonly string[], onProgress?: (done: number, total: number) => void): Bm25Index {
    const ms = new MiniSearch<Doc>(options());
    const chunk = 5000;
    for (let s = 0; s < texts.length; s += chunk) {
      const docs: Doc[] = [];
      for (let i = s; i < Math.min(texts.length, s + chunk); i++) docs.push({ i, text: texts[i] });
      ms.addAll(docs);
      onProgress?.(Math.min(texts.length, s + chunk), texts.length);
    }
    return new Bm25Index(ms);
  }

  /**
   * An index built batch by batch (a corpus streamed from disk): `add(texts)` indexes the next rows in order,
   * `finish()` returns the index (the same as {@link build} over all the texts).
   */
  static builder(): { add(texts: readonly string[]): void; finish(): Bm25Index } {
    const ms = new MiniSearch<Doc>(options());
    let row = 0;
    return {
      add(texts) {
        ms.addAll(texts.map((text) => ({ i: row++, text })));
      },
      finish: () => new Bm25Index(ms),
    };
  }

  /** Restore an index written by `toJSON`. */
  static fromJSON(json: string): Bm25Index {
    return new Bm25Index(MiniSearch.loadJSON<Doc>(json, options()));
  }

  toJSON(): string {
    return JSON.stringify(this.ms);
  }

  get documentCount(): number {
    return this.ms.documentCount;
  }

  /** MiniSearch's own ranking of one query with its coordination factor divided out (the reference of `query`). */
  libraryQuery(text: string, depth: number): { labels: number[]; scores: number[] } {
    const hits = this.ms.search(text).map((r) => ({ i: r.id as number, s: r.score / Math.max(1, r.queryTerms.length) }));
    hits.sort((a, b) => b.s - a.s || a.i - b.i);
    const top = hits.slice(0, depth);
    return { labels: top.map((h) => h.i), scores: top.map((h) => h.s) };
  }

  /** Plain BM25 ranking of one query: rows and scores, best first, at most `depth`; ties by row. */
  query(text: string, depth: number): { labels: number[]; scores: number[] } {
    const p = (this.postings ??= compilePostings(this.ms.toJSON() as unknown as SerialisedIndex));
    const acc = (this.acc ??= new Float64Array(this.ms.documentCount));
    const touched: number[] = [];
    for (const term of distinctWords(text)) {
      const t = p.terms.get(term);
      if (t === undefined) continue;
      for (let j = p.offsets[t]; j < p.offsets[t + 1]; j++) {
        const r = p.rows[j];
        if (acc[r] === 0) touched.push(r);
        acc[r] += p.weights[j];
      }
    }
    // Keep the best `depth` in a min-heap (worst at the root; "worse" = lower score, then higher row).
    const heap: number[] = [];
    const worse = (a: number, b: number) => acc[a] < acc[b] || (acc[a] === acc[b] && a > b);
    const down = (i: number) => {
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && worse(heap[l], heap[m])) m = l;
        if (r < heap.length && worse(heap[r], heap[m])) m = r;
        if (m === i) return;
        [heap[i], heap[m]] = [heap[m], heap[i]];
        i = m;
      }
    };
    for (const r of touched) {
      if (heap.length < depth) {
        heap.push(r);
        for (let i = heap.length - 1; i > 0;) {
          const parent = (i - 1) >> 1;
          if (!worse(heap[i], heap[parent])) break;
          [heap[i], heap[parent]] = [heap[parent], heap[i]];
          i = parent;
        }
      } else if (depth > 0 && worse(heap[0], r)) {
        heap[0] = r;
        down(0);
      }
    }
    heap.sort((a, b) => acc[b] - acc[a] || a - b);
    const out = { labels: heap, scores: heap.map((r) => acc[r]) };
    for (const r of touched) acc[r] = 0;
    return out;
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
}
