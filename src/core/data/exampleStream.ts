/**
 * Training data as a stream: the data files (one, or shards) are indexed once (lineIndex.ts), and
 * every epoch reads them in a new seeded order without holding them in memory:
 *   1. the lines of the plain files, taken as one sequence in file order, are cut into blocks of
 *      BLOCK_LINES lines (a block may span two shards), and each gzip file is one unit read
 *      sequentially from its start;
 *   2. the units are shuffled with seedrandom (`retrieval-lens-data-<seed>-<epoch>`) and read in
 *      that order, each line parsed into pairs by its file's record parser (formats.ts: one per file,
 *      which skips the file's header and detects its shape from its first line when opened);
 *   3. the pairs pass through a shuffle buffer of `shuffleBuffer` pairs (shuffleBuffer.ts).
 * Every pair is drawn exactly once per epoch, and one file or the same lines split into plain
 * shards give the same sequence. Bad lines are counted per epoch and the data.maxBadLineShare rule
 * is checked on the lines read so far at 10,000 lines and whenever that count doubles, and on the
 * whole epoch at its end.
 */
import type { FileHandle } from 'node:fs/promises';
import { stat } from 'node:fs/promises';
import seedrandom from 'seedrandom';
import type { BadLine, Example, FieldMapping, LoadReport } from './types';
import { DataError } from './errors';
import { LineTally, checkBadLineShare } from './badLines';
import { BLOCK_LINES, lineIndexOf, readIndexedLines, type LineIndex } from './lineIndex';
import { isBlank, readLines, type NumberedLine } from './lineReader';
import { LineFault } from './lineFields';
import { ONE_PAIR_SHAPES, shapeReport, type RecordParser } from './formats';
import { fileRecordParser, type DataFile } from './trainFiles';
import { shuffled } from './shuffleBuffer';
import { openRegular } from '../io/safeRead';

/** Lines read before the bad-line share is first checked mid-epoch (then again at every doubling). */
export const SHARE_CHECK_LINES = 10_000;

/** Default for data.shuffleBuffer: pairs held in the shuffle buffer. */
export const DEFAULT_SHUFFLE_BUFFER = 100_000;

/** What an epoch of training data yields, and what it counted. */
export interface ExampleSource {
  /** The pairs of epoch `epoch` (0-based) in their training order. */
  epoch(epoch: number): AsyncIterable<Example>;
  /** Pairs of one full epoch, once known (after the first epoch was read), else an estimate. */
  readonly examples: number;
  readonly exact: boolean;
  close(): Promise<void>;
}

/** Counts of one finished epoch. */
export interface EpochCounts {
  epoch: number;
  examples: number;
  linesRead: number;
  badCount: number;
  badLines: BadLine[];
}

export interface StreamOptions {
  seed: number;
  shuffleBuffer: number;
  maxBadLineShare: number;
  /** How the data path is named in messages (the file, or "first + N more"). */
  describe: string;
  /** Called when an epoch has been read to its end (before its last pairs leave the buffer). */
  onEpochRead?(counts: EpochCounts): void;
  /** data.fields: every JSONL file's records read through this mapping. */
  fields?: FieldMapping;
  /** The config key of the data path, for messages ("data.train"). */
  label?: string;
}

/** A unit of shuffled reading: a block of plain lines (global line numbers [start, end)) or one gzip file. */
type Unit = { kind: 'plain'; start: number; end: number } | { kind: 'gzip'; file: number };

interface OpenFile {
  df: DataFile;
  index: LineIndex;
  /** Line number of a header line to skip (TSV), else 0. */
  header: number;
  parser: RecordParser;
  /** First global line of this file among the plain files (plain files only). */
  plainStart: number;
  handle: FileHandle | null;
}

/**
 * Shows a file's first non-blank line to its parser, as the in-memory reader does: a header is skipped
 * uncounted (its 1-based line is returned, else 0); a record decides the shape (a {@link DataError} for
 * a shape the parser does not know, before any training). A bad first line decides nothing here: it is
 * counted as bad when its block is read, and the first good line read decides.
 */
async function firstLine(df: DataFile, parser: RecordParser): Promise<number> {
  for await (const { text, line, encodingFault } of readLines(df.file)) {
    if (isBlank(text)) continue;
    if (encodingFault) return 0;
    if (parser.header(text)) return line;
    try {
      parser.parse(text, { file: df.file, line });
    } catch (err) {
      if (!(err instanceof LineFault)) throw err;
    }
    return 0;
  }
  return 0;
}

