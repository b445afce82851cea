/**
 * The nprobe an evaluation suggests (eval/nprobeCurve.ts) as a config edit: the smallest nprobe that keeps
 * IVF-PQ within the bound of exact recall@10, else the plateau (the smallest within the bound of visiting
 * every list); nothing when that is what is configured. The edit sets `evaluation.index.nprobe` with
 * jsonc-parser's modify() (comments and formatting kept), one undoable replacement.
 * Pure, unit-tested without VS Code.
 */
import { applyEdits, modify, type FormattingOptions } from 'jsonc-parser';
import type { EvalEntry } from '../../core/eval/types';
import { replacementBetween, type TextReplacement } from '../verdict/collapseFix';

/** The nprobe to offer after this evaluation, and why; null when the configured one is it (or no curve was measured). */
export function suggestedNprobe(e: EvalEntry): { nprobe: number; why: string } | null {
  const c = e.nprobeCurve;
  if (!c) return null;
  const n = c.suggested ?? c.plateau;
  if (n === c.configured) return null;
  const at = c.points.find((p) => p.nprobe === n);
  const gap = at ? (100 * at.gap).toFixed(1) : '?';
  const why =
    c.suggested !== null
      ? `the smallest nprobe within ${(100 * c.bound).toFixed(1)} point of exact recall@${c.k} (gap ${gap})`
      : `no nprobe comes within ${(100 * c.bound).toFixed(1)} point of exact (the PQ codes lose the rest); ${n} is as good as visiting every list`;
  return { nprobe: n, why };
}

/** The config text with evaluation.index.nprobe set to `nprobe`, as one replacement; null when unchanged. */
export function nprobeEdit(text: string, nprobe: number, formatting: FormattingOptions = { insertSpaces: true, tabSize: 2 }): TextReplacement | null {
  return replacementBetween(text, applyEdits(text, modify(text, ['evaluation', 'index', 'nprobe'], nprobe, { formattingOptions: formatting })));
}
