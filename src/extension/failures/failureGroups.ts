/**
 * The Failing Queries tree's shape: failures grouped by triage label — `lexical-miss` split by the term
 * coverage of its decisive term ("lexical miss · term never seen in training", …; termCoverage.ts) — largest
 * group first (ties in TRIAGE_LABELS order), worst first inside a group, and the flat order Next / Previous walk.
 * Pure, unit-tested without VS Code.
 */
import { COVERAGE_GROUPS, failureCoverageGroup } from '../../core/eval/termCoverage';
import { TRIAGE_LABELS, type FailureRecord, type TriageLabel } from '../../core/eval/types';

export interface FailureGroup {
  label: TriageLabel;
  /** The label, or label + coverage group for a split lexical-miss: the group's identity in the tree. */
  key: string;
  /** Its row's title, e.g. "lexical miss · term seen ≥ 10 times in training". */
  title: string;
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

/** Order of a group key among its label's groups: by coverage (never, rarely, often), then without coverage. */
function coverageOrder(key: string): number {
  const i = COVERAGE_GROUPS.findIndex((g) => key.endsWith(`:${g}`));
  return i < 0 ? COVERAGE_GROUPS.length : i;
}

/** Group failures by label (lexical-miss by label and term coverage); empty groups are left out. */
export function groupFailures(records: readonly FailureRecord[]): FailureGroup[] {
  const byKey = new Map<string, { label: TriageLabel; title: string; list: { r: FailureRecord; i: number }[] }>();
  records.forEach((r, i) => {
    const coverage = failureCoverageGroup(r);
    const key = coverage ? `${r.label}:${coverage}` : r.label;
    let g = byKey.get(key);
    if (!g) byKey.set(key, (g = { label: r.label, title: coverage ? `${TRIAGE_TITLES[r.label]} · ${coverage}` : TRIAGE_TITLES[r.label], list: [] }));
    g.list.push({ r, i });
  });
  const sev = (r: FailureRecord) => (Number.isFinite(r.severity) ? r.severity : -Infinity);
  return [...byKey.entries()]
    .map(([key, g]) => ({ label: g.label, key, title: g.title, items: g.list.sort((a, b) => sev(b.r) - sev(a.r) || a.i - b.i).map((x) => x.r) }))
    .sort(
      (a, b) =>
        b.items.length - a.items.length || TRIAGE_LABELS.indexOf(a.label) - TRIAGE_LABELS.indexOf(b.label) || coverageOrder(a.key) - coverageOrder(b.key),
    );
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
