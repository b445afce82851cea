/**
 * The small state the webview keeps with `vscode.setState` so that a reopened or reloaded view shows
 * the header and the last verdict at once, before the extension's `reset` arrives; also the UI
 * choices (smoothing, closed sections). Whatever `getState` returns is validated: a bad snapshot is
 * dropped, never trusted.
 */
import { COLLAPSE_STATES } from '../../core/metrics/collapseMonitor';
import { runHeaderProblem, type RunHeader } from './protocol';
import type { ShownVerdict } from './views/verdictBadge';
import { isPlainObject } from '../../core/jsonGuards';

export const SNAPSHOT_VERSION = 1;

export interface Snapshot {
  v: typeof SNAPSHOT_VERSION;
  run: RunHeader | null;
  verdict: ShownVerdict | null;
  /** Newest logged step shown. */
  step: number | null;
  smoothing: number;
  /** Ids of the sections the user closed. */
  closedSections: string[];
}

const isObj = isPlainObject;

/** The snapshot in `x`, or null when it is missing or not a valid snapshot. */
export function parseSnapshot(x: unknown): Snapshot | null {
  if (!isObj(x) || x.v !== SNAPSHOT_VERSION) return null;
  if (x.run !== null && runHeaderProblem(x.run) !== null) return null;
  const v = x.verdict;
  if (
    v !== null &&
    !(isObj(v) && (COLLAPSE_STATES as readonly string[]).includes(v.state as string) && typeof v.reason === 'string' && Number.isFinite(v.step))
  )
    return null;
  if (x.step !== null && !Number.isFinite(x.step)) return null;
  if (typeof x.smoothing !== 'number' || !(x.smoothing >= 0 && x.smoothing < 1)) return null;
  if (!Array.isArray(x.closedSections) || !x.closedSections.every((s) => typeof s === 'string')) return null;
  return x as unknown as Snapshot;
}
