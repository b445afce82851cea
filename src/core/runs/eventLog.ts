/**
 * events.jsonl: an append-only writer and tolerant readers (whole file, incremental tail from a
 * byte offset, and a backward scan for the latest events).
 */
import * as fs from 'fs';
import { parseEventLine, serializeEvent, type ParsedLine } from './eventLine';
import { openRegularSync } from '../io/safeRead';
import { firstInvalidUtf8, invalidUtf8Reason } from '../utf8';
import type { RunEvent, RunEventInput } from './eventSchema';
import { RunFileError, namingFile } from './writeError';

const NEWLINE = 0x0a;

/**
 * Appends events to an events.jsonl file, one complete line per write on a descriptor opened in
 * append mode, so a crash can at worst leave a torn last line and never damages earlier lines.
 * Every appended event starts on a fresh line: when the file already ends in a torn line (no final
 * "\n", e.g. a crashed writer) or a previous append of this writer was cut short (disk full), a "\n"
 * is written first, so the torn line stays a separate (malformed, reported) line and the new event
 * is readable. Write errors name the file. Only one writer per file is supported.
 */
export class EventWriter {
  private fd: number | null;
  /** The file does not end in "\n": the next append starts with one. */
  private needsNewline = false;

  /** Open (or create) `file` for appending. */
  constructor(readonly file: string) {
    this.fd = namingFile(file, 'open', () => fs.openSync(file, 'a+'));
    try {
      const size = fs.fstatSync(this.fd).size;
      if (size > 0) this.needsNewline = readAt(this.fd, size - 1, 1)[0] !== NEWLINE;
    } catch (err) {
      fs.closeSync(this.fd);
      this.fd = null;
      throw new RunFileError(file, 'read', err);
    }
  }

  /** Append one event (adds `"v"` and `"time"`; non-finite numbers are written as null). */
  append(e: RunEventInput, now: Date = new Date()): void {
    if (this.fd === null) throw new Error(`EventWriter: ${this.file} is closed`);
    const fd = this.fd;
    const buf = Buffer.from((this.needsNewline ? '\n' : '') + serializeEvent(e, now), 'utf8');
    // A regular-file write is normally complete in one call; loop only to be safe against short writes.
    let off = 0;
    try {
      while (off < buf.length) off += fs.writeSync(fd, buf, off, buf.length - off);
    } catch (err) {
      // Part of the line may be on disk (ENOSPC after a short write): start the next one afresh.
      if (off > 0) this.needsNewline = true;
      throw new RunFileError(this.file, 'append to', err);
    }
    this.needsNewline = false;
  }

  /** Close the file; further appends throw. Safe to call twice. */
  close(): void {
    if (this.fd !== null) {
      fs.closeSync(this.fd);
      this.fd = null;
    }
  }
}

/** A line that could not be used, with its 1-based line number. */
export interface BadEventLine {
  line: number;
  reason: string;
}

export interface ReadEventsResult {
  events: RunEvent[];
  /** True when the last line has no "\n" and does not parse (a write in progress or cut by a crash); it is skipped. */
  tornTail: boolean;
  /** Malformed complete lines and steps out of order (skipped). */
  badLines: BadEventLine[];
  /** Well-formed events of types this reader does not know (skipped, for forward compatibility). */
  unknownTypes: number;
}

/** Decode the bytes of one line (without "\n"). */
function lineText(buf: Buffer, start: number, end: number): string {
  return buf.toString('utf8', start, end);
}

/** Parse the bytes of one line: a line that is not valid UTF-8 is bad (never decoded with U+FFFD). */
function parseBytes(buf: Buffer, start: number, end: number, text: string): ParsedLine {
  const bytes = buf.subarray(start, end);
  const bad = firstInvalidUtf8(bytes);
  return bad === -1 ? parseEventLine(text) : { kind: 'bad', reason: invalidUtf8Reason(bytes, bad) };
}

/**
 * Lines longer than this are skipped by the readers without being held in memory (reported as bad
 * lines). Writers bound every event far below it (MAX_EVENT_TEXT_CHARS), so only a damaged or hostile
 * file has such lines.
 */
export const MAX_EVENT_LINE_BYTES = 16 * 1024 * 1024;

/**
 * The order of step events: each step must be above every earlier one (a writer only moves forward)
 * and, when the run's total is known, at most that total. A step that breaks this (30 → 3, or 10^15 of
 * a 30-step run) is reported with its line and skipped by every reader. A step equal to the last one
 * (written again) is skipped silently.
 */
export class StepOrder {
  private last = -Infinity;
  constructor(private readonly totalSteps: number | null = null) {}

