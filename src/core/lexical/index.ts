/** Lexical retrieval beside the dense model: BM25 (typed-array postings) with the towers' tokenisation, and term statistics. */
export { Bm25Index, BM25_PARAMS, BM25_VERSION, BM25_INDEX_FORMAT, distinctWords } from './bm25Index';
export { TermStats } from './termStats';
export { loadBm25Cache, saveBm25Cache, BM25_FILE } from './bm25Cache';
