/**
 * The data audit of a config (see auditor.ts for what it finds and its memory bounds): one streamed pass
 * over the corpus (data.corpus, else a BEIR test or training folder's corpus.jsonl), the test queries
 * (data.test: a BEIR folder's queries of its qrels split, or a pairs file), then the training pairs in file
 * order, read by the readers training uses: pairs files (one, a glob or shards, plain or gzip) through
 * pairFile.ts `eachPairOfFile` with each file's record parser (trainFiles.ts `fileRecordParser`), and a BEIR
 * training folder through load.ts `loadExamples` (as training loads it: in memory).
 * With `signal` the audit is cancellable: it is checked between records (corpus lines, test queries, training
 * lines), and an aborted audit rejects with the signal's reason. `onProgress` hears the lines read now and then.
 */
import { join } from 'node:path';
import type { LoadedConfig } from '../../config/types';
import { LineTally } from '../badLines';
import { readQueriesJsonl } from '../beir';
import { parseCorpusLine } from '../corpusJsonl';
import { detectFormat, resolveBeirFiles, resolveDataPath } from '../dataPath';
import { LineFault, optionalString, parseJsonObject } from '../lineFields';
import { isBlank, readLines } from '../lineReader';
import { loadExamples, withReadErrors } from '../load';
import { eachPairOfFile } from '../pairFile';
import { dataPathList, describeDataPath, fileRecordParser, isGlob, resolveDataFiles } from '../trainFiles';
import type { RecordParser } from '../formats';
import type { BadLine } from '../types';
import { Auditor, type AuditFinding } from './auditor';

export interface AuditReport {
  train: string;
  test: string | null;
  corpus: string | null;
  pairs: number;
  linesRead: number;
  badCount: number;
  /** The first bad lines of the training data (the readers' reasons: "empty query", ...). */
  badLines: BadLine[];
  testQueries: number;
  corpusItems: number;
  findings: AuditFinding[];
  ms: number;
}

/** The parts of the data the audit reads, in order. */
export const AUDIT_PARTS = ['corpus', 'test', 'train'] as const;
/** Which part of the data the audit is reading. */
export type AuditPart = (typeof AUDIT_PARTS)[number];

/** Lines read so far of the part being read (corpus: corpus lines; test: test queries; train: training data lines). */
export interface AuditProgress {
  part: AuditPart;
  linesRead: number;
}

export interface AuditOptions {
  sharedPositiveMin?: number;
  /** Cancels the audit between records (it then rejects with `signal.reason`). */
  signal?: AbortSignal;
  /** Called every {@link PROGRESS_EVERY} records and at the start and end of each part. */
  onProgress?: (p: AuditProgress) => void;
}

/** Records between two progress reports. */
const PROGRESS_EVERY = 1024;

/** Counts the records of each part, checks the signal before each one and reports progress every PROGRESS_EVERY. */
class AuditPace {
  private part: AuditPart = 'corpus';
  private count = 0;
  constructor(private readonly opts: AuditOptions) {}
  begin(part: AuditPart): void {
    this.part = part;
    this.count = 0;
    this.report();
  }
  /** Throws when aborted. */
  check(): void {
    this.opts.signal?.throwIfAborted();
  }
  /** Before a record: throws when aborted. `linesRead`: the reader's own count, when it has one. */
  record(linesRead?: number): void {
    this.check();
    this.count = linesRead ?? this.count + 1;
    if (this.count % PROGRESS_EVERY === 0) this.report();
  }
  end(linesRead?: number): void {
    if (linesRead !== undefined) this.count = linesRead;
    this.report();
  }
  private report(): void {
    this.opts.onProgress?.({ part: this.part, linesRead: this.count });
  }
}

/** The single BEIR folder a data path names, or null (a pairs file, a glob or a list). */
async function beirFolderOf(path: string | string[] | undefined, loaded: LoadedConfig, label: string): Promise<string | null> {
  if (path === undefined) return null;
  const entries = dataPathList(path);
  if (entries.length !== 1 || isGlob(entries[0], loaded.baseDir)) return null;
  const abs = resolveDataPath(entries[0], loaded.baseDir);
  const format = loaded.config.data.format === 'beir' ? 'beir' : await detectFormat(abs, loaded.config.data.format, label);
  return format === 'beir' ? abs : null;
}

/** Streams a corpus JSONL file into the auditor: each item's full text and, when titled, its text alone. */
async function auditCorpus(file: string, auditor: Auditor, pace: AuditPace): Promise<void> {
  for await (const { text, line, encodingFault } of readLines(file)) {
    pace.record();
    if (isBlank(text) || encodingFault) continue;
    try {
      const item = parseCorpusLine(text, { file, line });
      const title = optionalString(parseJsonObject(text), 'title');
      const body = title !== undefined && !isBlank(title) ? optionalString(parseJsonObject(text), 'text') : undefined;
      auditor.addCorpusItem(item.id, item.text, body !== undefined && !isBlank(body) ? body : null);
    } catch (err) {
      if (!(err instanceof LineFault)) throw err; // bad corpus lines are the corpus reader's to report
    }
  }
}

