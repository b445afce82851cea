import type { Example } from './types';
import type { LineTally } from './badLines';
import { readJsonlPairs } from './jsonl';
import { parseTsvRecord, recordParser } from './formats';

/**
 * Parses one TSV pair line (`query \t positive [\t positive id]`) into an Example, or throws a
 * {@link LineFault}. Texts are kept as written; the query id is "<basename>:<line>".
 * MS MARCO triples (`query \t positive \t negative`): {@link parseTsvRecord} / {@link recordParser}.
 */
export function parseTsvLine(text: string, file: string, line: number): Example {
  return parseTsvRecord('tsv-pairs', text, { file, line })[0];
}

/**
 * Streams a TSV pairs file (shape from data.format, a header line or the first line: see recordParser).
 * Blank lines are skipped silently and a header line as the first non-blank line
 * ("query\tpositive...") is skipped without being counted. `file` must be absolute.
 */
export async function readTsvPairs(file: string, tally: LineTally, format: 'tsv' | 'msmarco' | 'auto' = 'auto'): Promise<Example[]> {
  return readJsonlPairs(file, tally, recordParser(format === 'auto' ? 'tsv' : format, undefined, format !== 'auto'));
}
