/**
 * The quick fixes offered when training collapses, each an edit that changes the config (one
 * undoable replacement made with jsonc-parser's modify(), keeping comments and formatting):
 * "Enable stop-gradient and symmetric loss" while either is off (their schema default is on, so an
 * absent key counts as on); once both are on, the next remedies instead — a larger symmetric
 * weight w, a lower learning rate, a smaller α — each its own edit with a one-line why.
 * Pure, unit-tested without VS Code.
 */
import { applyEdits, findNodeAtLocation, modify, type FormattingOptions, type Node } from 'jsonc-parser';
import { configTree } from '../configEditor/configAnchors';

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
  return replacementBetween(text, applyCollapseFix(text, formatting));
}

/** One remedy: its button label, a one-line why, and the settings it writes. */
export interface CollapseRemedy {
  id: 'enable-sg-symmetric' | 'symmetric-weight' | 'learning-rate' | 'alpha';
  label: string;
  why: string;
  settings: [path: string[], value: number | boolean][];
}

/** Label of the first remedy (kept from the earlier single fix). */
export const ENABLE_FIX_LABEL = 'Enable stop-gradient and symmetric loss';

/** The effective value at `path`: the node's value, or the schema default when absent or of another type. */
function effective<T>(root: Node | undefined, path: string[], fallback: T): T {
  const n = root ? findNodeAtLocation(root, path) : undefined;
  return n !== undefined && typeof n.value === typeof fallback ? (n.value as T) : fallback;
}

/** Two significant digits, without float noise (0.025, 0.00025, 0.1). */
function round2(x: number): number {
  return Number(x.toPrecision(2));
}

/**
 * The remedies that change the config `text`, most effective first. Values as the schema's
 * defaults when absent (stopGradient/symmetric true, symmetricWeight 0.05, learningRate 5e-5,
 * alpha 0.5, adaptive true).
 */
export function collapseRemedies(text: string): CollapseRemedy[] {
  const root = configTree(text);
  const sg = effective(root, ['loss', 'stopGradient'], true);
  const sym = effective(root, ['loss', 'symmetric'], true);
  if (!sg || !sym) {
    return [
      {
        id: 'enable-sg-symmetric',
        label: ENABLE_FIX_LABEL,
        why: 'the stop-gradient removes the reward for pulling items together; the symmetric term pushes items apart',
        settings: COLLAPSE_FIX_SETTINGS.map((p) => [[...p], true] as [string[], boolean]),
      },
    ];
  }
  const w = effective(root, ['loss', 'symmetricWeight'], 0.05);
  const lr = effective(root, ['training', 'learningRate'], 0.00005);
  const alpha = effective(root, ['loss', 'alpha'], 0.5);
  const adaptive = effective(root, ['loss', 'adaptive'], true);
  const out: CollapseRemedy[] = [];
  const w2 = round2(w > 0 ? Math.min(1, w * 2) : 0.05);
  if (w2 !== w) {
    out.push({
      id: 'symmetric-weight',
      label: `Raise symmetric weight to ${w2}`,
      why: `the symmetric term is what pushes items apart; w ${w} → ${w2} doubles its pull`,
      settings: [[['loss', 'symmetricWeight'], w2]],
    });
  }
  const lr2 = round2(lr / 2);
  out.push({
    id: 'learning-rate',
    label: `Halve learning rate to ${lr2}`,
    why: `a smaller step (${lr} → ${lr2}) keeps Adam from overshooting into the bunched state`,
    settings: [[['training', 'learningRate'], lr2]],
  });
  if (adaptive && alpha > 0) {
    const a2 = round2(alpha / 2);
    out.push({
      id: 'alpha',
      label: `Lower α to ${a2}`,
      why: `a smaller α (${alpha} → ${a2}) makes δ/τ depend less on s(v,v⁻), the term that rewards similar items`,
      settings: [[['loss', 'alpha'], a2]],
    });
  }
  return out;
}

/** The text with a remedy's settings written. */
export function applyRemedy(
  text: string,
  remedy: { settings: [string[], unknown][] },
  formatting: FormattingOptions = { insertSpaces: true, tabSize: 2 },
): string {
  let out = text;
  for (const [p, value] of remedy.settings) out = applyEdits(out, modify(out, p, value, { formattingOptions: formatting }));
  return out;
}

/** A remedy as one replacement relative to `text`; null when it changes nothing. */
export function remedyEdit(text: string, remedy: { settings: [string[], unknown][] }, formatting?: FormattingOptions): TextReplacement | null {
  return replacementBetween(text, applyRemedy(text, remedy, formatting));
}

/** The span between the common prefix and suffix of two texts, as a replacement; null when equal. */
export function replacementBetween(text: string, next: string): TextReplacement | null {
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

/** The settings the collapse remedies write, with their schema defaults (an absent key has its default). */
const REMEDY_SETTINGS: readonly [path: string[], fallback: number | boolean][] = [
  [['loss', 'stopGradient'], true],
  [['loss', 'symmetric'], true],
  [['loss', 'symmetricWeight'], 0.05],
  [['training', 'learningRate'], 0.00005],
  [['loss', 'alpha'], 0.5],
];

/**
 * The remedy settings (dotted paths) whose value in the config `text` differs from what the run trained with
 * (`runConfig`: its config.json, every default filled in): a fix made since the run started. A collapse
 * verdict on such a config's `loss` block no longer describes the config (the fix applies to the next run).
 */
export function remedySettingsChangedSince(text: string, runConfig: unknown): string[] {
  const root = configTree(text);
  if (!root) return [];
  const trained = (p: string[]): unknown =>
    p.reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), runConfig);
  return REMEDY_SETTINGS.filter(([p, fallback]) => {
    const was = trained(p);
    return effective(root, p, fallback) !== (typeof was === typeof fallback ? was : fallback);
  }).map(([p]) => p.join('.'));
}
