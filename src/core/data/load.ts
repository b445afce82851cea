import { join } from 'node:path';
import type { DataSpec, Example, Item, LoadReport, LoadedExamples } from './types';
import { DataError } from './errors';
import { DEFAULT_MAX_BAD_LINE_SHARE, LineTally, checkBadLineShare } from './badLines';
import { detectFormat, labelSuffix, resolveBeirFiles, resolveDataPath } from './dataPath';
import { readPairFile } from './pairFile';
import { containerOf, shapeReport } from './formats';
import { readBeirExamples } from './beir';
import { parseCorpusLine, readCorpusJsonl } from './corpusJsonl';
import { isBlank, readLines } from './lineReader';
import { LineFault } from './lineFields';
import { describeDataPath, fileRecordParser, isGlob, resolveDataFiles } from './trainFiles';

export { DataError } from './errors';
export { collectQrels } from './qrels';

/** The bad-line share limit of a spec, checked to lie in [0, 1]. */
function maxShareOf(spec: DataSpec, path: string): number {
  const share = spec.maxBadLineShare ?? DEFAULT_MAX_BAD_LINE_SHARE;
  if (!(share >= 0 && share <= 1)) {
    throw new DataError(`data.maxBadLineShare must be between 0 and 1, got ${share}${labelSuffix(spec.label)}`, path);
  }
  return share;
}

/** Runs a read, turning file-system errors (EACCES, EISDIR, ...) into DataErrors naming the file. */
export async function withReadErrors<T>(path: string, label: string | undefined, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (err) {
    if (err instanceof DataError) throw err;
    const fsError = err as NodeJS.ErrnoException;
    if (typeof fsError.code !== 'string') throw err;
    const file = fsError.path ?? path;
    throw new DataError(`cannot read ${file}: ${fsError.message}${labelSuffix(label)}`, file);
  }
}

/** Throws when a load produced nothing usable, saying whether the data was empty or all bad. */
function requireSome(count: number, what: string, path: string, tally: LineTally, label?: string): void {
  if (count > 0) return;
  const why =
    tally.linesRead === 0 ? 'it holds no data lines' : tally.badCount > 0 ? `${tally.badCount} of ${tally.linesRead} lines are malformed` : 'no relevant pairs';
  throw new DataError(`no ${what} in ${path}${labelSuffix(label)}: ${why}`, path);
}

/** The report of a finished load. */
function reportOf(path: string, format: LoadReport['format'], examples: number, tally: LineTally): LoadReport {
  return { path, format, examples, badCount: tally.badCount, badLines: tally.badLines, linesRead: tally.linesRead };
}

/**
 * Loads training or test examples from a JSONL pairs file, a TSV pairs file or a BEIR folder
 * (one example per relevant qrels pair of `split`), streaming line by line. Every example and
 * item carries its absolute file and 1-based line. Bad lines are reported (first 100 plus the
 * total); throws DataError when the path is missing, when more than `maxBadLineShare` (default
 * 5%) of the lines are bad, or when no example is left.
 */
export async function loadExamples(spec: DataSpec): Promise<LoadedExamples> {
  if (typeof spec.path !== 'string' || isGlob(spec.path, spec.baseDir)) return loadExampleFiles(spec);
  const path = resolveDataPath(spec.path, spec.baseDir);
  const maxShare = maxShareOf(spec, path);
  const format = await detectFormat(path, spec.format ?? 'auto', spec.label);
  const tally = new LineTally();
  if (format === 'beir') return loadBeirExamples(path, spec, maxShare);
  const parser = fileRecordParser({ file: path, format, explicit: (spec.format ?? 'auto') !== 'auto' }, spec.fields, spec.label);
  const examples: Example[] = await withReadErrors(path, spec.label, async () => readPairFile(path, tally, parser));
  checkBadLineShare(tally, path, maxShare);
  requireSome(examples.length, 'examples', path, tally, spec.label);
  const report = reportOf(path, format, examples.length, tally);
  const shape = shapeReport([parser]);
  if (shape) report.shape = shape;
  return { examples, report };
}

/**
 * Examples of a glob or a list of files (shards, plain or gzip), read in order as one data set; each
 * file has its own record parser (header, shape), and the report names the shape the files have.
 */
async function loadExampleFiles(spec: DataSpec): Promise<LoadedExamples> {
  const path = describeDataPath(spec.path, spec.baseDir);
  const maxShare = maxShareOf(spec, path);
  const files = await resolveDataFiles(spec.path, { baseDir: spec.baseDir, format: spec.format, label: spec.label });
  const tally = new LineTally();
  const examples: Example[] = [];
  const parsers = files.map((df) => fileRecordParser(df, spec.fields, spec.label));
  for (const [i, { file }] of files.entries()) {
    const read = await withReadErrors(file, spec.label, async () => readPairFile(file, tally, parsers[i]));
    for (const e of read) examples.push(e);
  }
  checkBadLineShare(tally, path, maxShare);
  requireSome(examples.length, 'examples', path, tally, spec.label);
  const report: LoadReport = { ...reportOf(path, files[0].format, examples.length, tally), files: files.length };
  const shape = shapeReport(parsers);
  if (shape) report.shape = shape;
  return { examples, report };
}

