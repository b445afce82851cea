/**
 * Strict UTF-8 checks for text files (configs, data lines, events.jsonl): invalid bytes must not be
 * turned silently into U+FFFD.
 */
import { isUtf8 } from 'buffer';

/**
 * Byte offset of the first byte that does not start a valid UTF-8 sequence (bad lead byte, missing
 * continuation byte, overlong form, surrogate or code point above U+10FFFF), or -1 when all of
 * `buf` is valid UTF-8.
 */
export function firstInvalidUtf8(buf: Uint8Array): number {
  if (isUtf8(buf)) return -1;
  for (let i = 0; i < buf.length;) {
    const b = buf[i];
    let n: number;
    let min: number;
    if (b < 0x80) {
      i++;
      continue;
    } else if (b >= 0xc2 && b <= 0xdf) {
      n = 1;
      min = 0x80;
    } else if (b >= 0xe0 && b <= 0xef) {
      n = 2;
      min = 0x800;
    } else if (b >= 0xf0 && b <= 0xf4) {
      n = 3;
      min = 0x10000;
    } else return i;
    let cp = b & (0x3f >> n);
    for (let k = 1; k <= n; k++) {
      const c = buf[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += n + 1;
  }
  return -1;
}

/** "invalid UTF-8 byte 0xff at byte 12" for the first invalid byte of `buf` (see firstInvalidUtf8). */
export function invalidUtf8Reason(buf: Uint8Array, at: number): string {
  return `invalid UTF-8 byte 0x${buf[at].toString(16).padStart(2, '0')} at byte ${at + 1} (the file must be UTF-8 text)`;
}
