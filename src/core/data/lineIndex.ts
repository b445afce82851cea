/**
 * The line index of a data file, built by one pass over it and cached: where every `BLOCK_LINES`-th
 * line starts (byte offsets), how many lines and non-blank lines it holds. Training draws blocks of
 * lines in a shuffled order by these offsets, so no file is ever held in memory; the data lenses
 * count large files with it. A gzip file cannot be read from a byte offset: its index holds the
 * counts only, and the file is read sequentially (see README, "Streaming training data").
 *
 * The cache is `<file>.rlens-index` beside the data (or, when that folder is not writable, in the
 * per-user folder `retrieval-lens-index-<uid>` of the OS temp folder, mode 0700, used only when it is
 * this user's and nobody else's), a small binary file: a header of float64 values (format, file size,
 * mtime, inode, line and non-blank counts, block size, CRC-32 of the rest) and the block offsets. A
 * cache is a file of the repository, so it is verified before use, never trusted: the data file's
 * size, mtime and inode must be those recorded, the checksum must match, the offsets must rise from 0
 * to the file size, and a sample of them must each follow a "\n" in the file. Otherwise it is
 * rebuilt, and the reason is in `built.rejected` (training logs it).
 */
import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { lstat, mkdir, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { lstatSync, mkdirSync, type Stats } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { crc32, createGunzip } from 'node:zlib';
import { decodeLine, isGzipFile, type NumberedLine } from './lineReader';
import { openRegular, readBounded } from '../io/safeRead';
import rules from '../../../schemas/data-formats.json';
import { writeFileAtomicSync } from '../runs/atomicWrite';

/** Lines per indexed block: the unit of shuffled reading (≈ 130 KB of typical JSONL pairs). */
export const BLOCK_LINES: number = rules.lineIndex.blockLines;

/** Suffix of the index cache beside a data file. */
export const INDEX_SUFFIX: string = rules.lineIndex.suffix;

/** Suffix of the mined hard negatives' cache beside the first training file (training/hardNegatives.ts). */
export const HARDNEG_SUFFIX = '.rlens-hardneg';

/** Suffix of the held-out sample's cache beside the corpus (quality/heldOutSample.ts). */
export const HELDOUT_SUFFIX = '.rlens-heldout';

/** Format number of the cache file; a different one is rebuilt. */
const INDEX_FORMAT: number = rules.lineIndex.format;
/** Header values: format, size, mtimeMs, inode, lines, nonBlank, BLOCK_LINES, CRC-32 of the other values. */
const HEADER: number = rules.lineIndex.headerValues;
/** Offsets checked against the file (each must follow a "\n") when a cache is read: evenly spaced, plus the last. */
const SPOT_CHECKS: number = rules.lineIndex.spotChecks;

export interface LineIndex {
  file: string;
  size: number;
  mtimeMs: number;
  /** Lines as an editor counts them (a last line without `\n` counts, the empty rest after a final `\n` does not). */
  lines: number;
  /** Lines holding anything but whitespace (the data lines). */
  nonBlank: number;
  gzip: boolean;
  /**
   * Plain files: byte offset where line `b·BLOCK_LINES + 1` starts, for every block b, followed by
   * the file size (so block b is the bytes [offsets[b], offsets[b+1])). Empty for gzip files.
   */
  offsets: Float64Array;
  /**
   * Where the index came from: read from the cache, or built by a pass over the file (ms); `rejected`:
   * caches found but not used, each with why (a checksum or offset that does not match the file).
   */
  built: { fromCache: boolean; ms: number; cacheFile: string | null; rejected: string[] };
}

/** The per-user folder for index caches in the OS temp folder (its name holds the uid: no two users share one). */
export function tempIndexDir(tmp: string = tmpdir()): string {
  const user = typeof process.getuid === 'function' ? String(process.getuid()) : userInfo().username.replace(/[^\w.-]/g, '_');
  return join(tmp, `retrieval-lens-index-${user}`);
}

/**
 * Where a cache of `file` with this suffix lives: beside it, and the fallback in the per-user temp folder (when
 * the data's folder is not writable). The line index (`.rlens-index`) and the mined hard negatives
 * (`.rlens-hardneg`, training/hardNegatives.ts) use it.
 */
export function cacheFilesBeside(file: string, suffix: string): string[] {
  const hash = createHash('sha256').update(file).digest('hex').slice(0, 16);
  return [file + suffix, join(tempIndexDir(), `${basename(file)}.${hash}${suffix}`)];
}

/** The cache file of `file` beside it, and the fallback in the per-user temp folder. */
export function indexCacheFiles(file: string): string[] {
  return cacheFilesBeside(file, INDEX_SUFFIX);
}

/**
 * Whether a folder's stats (lstat: a symlink is not a folder) are of a folder only this user can use: a real
 * folder, owned by this user, with no permission for group or others. Another user could otherwise plant or
 * read caches there. The one check of the temp cache folder, for the async readers and the sync writer alike.
 */
function isPrivateDirStats(s: Stats): boolean {
  if (!s.isDirectory()) return false;
  if (typeof process.getuid !== 'function') return true; // Windows: the temp folder is per-user already
  return s.uid === process.getuid() && (s.mode & 0o077) === 0;
}

/** Whether `dir` is a folder only this user can use (isPrivateDirStats); false when it is missing. */
async function isPrivateDir(dir: string): Promise<boolean> {
  return lstat(dir).then(isPrivateDirStats, () => false);
}

/**
 * Whether a cache may live in `dir`: any folder but the per-user temp folder, which must be private (created
 * 0700 here when missing). Synchronous, for writers that are (the mined negatives' cache).
 */
export function cacheDirUsableSync(dir: string): boolean {
  if (dir !== tempIndexDir()) return true;
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch {
    // exists already (checked below) or cannot be made (then lstat fails)
  }
  try {
    return isPrivateDirStats(lstatSync(dir));
  } catch {
    return false;
  }
}

/**
 * Writes a cache atomically to the first usable place of `places` (cacheFilesBeside: beside the data, then the
 * private temp folder); the place written, or null when none is writable. For the synchronous JSON caches (the
 * mined negatives, the held-out sample).
 */
export function writeCacheSync(places: readonly string[], text: string): string | null {
  for (const place of places) {
    if (!cacheDirUsableSync(dirname(place))) continue; // a shared temp folder another user could read or plant in
    try {
      mkdirSync(dirname(place), { recursive: true });
      writeFileAtomicSync(place, text);
      return place;
    } catch {
      // not writable: try the next place
    }
  }
  return null;
}

/** The temp cache folder, created 0700 when missing; null when it exists but is not private (then it is not used). */
async function privateTempIndexDir(): Promise<string | null> {
  const dir = tempIndexDir();
  await mkdir(dir, { mode: 0o700 }).catch(() => undefined);
  return (await isPrivateDir(dir)) ? dir : null;
}

/** CRC-32 of the cache's values except the checksum itself (the last header value). */
function checksumOf(values: Float64Array): number {
  const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  const withoutSum = crc32(bytes.subarray(0, (HEADER - 1) * 8));
  return crc32(bytes.subarray(HEADER * 8), withoutSum);
}

/** Growable float64 list (the offsets of a file of unknown length). */
class Float64List {
  private data = new Float64Array(1024);
  length = 0;
  push(x: number): void {
    if (this.length === this.data.length) {
      const bigger = new Float64Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.length++] = x;
  }
  toArray(): Float64Array {
    return this.data.slice(0, this.length);
  }
}

/** Counts lines and non-blank lines of a byte stream and records every BLOCK_LINES-th line start. */
class LineScanner {
  lines = 0;
  nonBlank = 0;
  readonly offsets = new Float64List();
  private pos = 0;
  private lineStart = 0;
  private hasContent = false;
  private lineOpen = false;

  constructor(private readonly recordOffsets: boolean) {}

  scan(buf: Buffer): void {
    const n = buf.length;
    let p = 0;
    while (p < n) {
      if (!this.lineOpen) {
        this.lineOpen = true;
        this.lineStart = this.pos + p;
        this.hasContent = false;
      }
      const nl = buf.indexOf(10, p);
      const end = nl === -1 ? n : nl;
      if (!this.hasContent) {
        for (let k = p; k < end; k++) {
          const b = buf[k];
          // Whitespace: space, tab, CR, and the UTF-8 byte-order mark's bytes.
          if (b !== 0x20 && b !== 0x09 && b !== 0x0d && b !== 0xef && b !== 0xbb && b !== 0xbf) {
            this.hasContent = true;
            break;
          }
        }
      }
      if (nl === -1) break;
      this.endLine();
      p = nl + 1;
    }
    this.pos += n;
  }

  private endLine(): void {
    if (this.recordOffsets && this.lines % BLOCK_LINES === 0) this.offsets.push(this.lineStart);
    this.lines += 1;
    if (this.hasContent) this.nonBlank += 1;
    this.lineOpen = false;
  }

  finish(): void {
    if (this.lineOpen) this.endLine();
    if (this.recordOffsets) this.offsets.push(this.pos);
  }
}

/** The identity of a data file a cache must match: size, mtime and inode. */
interface SourceIdentity {
  size: number;
  mtimeMs: number;
  ino: number;
}

/** Largest cache of a file of `size` bytes: the header and one offset per block of (at most) `size + 1` lines, plus the end. */
function maxCacheBytes(size: number): number {
  return 8 * (HEADER + Math.ceil((size + 1) / BLOCK_LINES) + 1);
}

/**
 * Reads a cache file when it describes `file` (identity `id`) and passes the checks of the header's
 * comment; null when there is none or it is stale, a reason string when it is wrong (corrupt or forged).
 */
async function readCache(cacheFile: string, file: string, id: SourceIdentity): Promise<LineIndex | string | null> {
  let buf: Buffer;
  try {
    buf = await readBounded(cacheFile, 'binary cache', { maxBytes: maxCacheBytes(id.size) });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT' || code === 'ENOTDIR' ? null : (err as Error).message;
  }
  if (buf.length < HEADER * 8 || buf.length % 8 !== 0) return `${cacheFile}: ${buf.length} bytes is not an index cache`;
  const values = new Float64Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length));
  const [format, cachedSize, cachedMtime, cachedIno, lines, nonBlank, blockLines, sum] = values;
  // Another format or another version of the file: stale, rebuilt without a word.
  if (format !== INDEX_FORMAT || cachedSize !== id.size || cachedMtime !== id.mtimeMs || cachedIno !== id.ino || blockLines !== BLOCK_LINES) return null;
  if (sum !== checksumOf(values)) return `${cacheFile}: checksum does not match its content`;
  const gzip = isGzipFile(file);
  const offsets = values.slice(HEADER);
  if (!Number.isSafeInteger(lines) || !Number.isSafeInteger(nonBlank) || nonBlank > lines) return `${cacheFile}: bad line counts`;
  if (!gzip) {
    const problem = offsetsProblem(offsets, lines, id.size) ?? (await offsetsOffLineStarts(file, offsets));
    if (problem) return `${cacheFile}: ${problem}`;
  } else if (offsets.length !== 0) return `${cacheFile}: offsets in the index of a gzip file`;
  return { file, size: id.size, mtimeMs: id.mtimeMs, lines, nonBlank, gzip, offsets, built: { fromCache: true, ms: 0, cacheFile, rejected: [] } };
}

