/**
 * Bad data lines as per-file problem entries for the data files' diagnostics: the first 100 bad
 * lines a load kept (LoadReport.badLines), each message carrying the total so the user knows how
 * many more there are. Pure, unit-tested without VS Code.
 */
import type { BadLine } from '../../core/data/types';
import { formatCount } from '../shared/lensText';

/** At most this many bad lines are shown per load (the loader keeps the first 100). */
export const MAX_BAD_LINE_DIAGNOSTICS = 100;

/** One diagnostic to show: 0-based line and its message. */
export interface BadLineProblem {
  line: number;
  message: string;
}

/**
 * Bad lines grouped by file (absolute path → problems in line order), at most
 * MAX_BAD_LINE_DIAGNOSTICS in all. `total` is the load's badCount (all bad lines, listed or not).
 */
export function badLineProblems(badLines: readonly BadLine[], total: number): Map<string, BadLineProblem[]> {
  const shown = badLines.slice(0, MAX_BAD_LINE_DIAGNOSTICS);
  const more = total > shown.length ? ` (first ${shown.length} listed)` : '';
  const count = `${formatCount(total)} bad line${total === 1 ? '' : 's'} in this load${more}`;
  const byFile = new Map<string, BadLineProblem[]>();
  for (const b of shown) {
    const list = byFile.get(b.file) ?? [];
    list.push({ line: Math.max(0, b.line - 1), message: `Skipped by Retrieval Lens: ${b.reason} — ${count}` });
    byFile.set(b.file, list);
  }
  for (const list of byFile.values()) list.sort((a, b) => a.line - b.line);
  return byFile;
}
