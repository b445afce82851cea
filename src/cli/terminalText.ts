/**
 * Text for the terminal. Ids, names, paths, messages and excerpts printed by the CLI come from data
 * and run folders (a cloned repository is untrusted input): an ESC byte in a query id would drive the
 * terminal (colours, cursor moves, window title, hyperlinks), a "\r" or "\n" would overwrite or forge
 * output lines. Every CLI output goes through terminalSafe (one line) or say/warn (our lines, joined by
 * "\n"): control characters (C0 including tab, CR and LF within a line, DEL, C1) and invisible format
 * characters (zero-width, bidirectional overrides, line/paragraph separators, BOM) are shown as `\u001b`.
 */

/** The characters shown escaped: C0, DEL, C1, zero-width and bidirectional format characters, U+2028/9, BOM. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;

/** One line made terminal-safe: every unsafe character (a "\n" too) as `\uXXXX`. */
export function terminalSafe(text: string): string {
  return text.replace(UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Lines of ours joined by "\n", each made terminal-safe (the line breaks between them stay). */
export function terminalSafeLines(text: string): string {
  return text.split('\n').map(terminalSafe).join('\n');
}

/** console.log of our lines (joined by "\n"), terminal-safe. */
export function say(text: string): void {
  console.log(terminalSafeLines(text));
}

/** console.error of our lines (joined by "\n"), terminal-safe. */
export function warn(text: string): void {
  console.error(terminalSafeLines(text));
}
