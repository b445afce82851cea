/**
 * Where `retrievalLens.showSweep <sweep folder>` gets its view: the sweep folder's summary (sweep.json,
 * written by the sweep engine) mapped onto the Experiments webview's `SweepView`. The sweep engine and its
 * reader are a separate part (issue 11, sweeps); until it is wired here, a folder argument is answered with
 * this error and `retrievalLens.showSweep` takes an already-built view object instead.
 */
import type { SweepView } from '../webview/experiments/protocol';

/** The view of the sweep in `sweepDir` for `metric` (default: the sweep's own metric). */
export type SweepViewReader = (sweepDir: string, metric?: string) => SweepView | Promise<SweepView>;

let reader: SweepViewReader | null = null;

/** Installs the reader (called once at activation by whoever owns sweep.json). */
export function setSweepViewReader(r: SweepViewReader): void {
  reader = r;
}

/** Whether a reader is installed. */
export function hasSweepViewReader(): boolean {
  return reader !== null;
}

export function readSweepView(sweepDir: string, metric?: string): SweepView | Promise<SweepView> {
  if (!reader) throw new Error(`showing a sweep folder (${sweepDir}) needs the sweep.json reader, which is not wired in this build`);
  return reader(sweepDir, metric);
}
