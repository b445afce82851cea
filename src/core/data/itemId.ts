import { createHash } from 'node:crypto';

/** Normalises an item text for identity: Unicode NFKC, lower case, whitespace collapsed and trimmed. */
export function normaliseText(text: string): string {
  return text.normalize('NFKC').toLowerCase().replace(/\s+/g, ' ').trim();
}

/**
 * Stable id for an item that has none: "t:" + the first 16 hex digits of the SHA-256 of the
 * normalised text, so texts differing only in case or spacing get the same id (and dedupe).
 */
export function textItemId(text: string): string {
  return 't:' + createHash('sha256').update(normaliseText(text), 'utf8').digest('hex').slice(0, 16);
}
