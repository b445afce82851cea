/**
 * Derived run status: tells a live "running" run from one whose writer died without updating meta.json.
 */
import * as fs from 'fs';
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
 * Whether a process with this pid runs on this machine (signal 0 probe). EPERM means it exists but belongs
 * to another user, so it counts as alive. A zombie (killed, not yet reaped by its parent: /proc/<pid>/stat
 * state Z or X) answers the probe but runs no more, so it is not alive — a trainer killed under a launcher
 * that died too stays a zombie where nothing reaps orphans (a container whose PID 1 is not an init).
 * Non-positive or non-integer pids are never alive.
 */
export function isPidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
  return !isZombie(pid);
}

/** Whether /proc/<pid>/stat says the process is a zombie (Z) or dead (X); false where /proc cannot tell. */
function isZombie(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
    return state === 'Z' || state === 'X';
  } catch {
    return false;
  }
}

/** Clock ticks per second of /proc/<pid>/stat's start time (USER_HZ: 100 on every Linux architecture Node runs on). */
const USER_HZ = 100;

/** Boot time of this machine in ms since the epoch (/proc/stat btime), read once; null where unknown. */
let bootMs: number | null | undefined;
function bootTimeMs(): number | null {
  if (bootMs === undefined) {
    try {
      const m = /^btime (\d+)$/m.exec(fs.readFileSync('/proc/stat', 'utf8'));
      bootMs = m ? Number(m[1]) * 1000 : null;
    } catch {
      bootMs = null;
    }
  }
  return bootMs;
}

/**
 * When the process `pid` of this machine started, in ms since the epoch (10 ms resolution), from
 * /proc/<pid>/stat; null when unknown (no such process, not Linux). With the pid it identifies a
 * process: a pid reused by another process has a later start time.
 */
export function processStartMs(pid: number): number | null {
  if (!Number.isInteger(pid) || pid <= 0) return null;
  const boot = bootTimeMs();
  if (boot === null) return null;
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces and parentheses): state is field 3, starttime field 22.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[19]);
    return Number.isFinite(ticks) ? boot + (ticks * 1000) / USER_HZ : null;
  } catch {
    return null;
  }
}

/** Slack between a process's start and the run start it recorded (boot time and start ticks are rounded). */
const START_SLACK_MS = 2000;

/**
 * How a derived status reads for people — the one wording the CLI (`runs`, the train bar), the Runs
 * tree, the dashboard and the config lens use: the status, or for a running run whose heartbeat is
 * stale "stalled (no heartbeat for N s)".
 */
export function statusLabel(s: { status: DerivedRunStatus; heartbeatStale: boolean; heartbeatAgeMs: number | null }): string {
  if (s.status === 'running' && s.heartbeatStale) {
    return s.heartbeatAgeMs === null ? 'stalled (no valid heartbeat)' : `stalled (no heartbeat for ${Math.round(s.heartbeatAgeMs / 1000)} s)`;
  }
  return s.status;
}

/**
 * Derive the reader-facing status of a run from its meta:
 * - a final status (completed / stopped / failed) is reported as is;
 * - "running" written on this host with a pid: running if that pid is alive, else crashed; crashed too
 *   when the process with that pid started after the run did (the pid was reused: processStartMs);
 *   running but `heartbeatStale` when it is alive and silent longer than `staleMs` (stopped, hung);
 * - "running" from another host or with no pid: crashed if heartbeatAt is older than `staleMs`.
 * Where start times are unknown (not Linux), a reused pid looks alive; `heartbeatStale` flags that case.
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
    const started = processStartMs(meta.pid);
    const runStart = Date.parse(meta.startedAt);
    if (isPidAlive(meta.pid) && started !== null && !Number.isNaN(runStart) && started > runStart + START_SLACK_MS) {
      return {
        status: 'crashed',
        reason: `writer pid ${meta.pid} is now another process (started ${new Date(started).toISOString()}, after the run) (${ageText})`,
        heartbeatAgeMs,
        heartbeatStale: false,
      };
    }
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
