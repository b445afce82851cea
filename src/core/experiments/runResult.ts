/**
 * The result of one finished run of a sweep, read from its run folder: config.json, meta.json, the last
 * step event (collapse indicators, verdict, in-batch recall) and the latest evaluation of eval/metrics.json
 * (corpus recall of the exact search, BM25).
 */
import * as path from 'path';
import { readMetrics } from '../eval/evalOutputs';
import type { EvalEntry } from '../eval/types';
import { CONFIG_FILE } from '../runs/meta';
import { readRun } from '../runs/readRun';
import type { SweepRunResult } from './sweepFile';
import { readJsonSync } from '../io/safeRead';

/** Dense metrics kept per run (the ablation table's columns; the sweep's metric must be one of those the evaluation writes). */
const KEPT = ['recall@1', 'recall@5', 'recall@10', 'recall@50', 'recall@100', 'mrr@10', 'ndcg@10'];

const pick = (m: Record<string, number> | null | undefined): Record<string, number | null> => {
  const out: Record<string, number | null> = {};
  for (const k of KEPT) if (m && typeof m[k] === 'number') out[k] = Number.isFinite(m[k]) ? m[k] : null;
  return out;
};

/**
 * The result of the run in `runDir`. With `evaluated` (or, when absent, the latest full evaluation of
 * eval/metrics.json whose checkpoint is `checkpoint`) the metrics are the corpus ones; with
 * `source: 'in-batch'` they are the last logged step's in-batch recall. Throws when the run folder has
 * no step event (nothing to report).
 */
export function readRunResult(runDir: string, source: 'corpus' | 'in-batch', code: SweepRunResult['code'], evaluated?: EvalEntry | null): SweepRunResult {
  const run = readRun(runDir);
  const last = run.lastStep;
  if (!last) throw new Error(`${runDir}: no logged step in events.jsonl`);
  let config: Record<string, unknown>;
  try {
    config = readJsonSync(path.join(runDir, CONFIG_FILE), 'config.json') as Record<string, unknown>;
  } catch (e) {
    throw new Error(`${path.join(runDir, CONFIG_FILE)}: cannot be read: ${(e as Error).message}`, { cause: e });
  }
  const meta = run.meta;
  const started = meta ? Date.parse(meta.startedAt) : NaN;
  const ended = meta?.endedAt ? Date.parse(meta.endedAt) : NaN;
  const c = last.diagnostics.collapse;
  const num = (x: number | null | undefined) => (typeof x === 'number' && Number.isFinite(x) ? x : null);
  const base = {
    step: run.step,
    ratio: num(c.ratio),
    violationRate: num(c.violationRate),
    itemCosine: num(c.itemCosine),
    verdict: last.verdict.state,
    verdictReason: last.verdict.reason,
    trainingMs: Number.isFinite(started) && Number.isFinite(ended) ? ended - started : null,
    backend: meta?.backend ?? 'unknown',
    config,
    code,
  };
  if (source === 'in-batch') {
    const r = last.diagnostics.recall;
    return { source, metrics: { 'recall@1': num(r.at1), 'recall@5': num(r.at5), 'recall@10': num(r.at10) }, bm25: null, checkpoint: null, ...base };
  }
  const entry =
    evaluated ??
    readMetrics(runDir)
      .evaluations.filter((e) => !e.queries.subset)
      .pop();
  if (!entry) throw new Error(`${runDir}: no evaluation in eval/metrics.json`);
  return { source, metrics: pick(entry.exact ?? entry.ann), bm25: entry.bm25 ? pick(entry.bm25) : null, checkpoint: entry.checkpoint, ...base };
}
