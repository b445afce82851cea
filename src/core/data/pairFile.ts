import type { Example } from './types';
import type { LineTally } from './badLines';
import { isBlank, readLines } from './lineReader';
import { LineFault } from './lineFields';
import type { RecordParser } from './formats';

/**
 * Reads a whole pairs file (JSONL or TSV, plain or gzip) through its record parser (formats.ts) into memory;
 * training streams the same lines through the same parsers (exampleStream.ts). Blank lines are skipped
 * silently; a header the parser recognises on the first non-blank line is skipped uncounted; every other line
 * is counted in `tally`, and unusable ones are recorded there with their 1-based line and reason. A line may
 * give several examples (BGE: one per positive). `file` must be absolute.
 */
export async function readPairFile(file: string, tally: LineTally, parser: RecordParser): Promise<Example[]> {
  const examples: Example[] = [];
  await eachPairOfFile(file, tally, parser, (e) => examples.push(e));
  return examples;
}

/** {@link readPairFile} without keeping the examples: `onExample` sees each in file order (the data audit streams this way). */
export async function eachPairOfFile(file: string, tally: LineTally, parser: RecordParser, onExample: (e: Example) => void): Promise<void> {
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
      for (const e of parser.parse(text, { file, line })) onExample(e);
    } catch (err) {
      if (!(err instanceof LineFault)) throw err;
      tally.addBad(file, line, err.message);
    }
  }
}
