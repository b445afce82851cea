import { createHash } from 'node:crypto';
import { normaliseText } from './normaliseText';

export { normaliseText };

/**
 * Stable id for an item that has none: "t:" + the first 16 hex digits of the SHA-256 of the
 * normalised text, so texts differing only in case or spacing get the same id (and dedupe).
 */
export function textItemId(text: string): string {
  return 't:' + createHash('sha256').update(normaliseText(text), 'utf8').digest('hex').slice(0, 16);
}
