/** Data loading: streaming readers for JSONL / TSV pairs and BEIR folders with exact source locations. */
export * from './types';
export { DataError } from './errors';
export { loadExamples, loadCorpus } from './load';
export { collectQrels } from './qrels';
export { textItemId, normaliseText } from './itemId';
export { DEFAULT_MAX_BAD_LINE_SHARE, MAX_KEPT_BAD_LINES } from './badLines';
