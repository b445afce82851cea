/**
 * The sweep result view's data, as one TypeBox schema: what core/experiments/sweepView.ts builds from a sweep
 * folder and the Experiments webview's `sweep` message carries (src/webview/experiments/protocol.ts). No Node
 * import: the webview bundle includes it.
 */
import { Type, type Static } from '@sinclair/typebox';
import { NumberOrNull } from '../metrics/types';

const Num = NumberOrNull();

/**
 * A sweep's result as plain data: `metric` (one of `metrics`) at each swept value, mean ± std over the
 * seeds' runs (null when no run of that value has the metric), the adaptive loss's result as a reference
 * band and BM25 as a line.
 */
export const SweepViewSchema = Type.Object({
  /** Title, e.g. the sweep folder's name. */
  title: Type.Optional(Type.String()),
  /** The swept config key, e.g. "loss.margin". */
  param: Type.String(),
  metric: Type.String(),
  metrics: Type.Array(Type.String()),
  points: Type.Array(
    Type.Object({
      value: Type.Number(),
      mean: Num,
      std: Num,
      n: Type.Integer({ minimum: 0 }),
      runs: Type.Array(Type.Object({ seed: Type.Number(), runDir: Type.String(), value: Num })),
    }),
  ),
  reference: Type.Optional(
    Type.Object({
      label: Type.String(),
      mean: Type.Number(),
      std: Type.Number(),
      n: Type.Integer({ minimum: 0 }),
      /** The adaptive reference's completed runs (compared with the sweep's own). */
      runs: Type.Optional(Type.Array(Type.Object({ seed: Type.Number(), runDir: Type.String() }))),
    }),
  ),
  bm25: Type.Optional(Type.Object({ mean: Type.Number() })),
  /** The adaptive loss against the best fixed value, decided by the one rule of src/core/experiments/claim.ts (no claim below 2 seeds an arm). */
  claim: Type.Optional(Type.String()),
});
export type SweepView = Static<typeof SweepViewSchema>;

/** The run folders "Compare Runs" of a sweep compares: every point's runs, then the adaptive reference's. */
export function sweepRunDirs(view: SweepView): string[] {
  const dirs = [...view.points.flatMap((p) => p.runs.map((r) => r.runDir)), ...(view.reference?.runs ?? []).map((r) => r.runDir)];
  return [...new Set(dirs)];
}