/** Offsets that cannot be a plain file's: wrong count, not rising from 0 to the file size. */
function offsetsProblem(offsets: Float64Array, lines: number, size: number): string | null {
  if (offsets.length !== Math.ceil(lines / BLOCK_LINES) + 1) return `${offsets.length} offsets for ${lines} lines`;
  if (offsets[0] !== 0 || offsets[offsets.length - 1] !== size) return 'offsets do not span the file';
  for (let b = 1; b < offsets.length; b++) {
    if (!Number.isSafeInteger(offsets[b]) || offsets[b] <= offsets[b - 1]) return `offset of block ${b} does not follow block ${b - 1}`;
  }
  return null;
}

/** A sample of block offsets (SPOT_CHECKS of them, evenly spaced, and the last block's) not preceded by "\n" in the file; null when all are. */
async function offsetsOffLineStarts(file: string, offsets: Float64Array): Promise<string | null> {
  const blocks = offsets.length - 1; // offsets[blocks] is the file size
  if (blocks <= 1) return null;
  const picks = new Set<number>([blocks - 1]);
  for (let k = 1; k <= SPOT_CHECKS; k++) picks.add(Math.max(1, Math.round((k * (blocks - 1)) / SPOT_CHECKS)));
  const handle = await openRegular(file);
  try {
    const one = Buffer.alloc(1);
    for (const b of [...picks].sort((x, y) => x - y)) {
      const { bytesRead } = await handle.read(one, 0, 1, offsets[b] - 1);
      if (bytesRead !== 1 || one[0] !== 10) return `offset of block ${b} (byte ${offsets[b]}) is not at a line start`;
    }
    return null;
  } finally {
    await handle.close();
  }
}

