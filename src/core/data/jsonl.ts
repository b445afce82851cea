import type { Example, SourceLocation } from './types';
import type { LineTally } from './badLines';
import { isBlank, readLines } from './lineReader';
import { LineFault, parseJsonObject } from './lineFields';
import { parseJsonlRecord, recordParser, type RecordParser } from './formats';

/**
 * Parses one JSONL pair line (`{"query", "positive", "negatives"?, "query_id"?, "item_id"?}`) into an
 * Example, or throws a {@link LineFault} naming the problem. The default query id is "<basename>:<line>".
 * Other shapes (BGE, sentence-transformers, data.fields): {@link recordParser}.
 */
export function parsePairLine(text: string, source: SourceLocation): Example {
  return parseJsonlRecord('pairs', parseJsonObject(text), source)[0];
}

/**
 * Streams a pairs file through a record parser (default: JSONL with the shape detected from the first
 * record). Blank lines are skipped silently; a header the parser recognises on the first non-blank line is
 * skipped uncounted; every other line is counted in `tally`, and unusable ones are recorded there with their
 * 1-based line and reason. A line may give several examples (BGE: one per positive). `file` must be absolute.
 */
export async function readJsonlPairs(file: string, tally: LineTally, parser: RecordParser = recordParser('jsonl')): Promise<Example[]> {
  const examples: Example[] = [];
  let first = true;
  for await (const { text, line, encodingFault } of readLines(file)) {
    if (isBlank(text)) continue;
    if (first) {
      first = false;
      if (!encodingFault && parser.header(text)) continue;
    }
    tally.countLine();
    try {
      if (encodingFault) throw new LineFault(encodingFault);
      for (const e of parser.parse(text, { file, line })) examples.push(e);
    } catch (err) {
      if (!(err instanceof LineFault)) throw err;
      tally.addBad(file, line, err.message);
    }
  }
  return examples;
}
