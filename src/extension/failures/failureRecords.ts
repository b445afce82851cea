/**
 * Reading an evaluation's outputs from a run folder: eval/failures.jsonl (one FailureRecord per line,
 * worst first) and eval/metrics.json (the evaluations). Tolerant: malformed lines are counted and
 * skipped, a missing file reads as "no evaluation". No VS Code import.
 */
import * as fs from 'fs';
import * as path from 'path';
import { ANN_FAILURES_FILE, EVAL_DIR, FAILURES_FILE, METRICS_FILE } from '../../core/eval/evalOutputs';
import { TRIAGE_LABELS, type EvalEntry, type EvalMetricsFile, type FailureRecord } from '../../core/eval/types';
import { decodeFailures } from '../../core/eval/failuresFile';
import { isPlainObject } from '../../core/jsonGuards';
import { readBoundedTextSync, readJsonSync } from '../../core/io/safeRead';

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

const isObj = isPlainObject;

/** Why a parsed line is not a usable FailureRecord; null when it is. */
export function failureRecordProblem(x: unknown): string | null {
  if (!isObj(x)) return 'not a JSON object';
  if (typeof x.query !== 'string') return '"query" must be a string';
  if (typeof x.queryId !== 'string') return '"queryId" must be a string';
  if (!isObj(x.source) || typeof x.source.file !== 'string' || !Number.isInteger(x.source.line)) return '"source" must be {file, line}';
  if (!(x.rank === null || Number.isInteger(x.rank))) return '"rank" must be an integer or null';
  if (!TRIAGE_LABELS.includes(x.label as never)) return `"label" must be one of ${TRIAGE_LABELS.join(', ')}`;
  if (!Array.isArray(x.positives) || !Array.isArray(x.topK)) return '"positives" and "topK" must be arrays';
  return null;
}

export interface FailuresRead {
  records: FailureRecord[];
  /** Malformed lines skipped (1-based line numbers with the reason). */
  badLines: { line: number; reason: string }[];
}

/** Parse the text of a failures file (format 1 or 2, see core/eval/failuresFile.ts); every record is validated. */
export function parseFailures(text: string): FailuresRead {
  const decoded = decodeFailures(text);
  const out: FailuresRead = { records: [], badLines: [...decoded.badLines] };
  decoded.records.forEach((r, i) => {
    const problem = failureRecordProblem(r);
    if (problem) out.badLines.push({ line: decoded.recordLines[i], reason: problem });
    else out.records.push(r);
  });
  out.badLines.sort((a, b) => a.line - b.line);
  return out;
}

/** Read a run's failures file of one search; null when the run has no such file. */
export function readFailures(runDir: string, which: FailureSearch = 'exact'): FailuresRead | null {
  let text: string;
  try {
    text = readBoundedTextSync(failuresPath(runDir, which), 'failures.jsonl');
  } catch {
    return null;
  }
  return parseFailures(text);
}

/** The evaluations of eval/metrics.json (oldest first); [] when missing or unreadable. */
export function readEvalEntries(runDir: string): EvalEntry[] {
  try {
    const file = readJsonSync(metricsPath(runDir), 'metrics.json') as EvalMetricsFile;
    return Array.isArray(file?.evaluations) ? file.evaluations.filter((e) => isObj(e) && Number.isFinite(e.step)) : [];
  } catch {
    return [];
  }
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