/** Writes the cache atomically (temp file + rename) to the first writable place; null when none is. */
async function writeCache(index: LineIndex, ino: number): Promise<string | null> {
  const header = [INDEX_FORMAT, index.size, index.mtimeMs, ino, index.lines, index.nonBlank, BLOCK_LINES, 0];
  const values = new Float64Array(HEADER + index.offsets.length);
  values.set(header);
  values.set(index.offsets, HEADER);
  values[HEADER - 1] = checksumOf(values);
  const [beside, inTemp] = indexCacheFiles(index.file);
  for (const cacheFile of [beside, inTemp]) {
    const tmp = `${cacheFile}.${process.pid}.${Date.now()}.tmp`;
    try {
      if (cacheFile === inTemp && !(await privateTempIndexDir())) continue;
      await writeFile(tmp, Buffer.from(values.buffer), { flag: 'wx', mode: cacheFile === inTemp ? 0o600 : 0o644 });
      await rename(tmp, cacheFile);
      return cacheFile;
    } catch {
      await unlink(tmp).catch(() => undefined);
    }
  }
  return null;
}

/** One pass over a plain file (fs reads of 4 MB) or a gzip file (node:zlib stream). */
async function scanFile(file: string, gzip: boolean): Promise<LineScanner> {
  const scanner = new LineScanner(!gzip);
  if (gzip) {
    const stream = (await openRegular(file)).createReadStream().pipe(createGunzip());
    for await (const chunk of stream) scanner.scan(chunk as Buffer);
  } else {
    const handle = await openRegular(file);
    try {
      const buf = Buffer.allocUnsafe(4 << 20);
      for (;;) {
        const { bytesRead } = await handle.read(buf, 0, buf.length, null);
        if (bytesRead === 0) break;
        scanner.scan(buf.subarray(0, bytesRead));
      }
    } finally {
      await handle.close();
    }
  }
  scanner.finish();
  return scanner;
}

