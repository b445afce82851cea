/**
 * The line index of a data file, built by one pass over it and cached: where every `BLOCK_LINES`-th
 * line starts (byte offsets), how many lines and non-blank lines it holds. Training draws blocks of
 * lines in a shuffled order by these offsets, so no file is ever held in memory; the data lenses
 * count large files with it. A gzip file cannot be read from a byte offset: its index holds the
 * counts only, and the file is read sequentially (see README, "Streaming training data").
 *
 * The cache is `<file>.rlens-index` beside the data (or, when that folder is not writable, under
 * the OS temp folder), a small binary file: a header of float64 values (format, file size,
 * mtime, line and non-blank counts, block size) and the block offsets. It is valid while the
 * data file's size and mtime are those recorded; otherwise it is rebuilt.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { mkdir, open, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { createGunzip } from 'node:zlib';
import { decodeLine, isGzipFile, type NumberedLine } from './lineReader';

/** Lines per indexed block: the unit of shuffled reading (≈ 130 KB of typical JSONL pairs). */
export const BLOCK_LINES = 256;

/** Suffix of the index cache beside a data file. */
export const INDEX_SUFFIX = '.rlens-index';

/** Suffix of the mined hard negatives' cache beside the first training file (training/hardNegatives.ts). */
export const HARDNEG_SUFFIX = '.rlens-hardneg';

/** Format number of the cache file; a different one is rebuilt. */
const INDEX_FORMAT = 1;
const HEADER = 6;

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
  /** Where the index came from: read from the cache, or built by a pass over the file (ms). */
  built: { fromCache: boolean; ms: number; cacheFile: string | null };
}

/**
 * Where a cache of `file` with this suffix lives: beside it, and the fallback in the temp folder (when the
 * data's folder is not writable). The line index (`.rlens-index`) and the mined hard negatives
 * (`.rlens-hardneg`, training/hardNegatives.ts) use it.
 */
export function cacheFilesBeside(file: string, suffix: string): string[] {
  const hash = createHash('sha256').update(file).digest('hex').slice(0, 16);
  return [file + suffix, join(tmpdir(), 'retrieval-lens-index', `${basename(file)}.${hash}${suffix}`)];
}

/** The cache file of `file` beside it, and the fallback in the temp folder. */
export function indexCacheFiles(file: string): string[] {
  return cacheFilesBeside(file, INDEX_SUFFIX);
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

/** Reads a cache file when it describes `file` at this size and mtime; null otherwise. */
async function readCache(cacheFile: string, file: string, size: number, mtimeMs: number): Promise<LineIndex | null> {
  let buf: Buffer;
  try {
    buf = await readFile(cacheFile);
  } catch {
    return null;
  }
  if (buf.length < HEADER * 8 || buf.length % 8 !== 0) return null;
  const values = new Float64Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length));
  const [format, cachedSize, cachedMtime, lines, nonBlank, blockLines] = values;
  if (format !== INDEX_FORMAT || cachedSize !== size || cachedMtime !== mtimeMs || blockLines !== BLOCK_LINES) return null;
  const gzip = isGzipFile(file);
  const offsets = values.slice(HEADER);
  if (!gzip && offsets.length !== Math.ceil(lines / BLOCK_LINES) + 1) return null;
  return { file, size, mtimeMs, lines, nonBlank, gzip, offsets, built: { fromCache: true, ms: 0, cacheFile } };
}

/** Writes the cache atomically (temp file + rename) to the first writable place; null when none is. */
async function writeCache(index: LineIndex): Promise<string | null> {
  const header = [INDEX_FORMAT, index.size, index.mtimeMs, index.lines, index.nonBlank, BLOCK_LINES];
  const values = new Float64Array(HEADER + index.offsets.length);
  values.set(header);
  values.set(index.offsets, HEADER);
  for (const cacheFile of indexCacheFiles(index.file)) {
    const tmp = `${cacheFile}.${process.pid}.${Date.now()}.tmp`;
    try {
      await mkdir(join(cacheFile, '..'), { recursive: true });
      await writeFile(tmp, Buffer.from(values.buffer));
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
    const stream = createReadStream(file).pipe(createGunzip());
    for await (const chunk of stream) scanner.scan(chunk as Buffer);
  } else {
    const handle = await open(file, 'r');
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
export async function lineIndexOf(file: string): Promise<LineIndex> {
  const s = await stat(file);
  const gzip = isGzipFile(file);
  for (const cacheFile of indexCacheFiles(file)) {
    const cached = await readCache(cacheFile, file, s.size, s.mtimeMs);
    if (cached) return cached;
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
    built: { fromCache: false, ms: performance.now() - t0, cacheFile: null },
  };
  // A file that changed while it was scanned is indexed but not cached.
  if (after.size === s.size && after.mtimeMs === s.mtimeMs) index.built.cacheFile = await writeCache(index);
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
