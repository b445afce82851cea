/**
 * The reference oracle of src/core/lexical/bm25Index.ts: BM25 ranked by MiniSearch 7 (a maintained full-text
 * library; the production BM25 of 0.2–0.4), with the towers' words as tokens and k1 1.2, b 0.75, d 0.
 * MiniSearch multiplies a document's score by the number of query terms it matched (a coordination boost);
 * that factor is divided out here, leaving plain Okapi BM25 with |d| = distinct words of d.
 */
import MiniSearch from 'minisearch';
import { BM25_PARAMS, distinctWords } from '../../src/core/lexical';
import { words } from '../../src/core/model/featurize';

interface Doc {
  i: number;
  text: string;
}

/** MiniSearch over `texts` (rows 0..n−1) and its ranking of one query: at most `depth`, best first, ties by row. */
export function miniSearchBm25(texts: readonly string[]): (query: string, depth: number) => { labels: number[]; scores: number[] } {
  const ms = new MiniSearch<Doc>({
    idField: 'i',
    fields: ['text'],
    storeFields: [],
    tokenize: (text: string) => words(text),
    processTerm: (term: string) => term,
    searchOptions: {
      tokenize: distinctWords,
      processTerm: (term: string) => term,
      combineWith: 'OR',
      bm25: { k: BM25_PARAMS.k1, b: BM25_PARAMS.b, d: 0 },
    },
  });
  ms.addAll(texts.map((text, i) => ({ i, text })));
  return (query, depth) => {
    const hits = ms.search(query).map((r) => ({ i: r.id as number, s: r.score / Math.max(1, r.queryTerms.length) }));
    hits.sort((a, b) => b.s - a.s || a.i - b.i);
    const top = hits.slice(0, depth);
    return { labels: top.map((h) => h.i), scores: top.map((h) => h.s) };
  };
}
