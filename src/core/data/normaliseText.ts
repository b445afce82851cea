/** Normalises an item text for identity: Unicode NFKC, lower case, whitespace collapsed and trimmed (no Node import: the webview uses it too). */
export function normaliseText(text: string): string {
  return text.normalize('NFKC').toLowerCase().replace(/\s+/g, ' ').trim();
}
