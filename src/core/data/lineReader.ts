import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import { firstInvalidUtf8, invalidUtf8Reason } from '../utf8';
import { openRegular } from '../io/safeRead';

/** One line of a text file: its content (without the line break) and its 1-based line number. */
export interface NumberedLine {
  text: string;
  line: number;
  /** Set when the line is not valid UTF-8 (the reason, with the byte): readers count it as a bad line. */
  encodingFault?: string;
}

/** True for a gzip-compressed data file (`*.gz`): read through node:zlib, sequentially. */
export function isGzipFile(file: string): boolean {
  return file.toLowerCase().endsWith('.gz');
}

/**
 * One line's bytes (without `\n`; a trailing `\r` is removed here) as a {@link NumberedLine}: a UTF-8
 * byte-order mark is dropped on line 1, and bytes that are not valid UTF-8 give an `encodingFault`
 * instead of being replaced by U+FFFD. Shared by the sequential reader and the indexed block reader.
 */
export function decodeLine(raw: Buffer, line: number): NumberedLine {
  let bytes = raw;
  if (bytes.length > 0 && bytes[bytes.length - 1] === 0x0d) bytes = bytes.subarray(0, bytes.length - 1);
  if (line === 1 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) bytes = bytes.subarray(3);
  const bad = firstInvalidUtf8(bytes);
  const text = bytes.toString('utf8');
  return bad === -1 ? { text, line } : { text, line, encodingFault: invalidUtf8Reason(bytes, bad) };
}

/**
 * Streams a UTF-8 text file line by line (node:readline over fs.createReadStream, so the file is
 * never held in memory as a whole); a `*.gz` file is decompressed on the way (node:zlib). Every
 * line is yielded, blank ones included, so line numbers match what an editor shows; `\n`, `\r\n`
 * and a UTF-8 byte-order mark on line 1 are handled. A line that is not valid UTF-8 carries an
 * `encodingFault` (its bytes are never silently replaced by U+FFFD). Read errors (missing file,
 * permission, corrupt gzip) reject the iteration.
 */
export async function* readLines(file: string): AsyncGenerator<NumberedLine> {
  // latin1 maps each byte to one char, so a line's bytes can be checked before decoding them as UTF-8.
  const stream = (await openRegular(file)).createReadStream();
  const gunzip = isGzipFile(file) ? createGunzip() : null;
  const input = gunzip ? stream.pipe(gunzip) : stream;
  // A read or decompression error is rethrown by the iteration below (readline forwards input errors).
  if (gunzip) stream.on('error', (err) => gunzip.destroy(err));
  input.setEncoding('latin1');
  const lines = createInterface({ input, crlfDelay: Infinity });
  let line = 0;
  try {
    for await (const raw of lines) {
      line += 1;
      yield decodeLine(Buffer.from(raw, 'latin1'), line);
    }
  } finally {
    lines.close();
    stream.destroy();
    gunzip?.destroy();
  }
}

/** True for lines that hold nothing but whitespace; readers skip them without counting them. */
export function isBlank(text: string): boolean {
  return text.trim().length === 0;
}
