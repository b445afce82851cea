/**
 * The Failing Queries tree's shape: failures grouped by triage label (largest group first, ties in
 * TRIAGE_LABELS order), worst first inside a group, and the flat order Next / Previous walk.
 * Pure, unit-tested without VS Code.
 */
import { TRIAGE_LABELS, type FailureRecord, type TriageLabel } from '../../core/eval/types';

export interface FailureGroup {
  label: TriageLabel;
  /** Worst (highest severity) first; ties keep file order. */
  items: FailureRecord[];
}

/** Human name of a triage label for the tree. */
export const TRIAGE_TITLES: Record<TriageLabel, string> = {
  'collapsed-neighbourhood': 'collapsed neighbourhood',
  'near-duplicate': 'near-duplicate',
  truncated: 'truncated',
  'lexical-miss': 'lexical miss',
  'hard-for-both': 'hard for both',
  'ranked-low': 'ranked low',
  'missing-terms': 'missing terms',
};

/** A group row's description: its count and its share of all failures, e.g. "42 · 35%". */
export function groupDescription(count: number, total: number): string {
  const share = total > 0 ? (100 * count) / total : 0;
  return `${count} · ${share < 1 && share > 0 ? '<1' : Math.round(share)}%`;
}

/** Group failures by label; empty groups are left out. */
export function groupFailures(records: readonly FailureRecord[]): FailureGroup[] {
  const byLabel = new Map<TriageLabel, { r: FailureRecord; i: number }[]>();
  records.forEach((r, i) => {
    const list = byLabel.get(r.label) ?? [];
    list.push({ r, i });
    byLabel.set(r.label, list);
  });
  const sev = (r: FailureRecord) => (Number.isFinite(r.severity) ? r.severity : -Infinity);
  return [...byLabel.entries()]
    .map(([label, list]) => ({ label, items: list.sort((a, b) => sev(b.r) - sev(a.r) || a.i - b.i).map((x) => x.r) }))
    .sort((a, b) => b.items.length - a.items.length || TRIAGE_LABELS.indexOf(a.label) - TRIAGE_LABELS.indexOf(b.label));
}

/** The failures in tree order (group by group), the order Next / Previous walk. */
export function flattenGroups(groups: readonly FailureGroup[]): FailureRecord[] {
  return groups.flatMap((g) => g.items);
}

/** "rank 37" or "rank >100" (the positive's best rank in the exact ranking). */
export function formatRank(r: FailureRecord): string {
  return r.rank === null ? `rank >${r.rankCutoff}` : `rank ${r.rank}`;
}

/**
 * Index of the next (+1) or previous (−1) failure from `current` in a list of `count`, wrapping
 * around; from no current item, Next starts at the first and Previous at the last. −1 when empty.
 */
export function stepIndex(count: number, current: number | null, direction: 1 | -1): number {
  if (count <= 0) return -1;
  if (current === null || current < 0 || current >= count) return direction === 1 ? 0 : count - 1;
  return (current + direction + count) % count;
}

/** Stable identity of a failure within one failures file (query id + source line). */
export function failureKey(r: FailureRecord): string {
  return `${r.queryId}\u0000${r.source.file}:${r.source.line}`;
}
