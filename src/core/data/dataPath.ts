import { stat, readdir } from 'node:fs/promises';
import { extname, isAbsolute, join, resolve } from 'node:path';
import type { DataFormat } from './types';
import { DataError } from './errors';
import { beirFiles, type BeirFiles } from './beir';

/** " (data.train)" for a label, "" without one: the suffix of data error messages. */
export function labelSuffix(label?: string): string {
  return label ? ` (${label})` : '';
}

/** Absolute path of a data path: absolute paths stay, relative ones resolve against `baseDir` (default cwd). */
export function resolveDataPath(path: string, baseDir?: string): string {
  return isAbsolute(path) ? resolve(path) : resolve(baseDir ?? process.cwd(), path);
}

/** What is at a path (symlinks followed): a regular file, a folder, something else (a device, a FIFO, a socket), or nothing (other stat errors are rethrown). */
type PathKind = 'file' | 'folder' | 'special' | 'missing';

async function pathKind(path: string): Promise<PathKind> {
  try {
    const st = await stat(path);
    return st.isDirectory() ? 'folder' : st.isFile() ? 'file' : 'special';
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw err;
  }
}

/** What a special file is, for messages. */
async function specialKind(path: string): Promise<string> {
  const st = await stat(path);
  return st.isCharacterDevice()
    ? 'a character device'
    : st.isBlockDevice()
      ? 'a block device'
      : st.isFIFO()
        ? 'a FIFO (named pipe)'
        : st.isSocket()
          ? 'a socket'
          : 'not a file';
}

/** The DataError for a path that is neither a regular file nor a folder (`/dev/zero`, a FIFO): it would never end, or block. */
async function notRegular(path: string, label?: string): Promise<DataError> {
  return new DataError(`${path} is not a regular file (${await specialKind(path)}); data must be a file or a folder${labelSuffix(label)}`, path);
}

/** Throws `data file not found: <file> (label)` unless `file` exists and is a regular file. */
export async function requireFile(file: string, label?: string): Promise<void> {
  const kind = await pathKind(file);
  if (kind === 'missing') throw new DataError(`data file not found: ${file}${labelSuffix(label)}`, file);
  if (kind === 'folder') throw new DataError(`${file} is a folder, expected a file${labelSuffix(label)}`, file);
  if (kind === 'special') throw await notRegular(file, label);
}

/**
 * The concrete format of an absolute data path. 'auto' picks beir for a folder holding
 * corpus.jsonl, tsv for *.tsv (and *.tsv.gz), jsonl otherwise. Throws DataError when the path is missing or
 * its kind (file / folder) does not fit the format.
 */
export async function detectFormat(path: string, format: DataFormat, label?: string): Promise<Exclude<DataFormat, 'auto'>> {
  const suffix = labelSuffix(label);
  const kind = await pathKind(path);
  if (kind === 'missing') throw new DataError(`data file not found: ${path}${suffix}`, path);
  if (kind === 'special') throw await notRegular(path, label);
  if (kind === 'folder') {
    if (format !== 'auto' && format !== 'beir') {
      throw new DataError(`${path} is a folder, but format "${format}" needs a file${suffix}`, path);
    }
    if ((await pathKind(join(path, 'corpus.jsonl'))) !== 'file') {
      throw new DataError(`${path} is a folder without corpus.jsonl; expected a data file or a BEIR folder${suffix}`, path);
    }
    return 'beir';
  }
  if (format === 'beir') {
    throw new DataError(`${path} is a file, but format "beir" needs a folder with corpus.jsonl${suffix}`, path);
  }
  if (format !== 'auto') return format;
  return extname(path.replace(/\.gz$/i, '')).toLowerCase() === '.tsv' ? 'tsv' : 'jsonl';
}

/**
 * The files of a BEIR folder for `split`, checked to exist. Without a split the folder's only
 * qrels/*.tsv is used; several (or none) is a DataError asking for one.
 */
export async function resolveBeirFiles(folder: string, split: string | undefined, label?: string): Promise<BeirFiles> {
  const suffix = labelSuffix(label);
  const qrelsDir = join(folder, 'qrels');
  let available: string[] = [];
  if ((await pathKind(qrelsDir)) === 'folder') {
    available = (await readdir(qrelsDir))
      .filter((name) => name.toLowerCase().endsWith('.tsv'))
      .map((name) => name.slice(0, -'.tsv'.length))
      .sort();
  }
  const listed = available.length > 0 ? available.join(', ') : 'none';
  if (split === undefined) {
    if (available.length !== 1) {
      throw new DataError(`${folder} has ${available.length === 0 ? 'no qrels/*.tsv' : `several qrels splits (${listed})`}; set split${suffix}`, folder);
    }
    split = available[0];
  }
  const files = beirFiles(folder, split);
  await requireFile(files.corpus, label);
  await requireFile(files.queries, label);
  if ((await pathKind(files.qrels)) === 'missing') {
    throw new DataError(`data file not found: ${files.qrels} (qrels splits: ${listed})${suffix}`, files.qrels);
  }
  await requireFile(files.qrels, label);
  return files;
}
