import { parseCorpusLine } from './corpusJsonl';
import { DataError } from './errors';
import { recordParser, type RecordParser } from './formats';
import { LineFault } from './lineFields';
import { fileFormat, fileRecordParser } from './trainFiles';
import type { DataFormat, FieldMapping, SourceLocation } from './types';

/** How a run read its pair files (its config's data.format and data.fields): item texts are read back the same way. */
export interface DataReading {
  format?: DataFormat;
  fields?: FieldMapping;
}

/**
 * The record parser that reads lines of `file` as the run read them — formats.ts's {@link recordParser}
 * for the file's format under data.format, with data.fields — shown the file's first data line
 * (`firstLine`, from the file's start), so that a TSV header is known and the record shape is decided
 * as it was in training or evaluation. null when that line is no record of a pairs file (a corpus of
 * `{"id","text"}` lines): its lines are read as corpus lines.
 */
export function lineParserOf(file: string, firstLine: { text: string; line: number } | null, reading: DataReading = {}): RecordParser | null {
  const df = { file, ...fileFormat(file, reading.format ?? 'auto') };
  let parser: RecordParser;
  try {
    parser = fileRecordParser(df, reading.fields);
  } catch {
    parser = fileRecordParser(df); // data.fields names JSONL fields; this is a TSV file
  }
  if (firstLine === null || parser.header(firstLine.text)) return parser;
  try {
    parser.parse(firstLine.text, { file, line: firstLine.line });
  } catch (err) {
    if (err instanceof DataError) return null; // no known shape: not a pairs file
    if (!(err instanceof LineFault)) throw err; // a bad first line decides nothing
  }
  return parser;
}

/**
 * The text of item `itemId` as written on one line of a data file (the line an item's source location
 * names): a pairs line read by `parser` (its positive or one of its negatives, in any record shape:
 * pairs, BGE, sentence-transformers, data.fields, TSV pairs, MS MARCO triples), or a corpus line
 * (`{"id","text"}`, BEIR `{"_id","title","text"}`). Without a parser (undefined), the format is taken
 * from the file name and the shape detected on this line; null: corpus lines only. Returns null when the
 * line holds no such item (the file changed).
 */
export function itemTextFromLine(lineText: string, file: string, line: number, itemId: string, parser?: RecordParser | null): string | null {
  const source = { file, line };
  const pairs = parser === undefined ? recordParser(fileFormat(file, 'auto').format, undefined, false) : parser;
  const attempts: (() => string | null)[] = [
    () => (pairs ? itemOfLine(lineText, source, pairs, itemId) : null),
    () => {
      const it = parseCorpusLine(lineText, source);
      return it.id === itemId ? it.text : null;
    },
  ];
  for (const attempt of attempts) {
    try {
      const text = attempt();
      if (text !== null) return text;
    } catch {
      /* not this kind of line */
    }
  }
  return null;
}

/** The text of item `itemId` among the positives and negatives of one line's examples, or null. */
function itemOfLine(lineText: string, source: SourceLocation, parser: RecordParser, itemId: string): string | null {
  for (const e of parser.parse(lineText, source)) {
    const found = [e.positive, ...e.negatives].find((it) => it.id === itemId);
    if (found) return found.text;
  }
  return null;
}

/**
 * The text of query `queryId` as written on one line of a data file (a query's source location): a pairs line read
 * by `parser` (the query of its example with that id, else its first example's), or a BEIR queries.jsonl line
 * (`{"_id","text"}`). null when the line holds no such query.
 */
export function queryTextFromLine(lineText: string, file: string, line: number, queryId: string, parser?: RecordParser | null): string | null {
  const source = { file, line };
  const pairs = parser === undefined ? recordParser(fileFormat(file, 'auto').format, undefined, false) : parser;
  try {
    if (pairs) {
      const examples = pairs.parse(lineText, source);
      const e = examples.find((x) => x.queryId === queryId) ?? examples[0];
      if (e) return e.query;
    }
  } catch {
    /* not a pairs line */
  }
  try {
    const q = parseCorpusLine(lineText, source);
    return q.id === queryId ? q.text : null;
  } catch {
    return null;
  }
}
