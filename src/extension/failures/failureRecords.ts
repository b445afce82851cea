/**
 * The Failing Queries view's access to an evaluation's outputs in a run folder, through core's one
 * read-only reader (core/eval/evalOutputs.ts: every failure record checked against FailureRecordSchema,
 * so this view and `compare` agree on which lines are bad). A missing file reads as "no evaluation".
 * No VS Code import.
 */
import * as fs from 'fs';
import * as path from 'path';
import { ANN_FAILURES_FILE, EVAL_DIR, FAILURES_FILE, METRICS_FILE, readFailuresFile, readMetrics, type FailuresRead } from '../../core/eval/evalOutputs';
import type { EvalEntry } from '../../core/eval/types';

export { parseFailures, type FailuresRead } from '../../core/eval/evalOutputs';

/** Which search's failing queries: the exact one (eval/failures.jsonl) or the ANN one (eval/failures-ann.jsonl). */
export type FailureSearch = 'exact' | 'ann';

/** Path of a run's failures file of one search. */
export function failuresPath(runDir: string, which: FailureSearch = 'exact'): string {
  return path.join(runDir, EVAL_DIR, which === 'ann' ? ANN_FAILURES_FILE : FAILURES_FILE);
}

/** Path of eval/metrics.json of a run. */
export function metricsPath(runDir: string): string {
  return path.join(runDir, EVAL_DIR, METRICS_FILE);
}

/** Read a run's failures file of one search; null when the run has no such file. */
export function readFailures(runDir: string, which: FailureSearch = 'exact'): FailuresRead | null {
  return readFailuresFile(failuresPath(runDir, which));
}

/** The evaluations of eval/metrics.json (oldest first); [] when missing or unreadable. */
export function readEvalEntries(runDir: string): EvalEntry[] {
  return readMetrics(runDir).evaluations;
}

/**
 * When the failures were written: the time of the latest evaluation in metrics.json, else the
 * failures file's mtime; null when neither is known. Data files modified after this may have moved lines.
 */
export function evaluationTime(runDir: string): Date | null {
  const last = readEvalEntries(runDir).at(-1);
  const t = last ? Date.parse(last.time) : NaN;
  if (!Number.isNaN(t)) return new Date(t);
  try {
    return fs.statSync(failuresPath(runDir)).mtime;
  } catch {
    return null;
  }
}
