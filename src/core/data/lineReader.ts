import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { firstInvalidUtf8, invalidUtf8Reason } from '../utf8';

/** One line of a text file: its content (without the line break) and its 1-based line number. */
export interface NumberedLine {
  text: string;
  line: number;
  /** Set when the line is not valid UTF-8 (the reason, with the byte): readers count it as a bad line. */
  encodingFault?: string;
}

/**
 * Streams a UTF-8 text file line by line (node:readline over fs.createReadStream, so the file is
 * never held in memory as a whole). Every line is yielded, blank ones included, so line numbers
 * match what an editor shows; `\n`, `\r\n` and a UTF-8 byte-order mark on line 1 are handled.
 * A line that is not valid UTF-8 carries an `encodingFault` (its bytes are never silently replaced
 * by U+FFFD). Read errors (missing file, permission) reject the iteration.
 */
export async function* readLines(file: string): AsyncGenerator<NumberedLine> {
  // latin1 maps each byte to one char, so a line's bytes can be checked before decoding them as UTF-8.
  const stream = createReadStream(file, { encoding: 'latin1' });
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  let line = 0;
  try {
    for await (const raw of lines) {
      line += 1;
      let bytes = Buffer.from(raw, 'latin1');
      if (line === 1 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) bytes = bytes.subarray(3);
      const bad = firstInvalidUtf8(bytes);
      const text = bytes.toString('utf8');
      yield bad === -1 ? { text, line } : { text, line, encodingFault: invalidUtf8Reason(bytes, bad) };
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
