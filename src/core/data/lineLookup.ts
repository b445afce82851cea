/**
 * Single lines of data files, read on demand without holding a file in memory: the failure detail
 * shows an item's full text from the line its source names, and data files can be gigabytes.
 *
 * A plain file is read through its line index (lineIndex.ts, cached beside the file and shared with
 * training and the data lenses): the block of BLOCK_LINES lines holding the wanted line is read by its
 * byte offsets (one `pread`) and split into lines. A gzip file has no offsets: it is decompressed
 * sequentially up to the last wanted line, keeping only the wanted lines. The indexes and the
 * decoded blocks of the last files are kept in small LRU caches, keyed by the file's size and mtime, so
 * a changed file is indexed and read again.
 */
import { stat } from 'node:fs/promises';
import { BLOCK_LINES, lineIndexOf, readIndexedLines, type LineIndex } from './lineIndex';
import { isBlank, isGzipFile, readLines } from './lineReader';
import { openRegular } from '../io/safeRead';

/** A map that forgets its least recently used entry beyond `max` entries. */
class Lru<K, V> {
  private readonly map = new Map<K, V>();
  constructor(private readonly max: number) {}
  get(key: K): V | undefined {
    const v = this.map.get(key);
    if (v === undefined) return undefined;
    this.map.delete(key);
    this.map.set(key, v);
    return v;
  }
  set(key: K, v: V): void {
    this.map.delete(key);
    this.map.set(key, v);
    while (this.map.size > this.max) this.map.delete(this.map.keys().next().value as K);
  }
  get size(): number {
    return this.map.size;
  }
}

/** What a lookup did, for tests and logs: indexes obtained, blocks read (and their bytes), sequential gzip reads. */
export interface LineLookupStats {
  indexes: number;
  blockReads: number;
  blockBytes: number;
  gzipReads: number;
}

export class LineLookup {
  private readonly indexes: Lru<string, LineIndex>;
  private readonly blocks: Lru<string, string[]>;
  readonly stats: LineLookupStats = { indexes: 0, blockReads: 0, blockBytes: 0, gzipReads: 0 };

  /** `maxFiles` line indexes and `maxBlocks` decoded blocks (≈ 130 KB each for typical JSONL pairs) are kept. */
  constructor(opts: { maxFiles?: number; maxBlocks?: number } = {}) {
    this.indexes = new Lru(opts.maxFiles ?? 8);
    this.blocks = new Lru(opts.maxBlocks ?? 32);
  }

  /** Decoded blocks currently cached. */
  get cachedBlocks(): number {
    return this.blocks.size;
  }

  /**
   * The texts of the wanted 1-based lines of `file` (without the line break; a trailing `\r` and a
   * byte-order mark on line 1 removed); a line past the end is absent from the map. File-system and
   * gzip errors are thrown.
   */
  async lines(file: string, wanted: readonly number[]): Promise<Map<number, string>> {
    const out = new Map<number, string>();
    const lines = [...new Set(wanted)].filter((l) => Number.isInteger(l) && l >= 1).sort((a, b) => a - b);
    if (lines.length === 0) return out;
    if (isGzipFile(file)) return this.gzipLines(file, lines);
    const index = await this.indexOf(file);
    for (const line of lines) {
      if (line > index.lines) break;
      const block = await this.block(index, Math.floor((line - 1) / BLOCK_LINES));
      const text = block[(line - 1) % BLOCK_LINES];
      if (text !== undefined) out.set(line, text);
    }
    return out;
  }

  /** The text of one line, or null past the end of the file. */
  async line(file: string, line: number): Promise<string | null> {
    return (await this.lines(file, [line])).get(line) ?? null;
  }

  /** The first line holding anything but whitespace (a header or the first record), or null for a file without one. */
  async firstDataLine(file: string): Promise<{ text: string; line: number } | null> {
    if (isGzipFile(file)) {
      this.stats.gzipReads += 1;
      for await (const nl of readLines(file)) if (!isBlank(nl.text)) return { text: nl.text, line: nl.line };
      return null;
    }
    const index = await this.indexOf(file);
    if (index.nonBlank === 0) return null;
    for (let b = 0; b * BLOCK_LINES < index.lines; b++) {
      const block = await this.block(index, b);
      const k = block.findIndex((t) => !isBlank(t));
      if (k !== -1) return { text: block[k], line: b * BLOCK_LINES + k + 1 };
    }
    return null;
  }

  /** The file's line index, from the LRU while its size and mtime are unchanged, else from lineIndexOf (its cache file or a pass). */
  private async indexOf(file: string): Promise<LineIndex> {
    const s = await stat(file);
    const cached = this.indexes.get(file);
    if (cached && cached.size === s.size && cached.mtimeMs === s.mtimeMs) return cached;
    const index = await lineIndexOf(file);
    this.stats.indexes += 1;
    this.indexes.set(file, index);
    return index;
  }

  /** Lines of block `b` of an indexed plain file (cached by the file's size and mtime). */
  private async block(index: LineIndex, b: number): Promise<string[]> {
    const key = `${index.file}\0${index.size}\0${index.mtimeMs}\0${b}`;
    const cached = this.blocks.get(key);
    if (cached) return cached;
    const handle = await openRegular(index.file);
    let read: Awaited<ReturnType<typeof readIndexedLines>>;
    try {
      // A file that shrank since it was indexed gives the lines read so far.
      read = await readIndexedLines(handle, index, b * BLOCK_LINES, Math.min((b + 1) * BLOCK_LINES, index.lines));
    } finally {
      await handle.close();
    }
    this.stats.blockReads += 1;
    this.stats.blockBytes += read.bytes;
    const lines = read.lines.map((l) => l.text);
    this.blocks.set(key, lines);
    return lines;
  }

  /** The wanted lines of a gzip file (sorted), by one sequential read that stops after the last of them. */
  private async gzipLines(file: string, lines: number[]): Promise<Map<number, string>> {
    const out = new Map<number, string>();
    const want = new Set(lines);
    const last = lines[lines.length - 1];
    this.stats.gzipReads += 1;
    for await (const nl of readLines(file)) {
      if (want.has(nl.line)) out.set(nl.line, nl.text);
      if (nl.line >= last) break;
    }
    return out;
  }
}
