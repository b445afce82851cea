/**
 * The sweep result view's data from a sweep folder: sweep.json's runs summarised for one metric (the
 * sweep's own by default) — one point per swept value with each seed's run, the adaptive reference band
 * and BM25 — as plain data the Experiments webview draws (sweepViewSchema.ts).
 */
import * as path from 'path';
import { SWEEP_METRICS } from './newSweep';
import { metricOf, summarizeSweep, sweepClaim } from './summary';
import type { SweepView } from './sweepViewSchema';
import { readSweepFile } from './sweepStore';

/** The view of the sweep in `sweepDir` for `metric`; an ablation folder or an unreadable sweep.json throws. */
export function sweepViewOf(sweepDir: string, metric?: string): SweepView {
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
  const refRuns = file.runs
    .filter((r) => r.reference && r.status === 'completed' && r.runDir !== null)
    .sort((a, b) => a.seed - b.seed)
    .map((r) => ({ seed: r.seed, runDir: path.resolve(sweepDir, r.runDir as string) }));
  const bm25 = summary.bm25;
  return {
    title: `${path.basename(sweepDir)}: ${file.param}`,
    param: file.param,
    metric: m,
    metrics: SWEEP_METRICS,
    points,
    ...(ref && ref.mean !== null ? { reference: { label: 'adaptive', mean: ref.mean, std: ref.std ?? 0, n: ref.n, runs: refRuns } } : {}),
    ...(bm25 && bm25.mean !== null ? { bm25: { mean: bm25.mean } } : {}),
    ...(() => {
      const claim = sweepClaim(summary);
      return claim ? { claim } : {};
    })(),
  };
}