/** The DataError of a data file that is gone (deleted or moved) while training reads it; the Python reader says the same. */
function disappeared(file: string): DataError {
  return new DataError(`${file} disappeared while training read it (deleted or moved); start the run again`, file);
}

/** Training pairs streamed from indexed data files. Open with {@link StreamedExamples.open}. */
export class StreamedExamples implements ExampleSource {
  private readonly units: Unit[] = [];
  private known: number | null = null;

  private constructor(
    private readonly files: OpenFile[],
    private readonly opts: StreamOptions,
  ) {
    let plainLines = 0;
    files.forEach((f) => {
      if (f.index.gzip) return;
      f.plainStart = plainLines;
      plainLines += f.index.lines;
    });
    for (let start = 0; start < plainLines; start += BLOCK_LINES) this.units.push({ kind: 'plain', start, end: Math.min(plainLines, start + BLOCK_LINES) });
    files.forEach((f, i) => {
      if (f.index.gzip) this.units.push({ kind: 'gzip', file: i });
    });
  }

  /** Indexes the files (or reads their cached indexes) and returns the stream. */
  static async open(files: DataFile[], opts: StreamOptions): Promise<StreamedExamples> {
    const opened: OpenFile[] = [];
    for (const df of files) {
      const parser = fileRecordParser(df, opts.fields, opts.label);
      try {
        opened.push({ df, index: await lineIndexOf(df.file), header: await firstLine(df, parser), parser, plainStart: 0, handle: null });
      } catch (err) {
        // File-system and zlib errors (a corrupt .gz: "incorrect header check") name the shard they are in.
        const code = (err as NodeJS.ErrnoException).code;
        if (typeof code !== 'string') throw err;
        throw new DataError(`cannot read ${df.file}: ${(err as Error).message}`, df.file);
      }
    }
    return new StreamedExamples(opened, opts);
  }

  /** The files' indexes (sizes, line counts, whether read from cache). */
  get indexes(): LineIndex[] {
    return this.files.map((f) => f.index);
  }

  /** The record shape of the files (report.shape), as far as their parsers decided it. */
  get shape(): LoadReport['shape'] {
    return shapeReport(this.files.map((f) => f.parser));
  }

  /** Non-blank lines of all files (the pairs of a one-pair-per-line format without bad lines). */
  get dataLines(): number {
    return this.files.reduce((n, f) => n + f.index.nonBlank - (f.header ? 1 : 0), 0);
  }

  /** Whether every file's shape gives one pair per line (then the pairs are at most {@link dataLines} before the first epoch). */
  get onePairPerLine(): boolean {
    return this.files.every((f) => f.parser.shape !== null && ONE_PAIR_SHAPES.has(f.parser.shape));
  }

  get examples(): number {
    return this.known ?? this.dataLines;
  }

  get exact(): boolean {
    return this.known !== null;
  }

  epoch(epoch: number): AsyncIterable<Example> {
    const rng = seedrandom.alea(`retrieval-lens-buffer-${this.opts.seed}-${epoch}`);
    return shuffled(this.readEpoch(epoch), this.opts.shuffleBuffer, rng);
  }

  async close(): Promise<void> {
    for (const f of this.files) {
      await f.handle?.close();
      f.handle = null;
    }
  }

  /** The units of an epoch in their seeded order (Fisher–Yates with seedrandom's alea). */
  unitOrder(epoch: number): Unit[] {
    const rng = seedrandom.alea(`retrieval-lens-data-${this.opts.seed}-${epoch}`);
    const order = this.units.slice();
    for (let i = order.length - 1; i > 0; i--) {
      const k = Math.floor(rng() * (i + 1));
      [order[i], order[k]] = [order[k], order[i]];
    }
    return order;
  }

