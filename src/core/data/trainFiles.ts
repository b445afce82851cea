/**
 * The files of a data path that may name several: `data.train` is a file, a glob
 * (`shards/part-*.jsonl.gz`) or a list of files and globs (shards), read in that order — a glob's
 * matches sorted by name with numbers compared as numbers (part-2 before part-10).
 */
import { existsSync } from 'node:fs';
import { glob, globSync, isDynamicPattern } from 'tinyglobby';
import type { DataFormat, FieldMapping } from './types';
import { DataError } from './errors';
import { labelSuffix, requireFile, resolveDataPath } from './dataPath';
import { HARDNEG_SUFFIX, HELDOUT_SUFFIX, INDEX_SUFFIX } from './lineIndex';
import { containerOf, recordParser, type RecordParser } from './formats';

/** The data.format of one file of pairs: a container (jsonl, tsv) or a fixed record shape (bge, sentence-transformers, msmarco). */
export type PairFormat = Exclude<DataFormat, 'auto' | 'beir'>;

/** One data file of a (possibly sharded) data path and the format its lines are read in. */
export interface DataFile {
  /** Absolute path. */
  file: string;
  format: PairFormat;
  /** True when the format came from data.format, false when from the file name ("auto": the record shape is detected). */
  explicit: boolean;
}

/** The list form of a data path as written in a config. */
export function dataPathList(path: string | readonly string[]): string[] {
  return typeof path === 'string' ? [path] : [...path];
}

/** "a.jsonl" for one entry, "a.jsonl + 2 more" for a list: how messages name a data path. */
export function describeDataPath(path: string | readonly string[], baseDir?: string): string {
  const list = dataPathList(path).map((p) => resolveDataPath(p, baseDir));
  return list.length === 1 ? list[0] : `${list[0]} + ${list.length - 1} more`;
}

/** The format of one file: data.format when it names a pairs format, else by extension (`.tsv`, `.tsv.gz` → tsv; anything else jsonl). */
export function fileFormat(file: string, format: DataFormat): Pick<DataFile, 'format' | 'explicit'> {
  if (format !== 'auto' && format !== 'beir') return { format, explicit: true };
  return { format: /\.tsv(\.gz)?$/i.test(file) ? 'tsv' : 'jsonl', explicit: false };
}

/**
 * The record parser of one data file (each file detects its own shape and header): data.fields maps
 * JSONL fields only, so with a TSV file it is a DataError naming the file.
 */
export function fileRecordParser(df: DataFile, fields?: FieldMapping, label?: string): RecordParser {
  if (fields && containerOf(df.format) === 'tsv') {
    throw new DataError(`${df.file}: data.fields maps JSONL fields; this is a TSV file${labelSuffix(label)}`, df.file);
  }
  return recordParser(df.format, fields, df.explicit);
}

/**
 * True when a data path entry is a glob pattern rather than a file name: it has glob syntax and no
 * file or folder of that exact name exists (so `data/[2024] logs.jsonl` stays a file name).
 */
export function isGlob(entry: string, baseDir?: string): boolean {
  return isDynamicPattern(entry.replace(/\\/g, '/')) && !existsSync(resolveDataPath(entry, baseDir));
}

/**
 * The files an absolute glob pattern matches, in reading order (by name, numbers as numbers: `part-2`
 * before `part-10`), never a cache (`*.rlens-index`, `*.rlens-hardneg`, `*.rlens-heldout`) or a temp file.
 */
export function globDataFiles(absPattern: string): string[] {
  return readingOrder(globSync(absPattern.replace(/\\/g, '/'), { absolute: true, onlyFiles: true, expandDirectories: false }));
}

/** Glob matches in reading order, without caches (line index, mined negatives) and temp files. */
function readingOrder(matches: string[]): string[] {
  return matches
    .filter((f) => !f.endsWith(INDEX_SUFFIX) && !f.endsWith(HARDNEG_SUFFIX) && !f.endsWith(HELDOUT_SUFFIX) && !f.endsWith('.tmp'))
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }))
    .map((f) => resolveDataPath(f));
}

/** Bounds of a glob run where nothing may block for long (the extension host's data lenses). */
export interface GlobLimits {
  /** More matches than this is a DataError (nothing is counted). */
  maxFiles: number;
  /** A walk longer than this is stopped, a DataError. */
  timeoutMs: number;
  /** Cancels the walk (an AbortError). */
  signal?: AbortSignal;
  /** Follow symbolic links to folders (training does; default false here: a link can lead anywhere, or in a circle). */
  followSymbolicLinks?: boolean;
}

/**
 * globDataFiles, asynchronous and bounded: the folder walk uses async fs (the event loop stays free), is
 * stopped after `timeoutMs` or on `signal`, and more than `maxFiles` matches are refused, so a pattern
 * such as `/**` + `/*.jsonl` in a repository's config costs at most `timeoutMs`.
 */
export async function globDataFilesBounded(absPattern: string, limits: GlobLimits): Promise<string[]> {
  const timeout = AbortSignal.timeout(limits.timeoutMs);
  const signal = limits.signal ? AbortSignal.any([limits.signal, timeout]) : timeout;
  const matches = await glob(absPattern.replace(/\\/g, '/'), {
    absolute: true,
    onlyFiles: true,
    expandDirectories: false,
    followSymbolicLinks: limits.followSymbolicLinks ?? false,
    signal,
  });
  limits.signal?.throwIfAborted();
  if (timeout.aborted) throw new DataError(`${absPattern}: listing its files took more than ${limits.timeoutMs / 1000} s (stopped)`, absPattern);
  if (matches.length > limits.maxFiles) throw new DataError(`${absPattern} matches more than ${limits.maxFiles} files`, absPattern);
  return readingOrder(matches);
}

/**
 * The data files of a data path (one entry or a list), in reading order, each checked to exist and
 * to be a file. A glob matching nothing, a missing file and a folder are DataErrors naming the
 * entry; index caches (`*.rlens-index`) never match a glob.
 */
export async function resolveDataFiles(path: string | readonly string[], opts: { baseDir?: string; format?: DataFormat; label?: string }): Promise<DataFile[]> {
  const format = opts.format ?? 'auto';
  const files: string[] = [];
  const entries = dataPathList(path);
  if (entries.length === 0) throw new DataError(`no data files given${labelSuffix(opts.label)}`, opts.baseDir ?? process.cwd());
  for (const entry of entries) {
    const abs = resolveDataPath(entry, opts.baseDir);
    if (!isGlob(entry, opts.baseDir)) {
      await requireFile(abs, opts.label);
      files.push(abs);
      continue;
    }
    const matches = globDataFiles(abs);
    if (matches.length === 0) throw new DataError(`no file matches ${abs}${labelSuffix(opts.label)}`, abs);
    files.push(...matches);
  }
  return files.map((file) => ({ file, ...fileFormat(file, format) }));
}
