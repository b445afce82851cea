/**
 * The "Enable stop-gradient and symmetric loss" fix offered when training collapses: sets
 * `loss.stopGradient` and `loss.symmetric` to true with jsonc-parser's modify(), keeping comments and
 * formatting, and returns it as ONE replacement of the changed span so the editor applies it as a
 * single undoable edit. Pure, unit-tested without VS Code.
 */
import { applyEdits, findNodeAtLocation, modify, type FormattingOptions } from 'jsonc-parser';
import { configTree } from './configAnchors';

/** A replacement of `length` characters at `offset` by `content` (offsets in the original text). */
export interface TextReplacement {
  offset: number;
  length: number;
  content: string;
}

/** The settings the fix turns on, in the order they are written. */
export const COLLAPSE_FIX_SETTINGS: readonly (readonly ['loss', string])[] = [
  ['loss', 'stopGradient'],
  ['loss', 'symmetric'],
];

/** Whether both settings are already explicitly true (the defaults are true, but "absent" is not shown as fixed). */
export function collapseFixApplied(text: string): boolean {
  const root = configTree(text);
  return COLLAPSE_FIX_SETTINGS.every((p) => {
    const n = root ? findNodeAtLocation(root, [...p]) : undefined;
    return n?.type === 'boolean' && n.value === true;
  });
}

/** The text with both settings set to true (jsonc modify, one after the other). */
export function applyCollapseFix(text: string, formatting: FormattingOptions = { insertSpaces: true, tabSize: 2 }): string {
  let out = text;
  for (const p of COLLAPSE_FIX_SETTINGS) {
    out = applyEdits(out, modify(out, [...p], true, { formattingOptions: formatting }));
  }
  return out;
}

/**
 * The fix as a single replacement relative to `text` (the span between the common prefix and the
 * common suffix of the old and new text); null when nothing changes.
 */
export function collapseFixEdit(text: string, formatting?: FormattingOptions): TextReplacement | null {
  const next = applyCollapseFix(text, formatting);
  if (next === text) return null;
  let start = 0;
  const max = Math.min(text.length, next.length);
  while (start < max && text.charCodeAt(start) === next.charCodeAt(start)) start++;
  let endOld = text.length;
  let endNew = next.length;
  while (endOld > start && endNew > start && text.charCodeAt(endOld - 1) === next.charCodeAt(endNew - 1)) {
    endOld--;
    endNew--;
  }
  return { offset: start, length: endOld - start, content: next.slice(start, endNew) };
}
