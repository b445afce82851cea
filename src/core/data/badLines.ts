import type { BadLine } from './types';
import { DataError } from './errors';

/** How many bad lines a report keeps (the total is always counted). */
export const MAX_KEPT_BAD_LINES = 100;

/** Default for data.maxBadLineShare: loading fails when more than 5% of the lines are malformed. */
export const DEFAULT_MAX_BAD_LINE_SHARE = 0.05;

/**
 * Tally of one file's load: non-blank lines read, bad lines seen (total) and the first
 * {@link MAX_KEPT_BAD_LINES} of them in reading order. A BEIR folder has one per file (role).
 */
export class LineTally {
  linesRead = 0;
  badCount = 0;
  readonly badLines: BadLine[] = [];

  /**
   * `onLine`: called after each line is counted, with the count so far — a reader's pace: what it throws (an
   * abort, say) ends the read there.
   */
  constructor(private readonly onLine?: (linesRead: number) => void) {}

  /** Counts one non-blank data line. */
  countLine(): void {
    this.linesRead += 1;
    this.onLine?.(this.linesRead);
  }

  /** Adds another tally's counts and kept bad lines (for one report over several files). */
  merge(other: LineTally): void {
    this.linesRead += other.linesRead;
    for (const b of other.badLines) if (this.badLines.length < MAX_KEPT_BAD_LINES) this.badLines.push(b);
    this.badCount += other.badCount;
  }

  /** Records a bad line (counted in {@link badCount}; kept while fewer than 100 are kept). */
  addBad(file: string, line: number, reason: string): void {
    this.badCount += 1;
    if (this.badLines.length < MAX_KEPT_BAD_LINES) this.badLines.push({ file, line, reason });
  }
}

/** Formats a share as a percentage without float noise: 0.05 → "5", 0.025 → "2.5". */
function percent(share: number): string {
  return String(Number((share * 100).toFixed(4)));
}

/**
 * Throws a {@link DataError} when badCount / linesRead exceeds `maxShare`, e.g.
 * `12 of 100 lines (12.0%) in /abs/train.jsonl are malformed, more than data.maxBadLineShare 5%;
 * first: line 3: invalid JSON: ...`. The first bad line is named by line alone when it lies in
 * `path` itself, else by file:line (BEIR folders). The error points at that first bad line.
 */
export function checkBadLineShare(tally: LineTally, path: string, maxShare: number, what = 'lines', consequence = 'are malformed'): void {
  if (tally.linesRead === 0 || tally.badCount / tally.linesRead <= maxShare) return;
  const first = tally.badLines[0];
  const where = first.file === path ? `line ${first.line}` : `${first.file}:${first.line}`;
  const share = ((100 * tally.badCount) / tally.linesRead).toFixed(1);
  throw new DataError(
    `${tally.badCount} of ${tally.linesRead} ${what} (${share}%) in ${path} ${consequence}, ` +
      `more than data.maxBadLineShare ${percent(maxShare)}%; first: ${where}: ${first.reason}`,
    first.file,
    first.line,
  );
}
