/** Where a record came from: the file (as given, resolved to an absolute path) and its 1-based line. */
export interface SourceLocation {
  file: string;
  line: number;
}

/** One retrievable item (document / product). `id` dedupes items: equal ids are the same item. */
export interface Item {
  id: string;
  text: string;
  source: SourceLocation;
}

/** One training or test example: a query with its positive item and optional explicit negatives. */
export interface Example {
  queryId: string;
  query: string;
  positive: Item;
  negatives: Item[];
  /** Location of the query record (for JSONL/TSV the pair's own line; for BEIR the line in queries.jsonl). */
  source: SourceLocation;
}

/** A line that could not be used, with the reason. */
export interface BadLine {
  file: string;
  line: number;
  reason: string;
}

/**
 * data.format: 'auto' picks by path (BEIR folder, *.tsv, else JSONL) and detects the record shape;
 * 'jsonl' / 'tsv' fix the container and detect the shape; 'bge', 'sentence-transformers' (JSONL) and
 * 'msmarco' (TSV triples) fix the shape too.
 */
export type DataFormat = 'auto' | 'jsonl' | 'tsv' | 'beir' | 'bge' | 'sentence-transformers' | 'msmarco';

/** The layout of one record (line) of a pairs file: see src/core/data/formats.ts. */
export type RecordShape = 'pairs' | 'bge' | 'sentence-transformers' | 'fields' | 'tsv-pairs' | 'msmarco-triples';

/**
 * data.fields: which field of a JSONL record holds what, for files of no known shape. `query` and
 * `positive` are required (a positive is a text, an {"id","text"} object or a list of them: one pair each);
 * `negatives` holds one item or a list (explicit hard negatives); `itemId` the positive's id; `queryId`
 * the query's id (queries with one id share their relevant items in evaluation).
 */
export interface FieldMapping {
  query: string;
  positive: string;
  negatives?: string;
  itemId?: string;
  queryId?: string;
}

export interface LoadReport {
  /** The path that was loaded (file or BEIR folder), absolute. */
  path: string;
  format: Exclude<DataFormat, 'auto'>;
  /** The record shape read (pairs files; absent for BEIR and corpora), how it was decided, and its name for messages. */
  shape?: { shape: RecordShape; how: string; name: string };
  examples: number;
  /** Total bad lines seen. */
  badCount: number;
  /** The first 100 bad lines, in file order. */
  badLines: BadLine[];
  /** Lines read (non-blank), for the bad-line share. */
  linesRead: number;
  /** BEIR only: qrels rows that yielded no training pair (unknown ids, bad score, repeats). */
  pairsLost?: number;
  /** Distinct items loaded (set by loadCorpus only). */
  items?: number;
  /** Streamed training data: the number of files (shards) read. */
  files?: number;
  /**
   * Streamed training data whose first epoch was not read yet: `examples` is the data lines of the
   * files' line index (exact for one pair per line and no bad lines), bad lines are not counted yet.
   */
  estimated?: boolean;
  /** Streamed training data: the data lines of its files (non-blank lines minus TSV headers, from the line indexes: exact). */
  dataLines?: number;
  /**
   * Streamed training data: every file's record shape gives one pair per line (pairs, sentence-transformers,
   * TSV, MS MARCO triples), so before the first epoch the pairs are at most the data lines (bad lines are
   * not counted yet); false when a line may hold several (BGE, data.fields) or a shape is not decided yet.
   */
  onePairPerLine?: boolean;
}

export interface LoadedExamples {
  examples: Example[];
  report: LoadReport;
}

/** What to load: a data file or BEIR folder, as written in an experiment config. */
export interface DataSpec {
  /**
   * File or BEIR folder; relative paths are resolved against `baseDir`. Examples (not a corpus) may
   * also come from a glob or a list of files and globs (shards), read in order.
   */
  path: string | readonly string[];
  /** Default 'auto': a folder with corpus.jsonl is BEIR, *.tsv is TSV, anything else JSONL. */
  format?: DataFormat;
  /** data.fields: read every JSONL record through this field mapping (no shape detection). */
  fields?: FieldMapping;
  /** BEIR qrels split (qrels/<split>.tsv); may be omitted when qrels/ holds exactly one .tsv. */
  split?: string;
  /** Largest tolerated share of malformed lines, in [0, 1]; default 0.05. */
  maxBadLineShare?: number;
  /** Folder that relative paths are resolved against (the config file's folder); default: process.cwd(). */
  baseDir?: string;
  /** Config key named in error messages, e.g. "data.train" → "data file not found: /abs/x (data.train)". */
  label?: string;
  /**
   * Called for every line a BEIR folder's load reads (corpus, queries, then qrels), with the count over the three
   * files: progress, and a way out — what it throws (an abort) ends the load at that line.
   */
  onBeirLine?: (linesRead: number) => void;
}
