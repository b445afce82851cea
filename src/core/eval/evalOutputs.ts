import * as fs from 'fs';
import * as path from 'path';
import { writeFileAtomicSync, writeJsonAtomicSync } from '../runs/atomicWrite';
import { decodeFailures, encodeFailures } from './failuresFile';
import type { EvalEntry, EvalMetricsFile, FailureRecord } from './types';
import { readBoundedTextSync, readJsonSync } from '../io/safeRead';

export const EVAL_DIR = 'eval';
export const METRICS_FILE = 'metrics.json';
/** Failing queries of the exact search. */
export const FAILURES_FILE = 'failures.jsonl';
/** Failing queries of the ANN (IVF-PQ) search. */
export const ANN_FAILURES_FILE = 'failures-ann.jsonl';

/** Reads eval/metrics.json; a missing file is an empty list, an unreadable one is moved aside (never overwritten). */
export function readMetricsFile(runDir: string, log?: (m: string) => void): EvalMetricsFile {
  const file = path.join(runDir, EVAL_DIR, METRICS_FILE);
  if (!fs.existsSync(file)) return { v: 1, evaluations: [] };
  try {
    const parsed = readJsonSync(file, 'metrics.json') as EvalMetricsFile;
    if (parsed.v !== 1 || !Array.isArray(parsed.evaluations)) throw new Error('not a version-1 metrics file');
    return parsed;
  } catch (e) {
    const aside = `${file}.unreadable-${Date.now()}`;
    fs.renameSync(file, aside);
    log?.(`${file} could not be read (${(e as Error).message}); kept as ${aside}, starting a new one`);
    return { v: 1, evaluations: [] };
  }
}

/** Appends one evaluation to eval/metrics.json (atomic rewrite). */
export function appendMetricsEntry(runDir: string, entry: EvalEntry, log?: (m: string) => void): string {
  fs.mkdirSync(path.join(runDir, EVAL_DIR), { recursive: true });
  const metrics = readMetricsFile(runDir, log);
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

/** Reads a failures file of format 1 or 2 (failuresFile.ts); unusable lines are skipped with their line numbers. */
export function readFailures(file: string): { failures: FailureRecord[]; badLines: number[] } {
  const d = decodeFailures(readBoundedTextSync(file, 'failures.jsonl'));
  return { failures: d.records, badLines: d.badLines.map((b) => b.line) };
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
