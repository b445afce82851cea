import * as fs from 'fs';
import * as path from 'path';
import { writeFileAtomicSync, writeJsonAtomicSync } from '../runs/atomicWrite';
import { decodeFailures, encodeFailures } from './failuresFile';
import type { EvalEntry, EvalMetricsFile, FailureRecord } from './types';
import { readBoundedTextSync } from '../io/safeRead';
import { failureRecordProblem } from './failureRecord';
import { isPlainObject } from '../jsonGuards';

export const EVAL_DIR = 'eval';
export const METRICS_FILE = 'metrics.json';
/** Failing queries of the exact search. */
export const FAILURES_FILE = 'failures.jsonl';
/** Failing queries of the ANN (IVF-PQ) search. */
export const ANN_FAILURES_FILE = 'failures-ann.jsonl';

/** eval/metrics.json read without touching it: its evaluations, or why it could not be used (a missing file is no problem). */
export interface MetricsRead {
  file: string;
  evaluations: EvalEntry[];
  /** Why the file exists but cannot be used; null when it is fine or missing. */
  problem: string | null;
}

/** Read eval/metrics.json of a run, read-only: a missing file has no evaluations, an unusable one says why. */
export function readMetrics(runDir: string): MetricsRead {
  const file = path.join(runDir, EVAL_DIR, METRICS_FILE);
  let text: string;
  try {
    text = readBoundedTextSync(file, 'metrics.json');
  } catch (e) {
    const missing = (e as NodeJS.ErrnoException).code === 'ENOENT';
    return { file, evaluations: [], problem: missing ? null : `cannot be read: ${(e as Error).message}` };
  }
  try {
    const parsed = JSON.parse(text) as EvalMetricsFile;
    if (parsed?.v !== 1 || !Array.isArray(parsed.evaluations)) throw new Error('not a version-1 metrics file');
    return { file, evaluations: parsed.evaluations.filter((e) => isPlainObject(e) && Number.isFinite(e.step)), problem: null };
  } catch (e) {
    return { file, evaluations: [], problem: (e as Error).message };
  }
}

/**
 * eval/metrics.json for a writer: an unusable file is moved aside (never overwritten) and said, and the
 * evaluations start afresh. Readers use readMetrics, which moves nothing.
 */
export function readMetricsForUpdate(runDir: string, log?: (m: string) => void): EvalMetricsFile {
  const read = readMetrics(runDir);
  if (read.problem !== null && fs.existsSync(read.file)) {
    const aside = `${read.file}.unreadable-${Date.now()}`;
    fs.renameSync(read.file, aside);
    log?.(`${read.file} could not be read (${read.problem}); kept as ${aside}, starting a new one`);
  }
  return { v: 1, evaluations: read.evaluations };
}

/** Appends one evaluation to eval/metrics.json (atomic rewrite). */
export function appendMetricsEntry(runDir: string, entry: EvalEntry, log?: (m: string) => void): string {
  fs.mkdirSync(path.join(runDir, EVAL_DIR), { recursive: true });
  const metrics = readMetricsForUpdate(runDir, log);
  metrics.evaluations.push(entry);
  const file = path.join(runDir, EVAL_DIR, METRICS_FILE);
  writeJsonAtomicSync(file, metrics);
  return file;
}

/** Replaces eval/<name> (atomic; default failures.jsonl) with one search's failures of the latest full evaluation, worst first. */
export function writeFailures(runDir: string, failures: FailureRecord[], name: string = FAILURES_FILE): string {
  fs.mkdirSync(path.join(runDir, EVAL_DIR), { recursive: true });
  const file = path.join(runDir, EVAL_DIR, name);
  writeFileAtomicSync(file, encodeFailures(failures));
  return file;
}

/** The usable records of a failures file and its unusable lines. */
export interface FailuresRead {
  records: FailureRecord[];
  /** 1-based line of each record. */
  recordLines: number[];
  /** Lines that could not be used (1-based line and reason), in line order. */
  badLines: { line: number; reason: string }[];
}

/** Decode the text of a failures file (format 1 or 2, failuresFile.ts) and check every record (failureRecordProblem). */
export function parseFailures(text: string): FailuresRead {
  const decoded = decodeFailures(text);
  const out: FailuresRead = { records: [], recordLines: [], badLines: [...decoded.badLines] };
  decoded.records.forEach((r, i) => {
    const problem = failureRecordProblem(r);
    if (problem) out.badLines.push({ line: decoded.recordLines[i], reason: problem });
    else {
      out.records.push(r);
      out.recordLines.push(decoded.recordLines[i]);
    }
  });
  out.badLines.sort((a, b) => a.line - b.line);
  return out;
}

/**
 * The one reader of a failures file (eval/failures.jsonl, eval/failures-ann.jsonl): every record checked,
 * unusable lines listed with their numbers; null when the file does not exist (the run was not evaluated).
 * Read-only.
 */
export function readFailuresFile(file: string): FailuresRead | null {
  let text: string;
  try {
    text = readBoundedTextSync(file, 'failures.jsonl');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    return { records: [], recordLines: [], badLines: [{ line: 0, reason: `cannot be read: ${(e as Error).message}` }] };
  }
  return parseFailures(text);
}

/** Everything an evaluation left in a run folder, read without writing anything. */
export interface EvalOutputs {
  metrics: MetricsRead;
  /** eval/failures.jsonl (exact search); null when missing. */
  failures: FailuresRead | null;
  /** eval/failures-ann.jsonl (IVF-PQ); null when missing. */
  annFailures: FailuresRead | null;
}

/** The one read-only reader of a run's eval/ folder: metrics.json and both failures files. */
export function readEvalOutputs(runDir: string): EvalOutputs {
  return {
    metrics: readMetrics(runDir),
    failures: readFailuresFile(path.join(runDir, EVAL_DIR, FAILURES_FILE)),
    annFailures: readFailuresFile(path.join(runDir, EVAL_DIR, ANN_FAILURES_FILE)),
  };
}

/** The flat metrics an eval event carries: exact values, `ann/…`, `bm25/…` and `hybrid/…` values and failure counts. */
export function eventMetrics(entry: EvalEntry): Record<string, number> {
  const out: Record<string, number> = { ...(entry.exact ?? {}) };
  if (entry.ann) for (const [k, v] of Object.entries(entry.ann)) out[`ann/${k}`] = v;
  if (entry.bm25) for (const [k, v] of Object.entries(entry.bm25)) out[`bm25/${k}`] = v;
  if (entry.hybrid) for (const [k, v] of Object.entries(entry.hybrid)) out[`hybrid/${k}`] = v;
  out.failures = entry.failures.count;
  out.queries = entry.queries.count;
  return out;
}
