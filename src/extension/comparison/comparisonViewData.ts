/**
 * The run comparison (src/core/experiments/compareRuns.ts) as the Experiments webview's `compare` view:
 * config values as display text, at most MAX_ROWS rows of the failing-query diff. No `vscode` import.
 */
import type { RunComparison } from '../../core/experiments/compareRuns';
import type { ComparisonView } from '../../webview/experiments/protocol';

/** Failing-query diff rows sent to the view (the rest are counted in `rowsLeftOut`). */
export const MAX_ROWS = 2000;

export function toComparisonView(c: RunComparison): ComparisonView {
  return {
    runs: c.runs.map((r) => ({
      id: r.id,
      name: r.name,
      dir: r.dir,
      status: r.status,
      step: r.step,
      totalSteps: r.totalSteps,
      backend: r.backend,
      problems: r.problems,
    })),
    configDifferences: c.configDifferences.map((d) => ({
      path: d.path,
      values: d.values.map((v) => (v === undefined ? '(absent)' : typeof v === 'string' ? v : JSON.stringify(v))),
    })),
    metrics: c.metrics,
    series: c.runs.map((r) => r.series),
    failures: { ...c.failures, rows: c.failures.rows.slice(0, MAX_ROWS), rowsLeftOut: Math.max(0, c.failures.rows.length - MAX_ROWS) },
    notes: c.notes,
  };
}
