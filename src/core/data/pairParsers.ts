/**
 * The boundary between reading files and reading records: a {@link RecordParser} turns one data
 * line into the training pairs it holds (none, one, or several — a record with several positives
 * gives several pairs), or throws a LineFault naming why it cannot. The streaming reader
 * (exampleStream.ts) finds the lines and does the bad-line accounting; the formats live here.
 */
import type { Example, SourceLocation } from './types';
import { parsePairLine } from './jsonl';
import { isHeader, parseTsvLine } from './tsv';

/** One non-blank data line → its pairs; throws a LineFault for an unusable line. */
export type RecordParser = (text: string, source: SourceLocation) => Example[];

/** The record parser of a file format. */
export function recordParser(format: 'jsonl' | 'tsv'): RecordParser {
  return format === 'tsv' ? (text, source) => [parseTsvLine(text, source.file, source.line)] : (text, source) => [parsePairLine(text, source)];
}

/** True when the first non-blank line of a file in `format` is a header to skip (TSV `query\tpositive…`). */
export function isHeaderLine(format: 'jsonl' | 'tsv', text: string): boolean {
  return format === 'tsv' && isHeader(text.split('\t'));
}
