/**
 * Derived run status: tells a live "running" run from one whose writer died without updating meta.json.
 */
import * as os from 'os';
import type { DerivedRunStatus, RunMeta } from './eventSchema';

/** Default bound after which a heartbeat from another host (or an unknown pid) counts as stale. */
export const DEFAULT_STALE_MS = 60_000;

export interface StatusOptions {
  /** Heartbeat staleness bound in ms (default 60 s). */
  staleMs?: number;
  /** Current time (default now). */
  now?: Date;
  /** This machine's host name (default os.hostname()). */
  host?: string;
}

export interface DerivedStatus {
  status: DerivedRunStatus;
  /** Human-readable explanation of how the status was derived. */
  reason: string;
  /** now − heartbeatAt in ms (clamped at 0); null if heartbeatAt does not parse. */
  heartbeatAgeMs: number | null;
  /** True when the run is reported running but its heartbeat is older than the staleness bound (alive but silent). */
  heartbeatStale: boolean;
}

/**
 * Whether a process with this pid exists on this machine (signal 0 probe). EPERM means it exists
 * but belongs to another user, so it counts as alive. Non-positive or non-integer pids are never alive.
 */
export function isPidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/**
 * Derive the reader-facing status of a run from its meta:
 * - a final status (completed / stopped / failed) is reported as is;
 * - "running" written on this host with a pid: running if that pid is alive, else crashed;
 * - "running" from another host or with no pid: crashed if heartbeatAt is older than `staleMs`.
 * A pid reused by an unrelated process makes a dead run look alive; `heartbeatStale` flags that case.
 */
export function deriveStatus(meta: RunMeta, opts: StatusOptions = {}): DerivedStatus {
  const staleMs = opts.staleMs ?? DEFAULT_STALE_MS;
  const now = (opts.now ?? new Date()).getTime();
  const host = opts.host ?? os.hostname();
  const beat = Date.parse(meta.heartbeatAt);
  const heartbeatAgeMs = Number.isNaN(beat) ? null : Math.max(0, now - beat);
  const stale = heartbeatAgeMs === null || heartbeatAgeMs > staleMs;
  const ageText = heartbeatAgeMs === null ? 'no valid heartbeat' : `last heartbeat ${Math.round(heartbeatAgeMs / 1000)} s ago`;

  if (meta.status !== 'running') {
    return { status: meta.status, reason: `meta.json status is "${meta.status}"`, heartbeatAgeMs, heartbeatStale: false };
  }
  if (meta.host === host && meta.pid !== null && Number.isInteger(meta.pid) && meta.pid > 0) {
    if (isPidAlive(meta.pid)) {
      return { status: 'running', reason: `writer pid ${meta.pid} is alive on this host (${ageText})`, heartbeatAgeMs, heartbeatStale: stale };
    }
    return { status: 'crashed', reason: `writer pid ${meta.pid} no longer exists on this host (${ageText})`, heartbeatAgeMs, heartbeatStale: false };
  }
  const where = meta.host === host ? 'unknown pid on this host' : `host "${meta.host}"`;
  if (stale) {
    return { status: 'crashed', reason: `${where}: ${ageText}, staleness bound ${Math.round(staleMs / 1000)} s`, heartbeatAgeMs, heartbeatStale: false };
  }
  return { status: 'running', reason: `${where}: ${ageText}`, heartbeatAgeMs, heartbeatStale: false };
}
