/**
 * Bounded, safe reads of files a repository controls (configs, run folders, caches, data). A cloned
 * repository is untrusted input: `meta.json -> /dev/zero` would otherwise be read until memory runs
 * out, a FIFO named `meta.json` would block the reader forever, and a sparse 1.9 GB `config.json`
 * would be held whole. Every reader of such a file goes through this module:
 *   - the file is opened with O_NONBLOCK (opening a FIFO never waits for a writer) and checked on the
 *     opened descriptor (fstat, so the check and the read are of the same file: no TOCTOU) to be a
 *     regular file — a symlink to a regular file is fine, a FIFO, socket, device or folder is refused;
 *   - whole-file reads are bounded by a limit per kind of file (READ_LIMITS, documented in README's
 *     "Security" section) and never read more than the size fstat reported.
 * Streams of data files (which may be large) use openRegular / openRegularSync: the type check without a
 * size limit.
 */
import * as fs from 'node:fs';
import type { FileHandle } from 'node:fs/promises';

const MiB = 1024 * 1024;

/** The kinds of files read whole, with the most bytes each may hold (README, "Security"). */
export const READ_LIMITS = {
  /** An experiment config (`*.rlens.json`). */
  'experiment config': 4 * MiB,
  /** A run's `meta.json`. */
  'meta.json': 4 * MiB,
  /** A run's resolved `config.json`. */
  'config.json': 4 * MiB,
  /** A run's `events.jsonl`, when read whole (tails and scans read it in bounded chunks). */
  'events.jsonl': 1024 * MiB,
  /** `eval/metrics.json`. */
  'metrics.json': 64 * MiB,
  /** `eval/failures.jsonl` (query texts are cut when written). */
  'failures.jsonl': 512 * MiB,
  /** A run's `user.json` (display name, note, tags). */
  'user.json': 1 * MiB,
  /** A sweep's `sweep.json`. */
  'sweep.json': 64 * MiB,
  /** Small JSON files of caches and checkpoints (`model.json`, `resume.json`, `cache.json`, index sidecars, BM25 keys). */
  'cache key': 16 * MiB,
  /** Binary caches and checkpoint weights (`*.rlens-index`, `bm25.bin`, `weights.bin`, `corpus.f32`, Faiss indexes). */
  'binary cache': 2047 * MiB,
  /** The mined hard negatives' cache (`*.rlens-hardneg`: a header line and the mined items as JSON). */
  'hard negatives cache': 1024 * MiB,
  /** The held-out sample's cache (`*.rlens-heldout`: a header line, then the sampled queries and items as JSON). */
  'held-out cache': 1024 * MiB,
  /** A process id file. */
  pid: 64,
} as const;

export type FileKind = keyof typeof READ_LIMITS;

/**
 * A file that is not read: not a regular file (code ENOTREG) or larger than its kind's limit (code
 * EFBIG). The message names the file and why.
 */
export class UnsafeFileError extends Error {
  override name = 'UnsafeFileError';
  constructor(
    readonly file: string,
    readonly code: 'ENOTREG' | 'EFBIG',
    /** Why, without the file: "is a FIFO (named pipe), not a regular file". */
    readonly reason: string,
  ) {
    super(`${file} ${reason}: not read`);
  }
}

/** Open flags: read-only, never wait for a FIFO's writer, never become the controlling terminal. */
const OPEN_FLAGS = fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0) | (fs.constants.O_NOCTTY ?? 0);

/** What a non-regular file is, for messages. */
function typeName(s: fs.Stats): string {
  if (s.isDirectory()) return 'a folder';
  if (s.isFIFO()) return 'a FIFO (named pipe)';
  if (s.isCharacterDevice()) return 'a character device';
  if (s.isBlockDevice()) return 'a block device';
  if (s.isSocket()) return 'a socket';
  return 'not a regular file';
}

/** Throws UnsafeFileError when `s` (fstat of the opened file) is not a regular file. */
function requireRegular(file: string, s: fs.Stats): void {
  if (!s.isFile()) throw new UnsafeFileError(file, 'ENOTREG', `is ${typeName(s)}, not a regular file`);
}

