import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';

/** One line of a text file: its content (without the line break) and its 1-based line number. */
export interface NumberedLine {
  text: string;
  line: number;
}

/**
 * Streams a UTF-8 text file line by line (node:readline over fs.createReadStream, so the file is
 * never held in memory as a whole). Every line is yielded, blank ones included, so line numbers
 * match what an editor shows; `\n`, `\r\n` and a UTF-8 byte-order mark on line 1 are handled.
 * Read errors (missing file, permission) reject the iteration.
 */
export async function* readLines(file: string): AsyncGenerator<NumberedLine> {
  const stream = createReadStream(file, { encoding: 'utf8' });
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  let line = 0;
  try {
    for await (const raw of lines) {
      line += 1;
      yield { text: line === 1 && raw.charCodeAt(0) === 0xfeff ? raw.slice(1) : raw, line };
    }
  } finally {
    lines.close();
    stream.destroy();
  }
}

/** True for lines that hold nothing but whitespace; readers skip them without counting them. */
export function isBlank(text: string): boolean {
  return text.trim().length === 0;
}