/** The test queries of a BEIR folder's split: the queries.jsonl lines of the query ids its qrels name. */
async function auditBeirTest(folder: string, loaded: LoadedConfig, auditor: Auditor, pace: AuditPace): Promise<void> {
  const files = await resolveBeirFiles(folder, loaded.config.data.testSplit, 'data.test');
  const queries = await readQueriesJsonl(files.queries, new LineTally(() => pace.check()));
  const ids = new Set<string>();
  for await (const { text } of readLines(files.qrels)) {
    pace.record();
    const id = text.split('\t')[0]?.trim();
    if (id) ids.add(id);
  }
  for (const id of ids) {
    const q = queries.get(id);
    if (q) auditor.addTestQuery(q.text, q.source);
  }
}

/** A record parser that first tells the pace about the line (the tally has counted it). */
function pacedParser(parser: RecordParser, pace: AuditPace, tally: LineTally): RecordParser {
  return {
    header: (text) => parser.header(text),
    parse: (text, source) => {
      pace.record(tally.linesRead);
      return parser.parse(text, source);
    },
    shape: parser.shape,
    how: parser.how,
  };
}

/** The corpus file of a config: data.corpus (a BEIR folder's corpus.jsonl), else a BEIR test or training folder's corpus.jsonl, else null. */
export async function corpusFileOf(loaded: LoadedConfig): Promise<string | null> {
  const d = loaded.config.data;
  if (d.corpus) {
    const folder = await beirFolderOf(d.corpus, loaded, 'data.corpus');
    return folder !== null ? join(folder, 'corpus.jsonl') : resolveDataPath(d.corpus, loaded.baseDir);
  }
  const folder = (await beirFolderOf(d.test, loaded, 'data.test')) ?? (await beirFolderOf(d.train, loaded, 'data.train'));
  return folder !== null ? join(folder, 'corpus.jsonl') : null;
}

/** Audits the training data of a loaded config. */
export async function auditTrainingData(loaded: LoadedConfig, opts: AuditOptions = {}): Promise<AuditReport> {
  const started = Date.now();
  const d = loaded.config.data;
  const auditor = new Auditor({
    maxQueryTokens: loaded.config.model.maxQueryTokens,
    maxItemTokens: loaded.config.model.maxItemTokens,
    ...(opts.sharedPositiveMin !== undefined ? { sharedPositiveMin: opts.sharedPositiveMin } : {}),
  });
  const trainBeir = await beirFolderOf(d.train, loaded, 'data.train');
  const testBeir = await beirFolderOf(d.test, loaded, 'data.test');
  const corpusFile = await corpusFileOf(loaded);
  const pace = new AuditPace(opts);
  if (corpusFile) {
    pace.begin('corpus');
    await withReadErrors(corpusFile, 'data.corpus', () => auditCorpus(corpusFile, auditor, pace));
    pace.end();
  }
  const common = { maxBadLineShare: 1, baseDir: loaded.baseDir, ...(d.fields ? { fields: d.fields } : {}) };
  if (testBeir || d.test) pace.begin('test');
  if (testBeir) await withReadErrors(testBeir, 'data.test', () => auditBeirTest(testBeir, loaded, auditor, pace));
  else if (d.test) {
    const test = await loadExamples({ ...common, path: d.test, format: d.format, label: 'data.test' });
    for (const e of test.examples) {
      pace.record();
      auditor.addTestQuery(e.query, e.source);
    }
  }
  if (testBeir || d.test) pace.end();
  const tally = new LineTally();
  pace.begin('train');
  if (trainBeir) {
    // The folder's lines count as they are read (a stop ends the load there), then its pairs are audited.
    const onBeirLine = (linesRead: number) => pace.record(linesRead);
    const train = await loadExamples({ ...common, path: trainBeir, format: 'beir', split: d.trainSplit, label: 'data.train', onBeirLine });
    for (const e of train.examples) {
      pace.check();
      auditor.addPair(e);
    }
    tally.linesRead = train.report.linesRead;
    tally.badCount = train.report.badCount;
    tally.badLines.push(...train.report.badLines);
  } else {
    const files = await resolveDataFiles(d.train, { baseDir: loaded.baseDir, format: d.format, label: 'data.train' });
    for (const df of files) {
      const parser = pacedParser(fileRecordParser(df, d.fields, 'data.train'), pace, tally);
      await withReadErrors(df.file, 'data.train', () => eachPairOfFile(df.file, tally, parser, (e) => auditor.addPair(e)));
    }
  }
  pace.end(tally.linesRead);
  return {
    train: describeDataPath(d.train, loaded.baseDir),
    test: testBeir ?? (d.test ? resolveDataPath(d.test, loaded.baseDir) : null),
    corpus: corpusFile,
    pairs: auditor.pairsRead,
    linesRead: tally.linesRead,
    badCount: tally.badCount,
    badLines: tally.badLines.slice(0, 5),
    testQueries: auditor.testQueryCount,
    corpusItems: auditor.corpusItems,
    findings: auditor.findingsList(),
    ms: Date.now() - started,
  };
}
