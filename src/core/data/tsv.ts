import { basename } from 'node:path';
import type { Example } from './types';
import type { LineTally } from './badLines';
import { isBlank, readLines } from './lineReader';
import { textItemId } from './itemId';
import { LineFault } from './lineFields';

/** True for an optional header line: first column "query", second starting with "positive". */
export function isHeader(columns: string[]): boolean {
  return columns.length >= 2 && columns[0].trim().toLowerCase() === 'query' && columns[1].trim().toLowerCase().startsWith('positive');
}

/**
 * Parses one TSV pair line (`query \t positive [\t positive id]`) into an Example, or throws a
 * {@link LineFault}. Texts are kept as written; the query id is "<basename>:<line>".
 */
export function parseTsvLine(text: string, file: string, line: number): Example {
  const columns = text.split('\t');
  if (columns.length < 2 || columns.length > 3) {
    throw new LineFault(`expected 2 or 3 tab-separated columns (query, positive[, positive id]), got ${columns.length}`);
  }
  const [query, positiveText, positiveId] = columns;
  if (isBlank(query)) throw new LineFault('empty query');
  if (isBlank(positiveText)) throw new LineFault('empty positive');
  if (positiveId !== undefined && isBlank(positiveId)) throw new LineFault('empty positive id (column 3)');
  const source = { file, line };
  return {
    queryId: `${basename(file)}:${line}`,
    query,
    positive: { id: positiveId ?? textItemId(positiveText), text: positiveText, source },
    negatives: [],
    source,
  };
}

/**
 * Streams a TSV pairs file. Blank lines are skipped silently and a header line as the first
 * non-blank line ("query\tpositive...") is skipped without being counted; all other lines are
 * counted in `tally`, bad ones recorded there with line and reason. `file` must be absolute.
 */
export async function readTsvPairs(file: string, tally: LineTally): Promise<Example[]> {
  const examples: Example[] = [];
  let first = true;
  for await (const { text, line, encodingFault } of readLines(file)) {
    if (isBlank(text)) continue;
    if (first) {
      first = false;
      if (isHeader(text.split('\t'))) continue;
    }
    tally.countLine();
    try {
      if (encodingFault) throw new LineFault(encodingFault);
      examples.push(parseTsvLine(text, file, line));
    } catch (err) {
      if (!(err instanceof LineFault)) throw err;
      tally.addBad(file, line, err.message);
    }
  }
  return examples;
}