/** The limit of `kind`, or an explicit byte count (a limit derived from another file, e.g. a cache's source). */
function limitOf(kind: FileKind, maxBytes?: number): number {
  return maxBytes ?? READ_LIMITS[kind];
}

function formatLimit(n: number): string {
  return n >= MiB ? `${+(n / MiB).toFixed(1)} MiB` : `${n} bytes`;
}

/** Throws UnsafeFileError (EFBIG) when `size` is over `max` (default: the limit of `kind`); for readers that scan a file in chunks. */
export function requireWithin(file: string, size: number, kind: FileKind, max: number = READ_LIMITS[kind]): void {
  if (size > max) throw new UnsafeFileError(file, 'EFBIG', `is ${size} bytes, more than the ${formatLimit(max)} a ${kind} file may hold`);
}

/**
 * A read-only descriptor of a regular file (or a symlink to one), with its size. File-system errors
 * (ENOENT, EACCES, …) are thrown as they are; a FIFO, device, socket or folder is an UnsafeFileError.
 */
export function openRegularSync(file: string): { fd: number; size: number } {
  const fd = fs.openSync(file, OPEN_FLAGS);
  try {
    const s = fs.fstatSync(fd);
    requireRegular(file, s);
    return { fd, size: s.size };
  } catch (err) {
    fs.closeSync(fd);
    throw err;
  }
}

/** openRegularSync, asynchronous: a FileHandle of a regular file. */
export async function openRegular(file: string): Promise<FileHandle> {
  const handle = await fs.promises.open(file, OPEN_FLAGS);
  try {
    requireRegular(file, await handle.stat());
    return handle;
  } catch (err) {
    await handle.close();
    throw err;
  }
}

/** Reads `size` bytes from the start of `fd` (fewer if the file shrank meanwhile). */
function readAllSync(fd: number, size: number): Buffer {
  const buf = Buffer.allocUnsafe(size);
  let got = 0;
  while (got < size) {
    const n = fs.readSync(fd, buf, got, size - got, got);
    if (n === 0) break;
    got += n;
  }
  return got === size ? buf : buf.subarray(0, got);
}

/**
 * The bytes of a regular file of `kind`, at most its limit (or `opts.maxBytes`): an UnsafeFileError for
 * a larger or non-regular file; file-system errors as they are. Reads no more than the size fstat gave.
 */
export function readBoundedSync(file: string, kind: FileKind, opts: { maxBytes?: number } = {}): Buffer {
  const { fd, size } = openRegularSync(file);
  try {
    requireWithin(file, size, kind, limitOf(kind, opts.maxBytes));
    return readAllSync(fd, size);
  } finally {
    fs.closeSync(fd);
  }
}

/** readBoundedSync decoded as UTF-8. */
export function readBoundedTextSync(file: string, kind: FileKind, opts: { maxBytes?: number } = {}): string {
  return readBoundedSync(file, kind, opts).toString('utf8');
}

/** readBoundedSync, asynchronous (the extension host and the evaluation read caches with it). */
export async function readBounded(file: string, kind: FileKind, opts: { maxBytes?: number } = {}): Promise<Buffer> {
  const handle = await openRegular(file);
  try {
    const { size } = await handle.stat();
    requireWithin(file, size, kind, limitOf(kind, opts.maxBytes));
    const buf = Buffer.allocUnsafe(size);
    let got = 0;
    while (got < size) {
      const { bytesRead } = await handle.read(buf, got, size - got, got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    return got === size ? buf : buf.subarray(0, got);
  } finally {
    await handle.close();
  }
}

/** readBounded decoded as UTF-8. */
export async function readBoundedText(file: string, kind: FileKind, opts: { maxBytes?: number } = {}): Promise<string> {
  return (await readBounded(file, kind, opts)).toString('utf8');
}

/** A parsed JSON file of `kind` (bounded read; JSON errors thrown as JSON.parse throws them). */
export function readJsonSync(file: string, kind: FileKind): unknown {
  return JSON.parse(readBoundedTextSync(file, kind));
}
