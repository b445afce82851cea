/**
 * The failing-query diff between runs: which test queries fail (no relevant item in the top k) in one run
 * and not in another, read from each run's failures file (eval/failures.jsonl for the exact search,
 * eval/failures-ann.jsonl for IVF-PQ; docs/run-format.md §8). A query is identified by its query id; a
 * run without a failures file was not evaluated and takes no part in the diff.
 */
import * as path from 'path';
import { ANN_FAILURES_FILE, EVAL_DIR, FAILURES_FILE, readFailuresFile } from '../eval/evalOutputs';
import type { FailureRecord } from '../eval/types';

export type FailureSearch = 'exact' | 'ann';

/** One run's failing queries of one search. */
export interface FailureSet {
  /** The failures file, absolute. */
  file: string;
  records: FailureRecord[];
  /** 1-based line of each record in `file`. */
  recordLines: number[];
  /** Lines that could not be used, as `eval/failures.jsonl:LINE: reason`. */
  problems: string[];
}

/** How a query fails in one run. */
export interface FailureSide {
  /** Best rank of a relevant item in that run's search; null: beyond the rank cutoff. */
  rank: number | null;
  label: string;
  severity: number;
  /** Line of the record in that run's failures file. */
  recordLine: number;
}

/** A query that fails in some of the evaluated runs and not in the others. */
export interface FailureDiffRow {
  queryId: string;
  query: string;
  /** The query's data line (what the Failing Queries view opens). */
  file: string;
  line: number;
  /** Per run: its failure, or null (passes, or the run was not evaluated: see `FailureDiff.evaluated`). */
  runs: (FailureSide | null)[];
}

export interface FailureDiff {
  search: FailureSearch;
  /** Per run: whether it has a failures file (only those take part). */
  evaluated: boolean[];
  /** Per run: evaluated step (from the failures file) or null. */
  steps: (number | null)[];
  /** Per run: failing queries in its file, null when not evaluated. */
  totals: (number | null)[];
  /** Per run: queries failing in this run only (of the evaluated runs). */
  onlyIn: number[];
  /** Queries failing in every evaluated run. */
  inAll: number;
  /** Queries failing in some but not all evaluated runs, grouped by the set of runs they fail in (run 1 only, run 2 only, …), worst first. */
  rows: FailureDiffRow[];
  /** Unusable failure lines and other things a reader should know, located. */
  problems: string[];
}

/** The failures file of a run folder for a search. */
export function failuresFileOf(runDir: string, search: FailureSearch): string {
  return path.join(runDir, EVAL_DIR, search === 'exact' ? FAILURES_FILE : ANN_FAILURES_FILE);
}

/** Reads a run's failures file (read-only, every record checked: readFailuresFile); null when it does not exist (the run was not evaluated). */
export function readFailureSet(runDir: string, search: FailureSearch = 'exact'): FailureSet | null {
  const file = failuresFileOf(runDir, search);
  const read = readFailuresFile(file);
  if (read === null) return null;
  const rel = path.relative(runDir, file).split(path.sep).join('/');
  const problems = read.badLines.map((b) => (b.line > 0 ? `${rel}:${b.line}: ${b.reason}` : `${file}: ${b.reason}`));
  return { file, records: read.records, recordLines: read.recordLines, problems };
}

/** Diffs the failure sets of runs (null: not evaluated). */
export function diffFailureSets(sets: readonly (FailureSet | null)[], search: FailureSearch = 'exact'): FailureDiff {
  const n = sets.length;
  const evaluated = sets.map((s) => s !== null);
  const byQuery = new Map<string, { record: FailureRecord; runs: (FailureSide | null)[] }>();
  const problems: string[] = [];
  sets.forEach((set, i) => {
    if (!set) return;
    problems.push(...set.problems.map((p) => `run ${i + 1}: ${p}`));
    set.records.forEach((r, j) => {
      let entry = byQuery.get(r.queryId);
      if (!entry) byQuery.set(r.queryId, (entry = { record: r, runs: new Array<FailureSide | null>(n).fill(null) }));
      if (entry.runs[i]) return; // the same query twice in one file: the first (worst) counts
      entry.runs[i] = { rank: r.rank ?? null, label: String(r.label), severity: Number(r.severity) || 0, recordLine: set.recordLines[j] };
    });
  });
  const evaluatedCount = evaluated.filter(Boolean).length;
  const onlyIn = new Array<number>(n).fill(0);
  let inAll = 0;
  const rows: (FailureDiffRow & { sig: string; worst: number })[] = [];
  for (const [queryId, { record, runs }] of byQuery) {
    const failing = runs.map((r) => r !== null);
    const count = failing.filter(Boolean).length;
    if (count === evaluatedCount) {
      inAll++;
      continue;
    }
    if (count === 1) onlyIn[failing.indexOf(true)]++;
    rows.push({
      queryId,
      query: record.query,
      file: record.source.file,
      line: record.source.line,
      runs,
      // runs 1 only first, then 2 only, …; then the mixed sets
      sig: `${String(count).padStart(4, '0')}:${failing.map((f) => (f ? '0' : '1')).join('')}`,
      worst: Math.max(...runs.map((r) => r?.severity ?? -Infinity)),
    });
  }
  rows.sort((a, b) => (a.sig < b.sig ? -1 : a.sig > b.sig ? 1 : b.worst - a.worst || (a.queryId < b.queryId ? -1 : 1)));
  const steps = sets.map((s) => (s && s.records.length ? s.records[0].step : null));
  const distinctSteps = new Set(steps.filter((s) => s !== null));
  if (distinctSteps.size > 1) problems.push(`the failures come from evaluations at different steps (${steps.map((s) => s ?? '–').join(' vs ')})`);
  return {
    search,
    evaluated,
    steps,
    totals: sets.map((s) => (s ? s.records.length : null)),
    onlyIn,
    inAll,
    rows: rows.map(({ sig: _sig, worst: _worst, ...r }) => r),
    problems,
  };
}

/** The failing-query diff of run folders for a search. */
export function diffRunFailures(runDirs: readonly string[], search: FailureSearch = 'exact'): FailureDiff {
  return diffFailureSets(
    runDirs.map((d) => readFailureSet(d, search)),
    search,
  );
}
