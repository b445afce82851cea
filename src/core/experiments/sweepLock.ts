/**
 * The claim on a sweep folder: `<sweep>/sweep.lock`, created with O_EXCL (`fs.openSync(path, 'wx')`), so of
 * two processes resuming the same sweep at once exactly one gets it; the other is told who holds it.
 * The lock names its holder: `{"pid", "host", "processStart", "since"}`. A lock whose holder is gone
 * (no such pid on this host, or the pid now belongs to a process started later: a reused pid) is stale
 * and taken over with a notice; the takeover is itself claimed with O_EXCL (`sweep.lock.takeover`), so two
 * processes finding the same stale lock cannot both take it. Released when the sweep run ends (and on
 * process exit); a SIGKILLed holder leaves a stale lock, taken over by the next resume.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { isPidAlive, processStartMs } from '../runs/status';

export const SWEEP_LOCK_FILE = 'sweep.lock';
const TAKEOVER_SUFFIX = '.takeover';
/** A lock file younger than this that holds no complete JSON yet is being written by its creator. */
const FRESH_MS = 10_000;

interface LockHolder {
  pid: number;
  host: string;
  /** The holder's process start (processStartMs), ms since the epoch; null where unknown. */
  processStart: number | null;
  since: string;
}

/** A lock held by this process. */
export interface HeldLock {
  file: string;
  /** Notices for the user (a stale lock taken over). */
  notices: string[];
  /** Remove the lock if it is still this process's; safe to call twice. */
  release(): void;
}

/** Thrown when another live process holds the lock. */
export class LockBusyError extends Error {}

function me(): LockHolder {
  return { pid: process.pid, host: os.hostname(), processStart: processStartMs(process.pid), since: new Date().toISOString() };
}

/** The holder named by a lock file; null when it holds no valid holder (yet). */
function readHolder(file: string): { holder: LockHolder | null; text: string; ageMs: number } | null {
  try {
    const text = fs.readFileSync(file, 'utf8');
    const ageMs = Date.now() - fs.statSync(file).mtimeMs;
    try {
      const h = JSON.parse(text) as LockHolder;
      const ok = Number.isInteger(h?.pid) && typeof h.host === 'string';
      return { holder: ok ? h : null, text, ageMs };
    } catch {
      return { holder: null, text, ageMs };
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

/** Whether the holder still runs: same host, pid alive and (where known) the same process start. */
function holderAlive(h: LockHolder): boolean {
  if (h.host !== os.hostname()) return true; // cannot be probed from here: assume alive
  if (!isPidAlive(h.pid)) return false;
  const started = processStartMs(h.pid);
  return h.processStart === null || started === null || Math.abs(started - h.processStart) < 1000;
}

/** Create `file` with `holder` only if it does not exist; false when it does. */
function createExclusive(file: string, holder: LockHolder): boolean {
  let fd: number;
  try {
    fd = fs.openSync(file, 'wx');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
  try {
    fs.writeSync(fd, JSON.stringify(holder));
  } finally {
    fs.closeSync(fd);
  }
  return true;
}

function describe(h: LockHolder): string {
  return `process ${h.pid}${h.host !== os.hostname() ? ` on ${h.host}` : ''} (since ${h.since})`;
}

/**
 * Take the lock of `dir` (`what` names it in messages, e.g. "this sweep"); throws LockBusyError naming the
 * live holder. A stale lock is taken over and said in `notices`.
 */
export function acquireSweepLock(dir: string, what = 'this sweep'): HeldLock {
  const file = path.join(dir, SWEEP_LOCK_FILE);
  const self = me();
  const notices: string[] = [];
  for (let attempt = 0; attempt < 20; attempt++) {
    if (createExclusive(file, self)) return held(file, self, notices);
    const seen = readHolder(file);
    if (seen === null) continue; // released meanwhile: try again
    if (seen.holder && holderAlive(seen.holder)) throw new LockBusyError(`${dir}: ${what} is being run by ${describe(seen.holder)}; cancel it there first`);
    if (!seen.holder && seen.ageMs < FRESH_MS) {
      sleepMs(50); // its creator is writing it
      continue;
    }
    // Stale: take it over, one process at a time.
    const takeover = file + TAKEOVER_SUFFIX;
    if (!createExclusive(takeover, self)) {
      const other = readHolder(takeover);
      if (other?.holder && !holderAlive(other.holder)) fs.rmSync(takeover, { force: true }); // a takeover that died
      sleepMs(50);
      continue;
    }
    try {
      const again = readHolder(file);
      if (again !== null && again.text !== seen.text) continue; // changed meanwhile: look again
      if (again !== null) fs.rmSync(file, { force: true });
      if (createExclusive(file, self)) {
        notices.push(
          seen.holder
            ? `${dir}: took over the lock of ${describe(seen.holder)}, which is no longer running (${SWEEP_LOCK_FILE})`
            : `${dir}: took over an unreadable ${SWEEP_LOCK_FILE} left ${Math.round(seen.ageMs / 1000)} s ago`,
        );
        return held(file, self, notices);
      }
    } finally {
      fs.rmSync(takeover, { force: true });
    }
  }
  throw new LockBusyError(`${dir}: could not take ${SWEEP_LOCK_FILE} (it kept changing); try again`);
}

function held(file: string, self: LockHolder, notices: string[]): HeldLock {
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    process.off('exit', release);
    const now = readHolder(file);
    if (now?.holder?.pid === self.pid && now.holder.since === self.since) fs.rmSync(file, { force: true });
  };
  process.on('exit', release);
  return { file, notices, release };
}

/** Block this thread for `ms` (a short wait in a synchronous retry loop). */
function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