/**
 * A BEIR folder: the bad-line share is checked per file (corpus, queries, qrels), so that qrels
 * rows naming unknown ids — each one a lost pair — are not diluted by a large corpus. The report
 * sums the three and counts the lost pairs (bad qrels rows).
 */
async function loadBeirExamples(path: string, spec: DataSpec, maxShare: number): Promise<LoadedExamples> {
  const files = await resolveBeirFiles(path, spec.split, spec.label);
  let linesRead = 0;
  const onLine = spec.onBeirLine && (() => spec.onBeirLine!(++linesRead));
  const tallies = { corpus: new LineTally(onLine), queries: new LineTally(onLine), qrels: new LineTally(onLine) };
  const examples = await withReadErrors(path, spec.label, () => readBeirExamples(files, tallies));
  checkBadLineShare(tallies.corpus, files.corpus, maxShare);
  checkBadLineShare(tallies.queries, files.queries, maxShare);
  checkBadLineShare(tallies.qrels, files.qrels, maxShare, 'qrels rows', 'yield no pair');
  const total = new LineTally();
  for (const t of [tallies.corpus, tallies.queries, tallies.qrels]) total.merge(t);
  requireSome(examples.length, 'examples', path, total, spec.label);
  return { examples, report: { ...reportOf(path, 'beir', examples.length, total), pairsLost: tallies.qrels.badCount } };
}

/** The absolute path of a corpus: one file or BEIR folder (a list or glob of shards is a DataError). */
function corpusPath(spec: DataSpec): string {
  if (typeof spec.path !== 'string')
    throw new DataError(`a corpus is one file or a BEIR folder, not a list${labelSuffix(spec.label)}`, describeDataPath(spec.path, spec.baseDir));
  return resolveDataPath(spec.path, spec.baseDir);
}

/**
 * Loads a retrieval corpus for evaluation: all of corpus.jsonl for a BEIR folder, or a JSONL file
 * of `{"id", "text"}` (or `{"_id", "title", "text"}`) lines. Items are deduped by id: the first
 * occurrence wins and keeps its location. Same errors and bad-line rules as {@link loadExamples};
 * report.items holds the item count (report.examples is 0). For a BEIR folder, corpus.jsonl
 * is the file read (detectFormat has checked it exists).
 */
export async function loadCorpus(spec: DataSpec): Promise<{ items: Item[]; report: LoadReport }> {
  const path = corpusPath(spec);
  const maxShare = maxShareOf(spec, path);
  const format = await detectFormat(path, spec.format ?? 'auto', spec.label);
  if (containerOf(format) === 'tsv') {
    throw new DataError(`${path}: a corpus must be a JSONL file of {"id", "text"} lines or a BEIR folder, not TSV${labelSuffix(spec.label)}`, path);
  }
  const tally = new LineTally();
  const byId = await withReadErrors(path, spec.label, async () => readCorpusJsonl(format === 'beir' ? join(path, 'corpus.jsonl') : path, tally));
  checkBadLineShare(tally, path, maxShare);
  const items = [...byId.values()];
  requireSome(items.length, 'corpus items', path, tally, spec.label);
  return { items, report: { ...reportOf(path, format, 0, tally), items: items.length } };
}

/**
 * Streams a retrieval corpus (the file {@link loadCorpus} reads) item by item without keeping the texts:
 * `onItem` sees every distinct item once, in file order (a repeated id is dropped: the first occurrence
 * wins), with its text. Same checks and errors as loadCorpus; returns the report (report.items = the count)
 * and the file read (corpus.jsonl for a BEIR folder), so that a later pass can read the same lines again.
 */
export async function streamCorpus(spec: DataSpec, onItem: (item: Item) => void): Promise<{ report: LoadReport; file: string }> {
  const path = corpusPath(spec);
  const maxShare = maxShareOf(spec, path);
  const format = await detectFormat(path, spec.format ?? 'auto', spec.label);
  if (containerOf(format) === 'tsv') {
    throw new DataError(`${path}: a corpus must be a JSONL file of {"id", "text"} lines or a BEIR folder, not TSV${labelSuffix(spec.label)}`, path);
  }
  const file = format === 'beir' ? join(path, 'corpus.jsonl') : path;
  const tally = new LineTally();
  const seen = new Set<string>();
  await withReadErrors(path, spec.label, async () => {
    for await (const { text, line, encodingFault } of readLines(file)) {
      if (isBlank(text)) continue;
      tally.countLine();
      try {
        if (encodingFault) throw new LineFault(encodingFault);
        const item = parseCorpusLine(text, { file, line });
        if (seen.has(item.id)) continue;
        seen.add(item.id);
        onItem(item);
      } catch (err) {
        if (!(err instanceof LineFault)) throw err;
        tally.addBad(file, line, err.message);
      }
    }
  });
  checkBadLineShare(tally, path, maxShare);
  requireSome(seen.size, 'corpus items', path, tally, spec.label);
  return { report: { ...reportOf(path, format, 0, tally), items: seen.size }, file };
}