/**
 * The line index of an absolute file path: from its cache when the file's size and mtime match,
 * else built by one pass over the file and cached. File-system and gzip errors are thrown as they
 * are (the caller names the file).
 */
export async function lineIndexOf(file: string, opts: { writeCache?: boolean } = {}): Promise<LineIndex> {
  const s = await stat(file);
  const gzip = isGzipFile(file);
  const id: SourceIdentity = { size: s.size, mtimeMs: s.mtimeMs, ino: s.ino };
  const rejected: string[] = [];
  const [beside, inTemp] = indexCacheFiles(file);
  for (const cacheFile of [beside, inTemp]) {
    // A temp folder that is not this user's alone (another user made it, or opened it) is never read.
    if (cacheFile === inTemp && !(await isPrivateDir(tempIndexDir()))) continue;
    const cached = await readCache(cacheFile, file, id);
    if (typeof cached === 'string') rejected.push(cached);
    else if (cached) return cached;
  }
  const t0 = performance.now();
  const scanner = await scanFile(file, gzip);
  const after = await stat(file);
  const index: LineIndex = {
    file,
    size: s.size,
    mtimeMs: s.mtimeMs,
    lines: scanner.lines,
    nonBlank: scanner.nonBlank,
    gzip,
    offsets: gzip ? new Float64Array(0) : scanner.offsets.toArray(),
    built: { fromCache: false, ms: performance.now() - t0, cacheFile: null, rejected },
  };
  // A file that changed while it was scanned is indexed but not cached; `writeCache: false` (the data lens on a file
  // outside the workspace) leaves no file anywhere.
  if (opts.writeCache !== false && after.size === s.size && after.mtimeMs === s.mtimeMs && after.ino === s.ino) {
    index.built.cacheFile = await writeCache(index, s.ino);
  }
  return index;
}

/**
 * Lines [from, to) (0-based) of an indexed plain file, read through `handle` with one pread of the bytes of
 * the blocks holding them (the index's offsets), each decoded with its 1-based line number. `short`: the
 * file ended before the indexed bytes (it shrank since it was indexed); the lines read so far are returned.
 */
export async function readIndexedLines(
  handle: FileHandle,
  index: LineIndex,
  from: number,
  to: number,
): Promise<{ lines: NumberedLine[]; bytes: number; short: boolean }> {
  const firstBlock = Math.floor(from / BLOCK_LINES);
  const lastBlock = Math.ceil(to / BLOCK_LINES);
  const byteStart = index.offsets[firstBlock];
  const buf = Buffer.allocUnsafe(index.offsets[lastBlock] - byteStart);
  let got = 0;
  while (got < buf.length) {
    const { bytesRead } = await handle.read(buf, got, buf.length - got, byteStart + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  const bytes = buf.subarray(0, got);
  const lines: NumberedLine[] = [];
  let line = firstBlock * BLOCK_LINES;
  for (let p = 0; p < bytes.length && line < to;) {
    const nl = bytes.indexOf(10, p);
    const stop = nl === -1 ? bytes.length : nl;
    if (line >= from) lines.push(decodeLine(bytes.subarray(p, stop), line + 1));
    line += 1;
    p = stop + 1;
  }
  return { lines, bytes: got, short: got < buf.length };
}