  /** null when `step` is next in order (it becomes the last), 'repeat' when equal to the last, else why it is skipped. */
  check(step: number): string | null {
    if (this.totalSteps !== null && step > this.totalSteps) return `step ${step} is beyond the run's ${this.totalSteps} steps: skipped`;
    if (step === this.last) return 'repeat';
    if (step < this.last) return `step ${step} after step ${this.last}: out of order, skipped`;
    this.last = step;
    return null;
  }
}

export interface ForEachEventOptions {
  /** Read in chunks of this many bytes (default 1 MiB). */
  chunkBytes?: number;
  /** The run's total steps (meta.totalSteps), for StepOrder; null or absent: unknown. */
  totalSteps?: number | null;
}

export interface ForEachEventResult {
  /** Size of the file when read. */
  size: number;
  /** True when the last line has no "\n" and does not parse (a write in progress or cut by a crash); it is skipped. */
  tornTail: boolean;
  /** Well-formed events of types this reader does not know (skipped, for forward compatibility). */
  unknownTypes: number;
}

/**
 * Stream the events of an events.jsonl file from first to last without holding the file: `visit` gets
 * each usable event with its 1-based line, `onBad` each malformed complete line (invalid JSON or UTF-8,
 * a schema mismatch, a line longer than MAX_EVENT_LINE_BYTES, a step out of order: see StepOrder).
 * Blank lines are ignored; an unparseable unterminated last line sets `tornTail`. A missing file is empty.
 * The one forward reader of events.jsonl: readEvents, scanBadEventLines and the comparison use it.
 */