  /** Every pair of the data once, unit by unit in the epoch's order (a chunk per block), with bad-line accounting. */
  private async *readEpoch(epoch: number): AsyncGenerator<Example[]> {
    await this.requireUnchanged();
    const tally = new LineTally();
    let nextCheck = SHARE_CHECK_LINES;
    let examples = 0;
    for (const unit of this.unitOrder(epoch)) {
      const chunks = unit.kind === 'plain' ? this.plainChunks(unit.start, unit.end) : this.gzipChunks(unit.file);
      for await (const [f, lines] of chunks) {
        const out: Example[] = [];
        for (const nl of lines) {
          if (isBlank(nl.text) || nl.line === f.header) continue;
          tally.countLine();
          let pairs: Example[] = [];
          try {
            if (nl.encodingFault) throw new LineFault(nl.encodingFault);
            pairs = f.parser.parse(nl.text, { file: f.df.file, line: nl.line });
          } catch (err) {
            if (!(err instanceof LineFault)) throw err;
            tally.addBad(f.df.file, nl.line, err.message);
          }
          if (tally.linesRead >= nextCheck) {
            checkBadLineShare(tally, this.opts.describe, this.opts.maxBadLineShare);
            nextCheck *= 2;
          }
          for (const p of pairs) out.push(p);
        }
        examples += out.length;
        yield out;
      }
    }
    checkBadLineShare(tally, this.opts.describe, this.opts.maxBadLineShare);
    if (this.known === null) this.known = examples;
    this.opts.onEpochRead?.({ epoch, examples, linesRead: tally.linesRead, badCount: tally.badCount, badLines: tally.badLines });
  }

  /** A data file that changed since it was indexed would be read at wrong offsets: refuse it. */
  private async requireUnchanged(): Promise<void> {
    for (const f of this.files) {
      const s = await stat(f.df.file).catch((err: NodeJS.ErrnoException) => {
        throw err.code === 'ENOENT' ? disappeared(f.df.file) : err;
      });
      if (s.size !== f.index.size || s.mtimeMs !== f.index.mtimeMs) {
        throw new DataError(`${f.df.file} changed while training read it (size or modification time); start the run again`, f.df.file);
      }
    }
  }

  /** The lines with global plain line numbers [start, end), across file boundaries: a chunk per file. */
  private async *plainChunks(start: number, end: number): AsyncGenerator<[OpenFile, NumberedLine[]]> {
    for (const f of this.files) {
      if (f.index.gzip) continue;
      const from = Math.max(start, f.plainStart) - f.plainStart;
      const to = Math.min(end, f.plainStart + f.index.lines) - f.plainStart;
      if (from >= to) continue;
      yield [f, await this.readLocal(f, from, to)];
    }
  }

  /** Lines [from, to) (0-based) of a plain file, read by the block offsets of its index. */
  private async readLocal(f: OpenFile, from: number, to: number): Promise<NumberedLine[]> {
    f.handle ??= await openRegular(f.df.file).catch((err: NodeJS.ErrnoException) => {
      throw err.code === 'ENOENT' ? disappeared(f.df.file) : err;
    });
    const { lines, short } = await readIndexedLines(f.handle, f.index, from, to);
    if (short) throw new DataError(`${f.df.file} is shorter than when it was indexed; start the run again`, f.df.file);
    return lines;
  }

  /** The lines of a gzip file, decompressed sequentially, in chunks of BLOCK_LINES. */
  private async *gzipChunks(i: number): AsyncGenerator<[OpenFile, NumberedLine[]]> {
    const f = this.files[i];
    let chunk: NumberedLine[] = [];
    try {
      for await (const nl of readLines(f.df.file)) {
        chunk.push(nl);
        if (chunk.length === BLOCK_LINES) {
          yield [f, chunk];
          chunk = [];
        }
      }
    } catch (err) {
      throw (err as NodeJS.ErrnoException).code === 'ENOENT' ? disappeared(f.df.file) : err;
    }
    if (chunk.length > 0) yield [f, chunk];
  }
}

/** Pairs already in memory (a BEIR folder's qrels pairs): a seeded permutation per epoch. */
export class InMemoryExamples implements ExampleSource {
  readonly exact = true;
  constructor(
    private readonly data: Example[],
    private readonly seed: number,
  ) {}

  get examples(): number {
    return this.data.length;
  }

  async *epoch(epoch: number): AsyncGenerator<Example> {
    const rng = seedrandom.alea(`retrieval-lens-data-${this.seed}-${epoch}`);
    const order = this.data.map((_, i) => i);
    for (let i = order.length - 1; i > 0; i--) {
      const k = Math.floor(rng() * (i + 1));
      [order[i], order[k]] = [order[k], order[i]];
    }
    for (const i of order) yield this.data[i];
  }

  async close(): Promise<void> {}
}
