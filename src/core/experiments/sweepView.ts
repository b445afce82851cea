/**
 * The sweep result view's data from a sweep folder: sweep.json's runs summarised for one metric (the
 * sweep's own by default) — one point per swept value with each seed's run, the adaptive reference band
 * and BM25 — as plain data the Experiments webview draws (its `SweepView` message has this shape).
 */
import * as path from 'path';
import { SWEEP_METRICS } from './newSweep';
import { metricOf, summarizeSweep, sweepClaim } from './summary';
import { readSweepFile } from './sweepStore';

export interface SweepViewData {
  title: string;
  param: string;
  metric: string;
  metrics: string[];
  points: { value: number; mean: number | null; std: number | null; n: number; runs: { seed: number; runDir: string; value: number | null }[] }[];
  reference?: { label: string; mean: number; std: number; n: number };
  bm25?: { mean: number };
  /** The adaptive loss against the best fixed value (summary.ts sweepClaim: no claim below 2 seeds an arm). */
  claim?: string;
}

/** The view of the sweep in `sweepDir` for `metric`; an ablation folder or an unreadable sweep.json throws. */
export function sweepViewOf(sweepDir: string, metric?: string): SweepViewData {
  const file = readSweepFile(sweepDir);
  if (file.kind !== 'sweep' || file.param === null) throw new Error(`${path.join(sweepDir, 'sweep.json')}: an ablation, not a sweep (see ablation.md)`);
  const m = metric ?? file.metric;
  const summary = summarizeSweep({ ...file, metric: m });
  const points = summary.points.map((p) => ({
    value: p.value,
    mean: p.mean,
    std: p.std,
    n: p.n,
    runs: file.runs
      .filter((r) => !r.reference && r.variant === null && r.value === p.value && r.status === 'completed' && r.runDir !== null)
      .sort((a, b) => a.seed - b.seed)
      .map((r) => ({ seed: r.seed, runDir: path.resolve(sweepDir, r.runDir as string), value: metricOf(r.result, m) })),
  }));
  const ref = summary.reference;
  const bm25 = summary.bm25;
  return {
    title: `${path.basename(sweepDir)}: ${file.param}`,
    param: file.param,
    metric: m,
    metrics: SWEEP_METRICS,
    points,
    ...(ref && ref.mean !== null ? { reference: { label: 'adaptive', mean: ref.mean, std: ref.std ?? 0, n: ref.n } } : {}),
    ...(bm25 && bm25.mean !== null ? { bm25: { mean: bm25.mean } } : {}),
    ...(() => {
      const claim = sweepClaim(summary);
      return claim ? { claim } : {};
    })(),
  };
}