export function forEachEvent(
  file: string,
  visit: (e: RunEvent, line: number) => void,
  onBad: (b: BadEventLine) => void = () => undefined,
  opts: ForEachEventOptions = {},
): ForEachEventResult {
  const chunkBytes = Math.max(1, opts.chunkBytes ?? 1024 * 1024);
  const result: ForEachEventResult = { size: 0, tornTail: false, unknownTypes: 0 };
  const fd = openIfExists(file);
  if (fd === null) return result;
  const order = new StepOrder(opts.totalSteps ?? null);
  try {
    const size = (result.size = fs.fstatSync(fd).size);
    let lineNo = 0;
    let pending = Buffer.alloc(0);
    /** Bytes of an over-long line being skipped (0: not skipping). */
    let skipping = 0;
    const handle = (line: Buffer, terminated: boolean) => {
      lineNo++;
      const text = lineText(line, 0, line.length);
      if (text.trim() === '') return;
      const parsed = parseBytes(line, 0, line.length, text);
      if (parsed.kind === 'unknown-type') result.unknownTypes++;
      else if (parsed.kind === 'bad') {
        if (terminated) onBad({ line: lineNo, reason: parsed.reason });
        else result.tornTail = true;
      } else {
        const e = parsed.event;
        const problem = e.type === 'step' ? order.check(e.step) : null;
        if (problem === null) visit(e, lineNo);
        else if (problem !== 'repeat') onBad({ line: lineNo, reason: problem });
      }
    };
    let pos = 0;
    while (pos < size) {
      const chunk = readAt(fd, pos, Math.min(chunkBytes, size - pos));
      if (chunk.length === 0) break;
      pos += chunk.length;
      let start = 0;
      if (skipping > 0) {
        const nl = chunk.indexOf(NEWLINE);
        if (nl === -1) {
          skipping += chunk.length;
          continue;
        }
        lineNo++;
        onBad({ line: lineNo, reason: `a line of ${skipping + nl} bytes (more than ${MAX_EVENT_LINE_BYTES}): skipped` });
        skipping = 0;
        start = nl + 1;
      }
      const rest = chunk.subarray(start);
      const buf = pending.length ? Buffer.concat([pending, rest]) : rest;
      let from = 0;
      for (let i = buf.indexOf(NEWLINE); i !== -1; i = buf.indexOf(NEWLINE, from)) {
        handle(buf.subarray(from, i), true);
        from = i + 1;
      }
      pending = Buffer.from(buf.subarray(from));
      if (pending.length > MAX_EVENT_LINE_BYTES) {
        skipping = pending.length;
        pending = Buffer.alloc(0);
      }
    }
    if (skipping > 0) result.tornTail = true;
    else if (pending.length > 0) handle(pending, false);
    return result;
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Read every event of an events.jsonl file (forEachEvent, collected). Never throws on content:
 * malformed complete lines and steps out of order are reported in `badLines` with their line number
 * and skipped. A missing file reads as empty.
 */
export function readEvents(file: string, opts: ForEachEventOptions = {}): ReadEventsResult {
  const events: RunEvent[] = [];
  const badLines: BadEventLine[] = [];
  const r = forEachEvent(
    file,
    (e) => events.push(e),
    (b) => badLines.push(b),
    opts,
  );
  return { events, badLines, tornTail: r.tornTail, unknownTypes: r.unknownTypes };
}

export interface BadLinesScan {
  /** The first `maxReported` malformed complete lines, with their 1-based numbers. */
  badLines: BadEventLine[];
  /** All malformed complete lines. */
  badCount: number;
  /** The last line is unterminated and does not parse. */
  tornTail: boolean;
}

/** A read-only descriptor of `file`, or null when it does not exist. */
function openIfExists(file: string): number | null {
  try {
    return openRegularSync(file).fd;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/**
 * Find the malformed lines of an events.jsonl file (docs/run-format.md §4.8: reported with their line
 * numbers, steps out of order included) without holding the file in memory. A missing file has none.
 */
export function scanBadEventLines(file: string, opts: ForEachEventOptions & { maxReported?: number } = {}): BadLinesScan {
  const maxReported = opts.maxReported ?? 10;
  const result: BadLinesScan = { badLines: [], badCount: 0, tornTail: false };
  result.tornTail = forEachEvent(
    file,
    () => undefined,
    (b) => {
      result.badCount++;
      if (result.badLines.length < maxReported) result.badLines.push(b);
    },
    opts,
  ).tornTail;
  return result;
}

export interface TailEventsOptions {
  /** Read at most about this many bytes per call (more if a single line is longer). Default 8 MiB. */
  maxBytes?: number;
}

export interface TailEventsResult {
  /** Events of the complete lines read. */
  events: RunEvent[];
  /** Offset to pass to the next call: just after the last complete line read. */
  nextOffset: number;
  /** Malformed complete lines, by byte offset of the line start (line numbers are unknown when tailing). */
  badLines: { offset: number; reason: string }[];
  /** True when the file was shorter than `fromOffset` (replaced or truncated) and was read from 0 instead. */
  reset: boolean;
  /** True when `maxBytes` stopped the read before the end of the file: call again with `nextOffset`. */
  hasMore: boolean;
}

/** Read `length` bytes at `position` of `fd` into a new buffer (fewer if the file ends first). */
function readAt(fd: number, position: number, length: number): Buffer {
  const buf = Buffer.alloc(length);
  let got = 0;
  while (got < length) {
    const n = fs.readSync(fd, buf, got, length - got, position + got);
    if (n === 0) break;
    got += n;
  }
  return got === length ? buf : buf.subarray(0, got);
}

/**
 * Incrementally read a growing events.jsonl from byte `fromOffset` (0 or a previous `nextOffset`).
 * Returns only complete ("\n"-terminated) lines, so a line still being written is left for the next
 * call. Malformed complete lines are reported and skipped; unknown event types are skipped.
 * A missing file yields no events and nextOffset 0.
 */
export function tailEvents(file: string, fromOffset: number, opts: TailEventsOptions = {}): TailEventsResult {
  const maxBytes = Math.max(1, opts.maxBytes ?? 8 * 1024 * 1024);
  const result: TailEventsResult = { events: [], nextOffset: fromOffset, badLines: [], reset: false, hasMore: false };
  let fd: number;
  try {
    fd = openRegularSync(file).fd;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    return { ...result, nextOffset: 0, reset: fromOffset > 0 };
  }
  try {
    const size = fs.fstatSync(fd).size;
    let start = fromOffset;
    if (size < fromOffset) {
      start = 0;
      result.reset = true;
    }
    result.nextOffset = start;
    // Grow the window until it holds at least one complete line or reaches the end of the file.
    let want = maxBytes;
    let buf = readAt(fd, start, Math.min(want, size - start));
    let lastNl = buf.lastIndexOf(NEWLINE);
    while (lastNl === -1 && start + buf.length < size) {
      want *= 2;
      buf = readAt(fd, start, Math.min(want, size - start));
      lastNl = buf.lastIndexOf(NEWLINE);
    }
    if (lastNl === -1) return result;
    result.hasMore = start + buf.length < size;
    let pos = 0;
    while (pos <= lastNl) {
      const nl = buf.indexOf(NEWLINE, pos);
      const text = lineText(buf, pos, nl);
      if (text.trim() !== '') {
        const parsed = parseBytes(buf, pos, nl, text);
        if (parsed.kind === 'event') result.events.push(parsed.event);
        else if (parsed.kind === 'bad') result.badLines.push({ offset: start + pos, reason: parsed.reason });
      }
      pos = nl + 1;
    }
    result.nextOffset = start + lastNl + 1;
    return result;
  } finally {
    fs.closeSync(fd);
  }
}

export interface ScanBackwardResult {
  /** Size of the file in bytes when the scan started. */
  size: number;
  /** True when the last line is unterminated and does not parse. */
  tornTail: boolean;
  /** True when the scan stopped at `maxBytes` (or `maxSkipBytes`) before reaching the start of the file or being stopped. */
  truncated: boolean;
  /** Lines longer than `maxLineBytes` passed over without being read (a huge log message). */
  skippedLongLines: number;
}

export interface ScanBackwardOptions {
  /** Parse at most about this many bytes of lines (default 4 MiB). */
  maxBytes?: number;
  /** Read in chunks of this many bytes (default 64 KiB). */
  chunkBytes?: number;
  /** Lines longer than this are passed over without being held or parsed (default: the smaller of 1 MiB and maxBytes). */
  maxLineBytes?: number;
  /** Pass over at most this many bytes of long lines (default 256 MiB). */
  maxSkipBytes?: number;
}

/**
 * Visit the events of an events.jsonl file from last to first, reading backwards in chunks, until
 * `visit` returns true or `maxBytes` (default 4 MiB) of lines have been handled (plus at most one line
 * being read, of up to `maxLineBytes`). Bad lines are skipped;
 * a line longer than `maxLineBytes` (a 20 MB log message written after the last step) is passed over
 * by looking for the "\n" before it, without holding it, so it cannot hide the events before it.
 * Used to find the latest step/eval/end events of a large log cheaply. A missing file has size 0.
 */
export function scanEventsBackward(file: string, visit: (e: RunEvent) => boolean, opts: ScanBackwardOptions = {}): ScanBackwardResult {
  const maxBytes = opts.maxBytes ?? 4 * 1024 * 1024;
  const chunkBytes = Math.max(1, opts.chunkBytes ?? 64 * 1024);
  const maxLineBytes = Math.max(1, opts.maxLineBytes ?? Math.min(1024 * 1024, maxBytes));
  const maxSkipBytes = opts.maxSkipBytes ?? 256 * 1024 * 1024;
  const result: ScanBackwardResult = { size: 0, tornTail: false, truncated: false, skippedLongLines: 0 };
  const fd = openIfExists(file);
  if (fd === null) return result;
  try {
    result.size = fs.fstatSync(fd).size;
    let pos = result.size; // bytes before `pos` are not read yet
    let pending: Buffer = Buffer.alloc(0); // bytes [pos, end of the unprocessed region)
    let atTail = true; // the next line handled is the segment after the file's last "\n"
    let skipped = 0; // bytes of long lines passed over
    /** Handle one line; returns true to stop. */
    const handle = (line: Buffer): boolean => {
      const isTail = atTail;
      atTail = false;
      const text = line.toString('utf8');
      if (text.trim() === '') return false;
      const parsed = parseBytes(line, 0, line.length, text);
      if (parsed.kind === 'event') return visit(parsed.event);
      if (isTail && parsed.kind === 'bad') result.tornTail = true;
      return false;
    };
    for (;;) {
      const nl = pending.lastIndexOf(NEWLINE);
      if (nl !== -1) {
        const stop = handle(pending.subarray(nl + 1));
        pending = pending.subarray(0, nl);
        if (stop) break;
        continue;
      }
      if (pos === 0) {
        handle(pending);
        break;
      }
      if (pending.length > maxLineBytes) {
        // A long line: look for the "\n" before it chunk by chunk, keeping nothing of it.
        result.skippedLongLines++;
        atTail = false;
        skipped += pending.length;
        pending = Buffer.alloc(0);
        while (pos > 0 && skipped < maxSkipBytes) {
          const len = Math.min(chunkBytes, pos);
          pos -= len;
          const chunk = readAt(fd, pos, len);
          const at = chunk.lastIndexOf(NEWLINE);
          if (at !== -1) {
            skipped += len - at;
            pending = chunk.subarray(0, at + 1);
            break;
          }
          skipped += len;
        }
        if (pending.length === 0) {
          result.truncated = pos > 0;
          break;
        }
        // The "\n" ending the previous line is kept: it separates it from the passed-over line (an empty segment, ignored).
        continue;
      }
      // The budget counts the lines handled; the partial line held (at most maxLineBytes) is read on top.
      if (result.size - pos - skipped - pending.length >= maxBytes) {
        result.truncated = true;
        break;
      }
      const len = Math.min(chunkBytes, pos);
      pos -= len;
      pending = Buffer.concat([readAt(fd, pos, len), pending]);
    }
    return result;
  } finally {
    fs.closeSync(fd);
  }
}
