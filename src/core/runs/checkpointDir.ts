/**
 * Crash-safe replacement of a whole folder (used for checkpoints/last and checkpoints/best).
 *
 * Write protocol for `<final>`:
 *   1. recover leftovers of an earlier interrupted write (see recoverDirAtomically);
 *   2. create `<final>.tmp-<pid>-<random>` and let the caller write into it; fsync its files;
 *   3. rename `<final>` → `<final>.old` (if `<final>` exists);
 *   4. rename `<final>.tmp-…` → `<final>`;
 *   5. remove `<final>.old`.
 * A crash at any moment leaves a complete old or new folder at `<final>`, or — between 3 and 4 —
 * a complete old folder at `<final>.old`, which recovery puts back.
 */
import * as fs from 'fs';
import * as path from 'path';
import { fsyncDirSync } from './atomicWrite';
import { isPidAlive } from './status';
import { RunFileError } from './writeError';

/** Suffix of the previous version during a swap. */
export const OLD_SUFFIX = '.old';
/** Infix of temp folders: `<final>.tmp-<pid>-<random>`. */
export const TMP_INFIX = '.tmp-';

/** What recovery did, for logging. */
export interface RecoveryAction {
  action: 'restored-old' | 'removed-old' | 'removed-tmp';
  path: string;
}

function exists(p: string): boolean {
  return fs.existsSync(p);
}

/** Temp folders left next to `finalDir` by interrupted writes. */
function tempSiblings(finalDir: string): string[] {
  const parent = path.dirname(finalDir);
  const prefix = path.basename(finalDir) + TMP_INFIX;
  let names: string[];
  try {
    names = fs.readdirSync(parent);
  } catch {
    return [];
  }
  return names.filter((n) => n.startsWith(prefix)).map((n) => path.join(parent, n));
}

/**
 * Clean up after an interrupted writeDirAtomically of `finalDir` (call on startup; writeDirAtomically
 * also calls it first). Rules:
 * - `<final>` exists: any `<final>.old` and `<final>.tmp-*` are leftovers → removed;
 * - `<final>` missing but `<final>.old` exists (crash between the two renames): `.old` is renamed
 *   back to `<final>` (the previous complete version wins; the newer temp folder is discarded);
 * - temp folders are always removed: one may be incomplete and nothing marks which are complete.
 * Assumes no other process is writing `finalDir` at the same time.
 */
export function recoverDirAtomically(finalDir: string): RecoveryAction[] {
  const actions: RecoveryAction[] = [];
  const old = finalDir + OLD_SUFFIX;
  if (exists(old)) {
    if (exists(finalDir)) {
      fs.rmSync(old, { recursive: true, force: true });
      actions.push({ action: 'removed-old', path: old });
    } else {
      fs.renameSync(old, finalDir);
      actions.push({ action: 'restored-old', path: old });
    }
  }
  for (const tmp of tempSiblings(finalDir)) {
    fs.rmSync(tmp, { recursive: true, force: true });
    actions.push({ action: 'removed-tmp', path: tmp });
  }
  return actions;
}

/** A temp folder `<final>.tmp-<pid>-<random>` left in a run's checkpoints folder, with its writer's pid. */
export interface LeftoverTempDir {
  path: string;
  /** The pid in its name; null when the name holds none. */
  pid: number | null;
  /** Whether that pid is alive on this machine (a write in progress); false when unknown. */
  writerAlive: boolean;
}

/**
 * The temp folders of `checkpointsDir` (`last.tmp-*`, `best.tmp-*`): a writer killed during a checkpoint
 * write (SIGKILL) leaves one behind. Read-only; see removeDeadTempDirs.
 */
export function leftoverTempDirs(checkpointsDir: string): LeftoverTempDir[] {
  let names: string[];
  try {
    names = fs.readdirSync(checkpointsDir);
  } catch {
    return [];
  }
  return names
    .filter((n) => n.includes(TMP_INFIX))
    .map((n) => {
      const m = /\.tmp-(\d+)-/.exec(n);
      const pid = m ? Number(m[1]) : null;
      return { path: path.join(checkpointsDir, n), pid, writerAlive: pid !== null && isPidAlive(pid) };
    });
}

/**
 * Remove the temp folders of `checkpointsDir` whose writer is dead (leftoverTempDirs): safe while another
 * process writes the run, since a live writer's temp folder is kept. Only writers of a run call it (the
 * next evaluation of the run, which writes its eval/ and index caches); readers only report them
 * (readRun with checkLines). Returns the folders removed.
 */
export function removeDeadTempDirs(checkpointsDir: string): string[] {
  const removed: string[] = [];
  for (const t of leftoverTempDirs(checkpointsDir)) {
    if (t.writerAlive || t.pid === null) continue;
    fs.rmSync(t.path, { recursive: true, force: true });
    removed.push(t.path);
  }
  return removed;
}

/** fsync every regular file under `dir` and the folders themselves (best effort; durability against power loss). */
function fsyncTree(dir: string): void {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) fsyncTree(p);
    else if (entry.isFile()) {
      let fd: number | undefined;
      try {
        fd = fs.openSync(p, 'r+');
        fs.fsyncSync(fd);
      } catch {
        // best effort
      } finally {
        if (fd !== undefined) fs.closeSync(fd);
      }
    }
  }
  fsyncDirSync(dir);
}

/** Rename that retries briefly on Windows sharing violations (a file inside still held open). */
async function renameWithRetry(from: string, to: string): Promise<void> {
  const deadline = Date.now() + 2000;
  for (let delay = 10; ; delay = Math.min(delay * 2, 200)) {
    try {
      await fs.promises.rename(from, to);
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? '';
      const transient = process.platform === 'win32' && ['EPERM', 'EACCES', 'EBUSY'].includes(code);
      if (!transient || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}

/**
 * Replace the folder `finalDir` atomically with what `writeInto(tmpDir)` writes into an empty
 * sibling temp folder. If `writeInto` throws (or rejects), the temp folder is removed, the previous
 * `finalDir` is left untouched, and the error is rethrown. The parent folder is created if missing.
 */
export async function writeDirAtomically(finalDir: string, writeInto: (tmpDir: string) => Promise<void>): Promise<void> {
  const final = path.resolve(finalDir);
  fs.mkdirSync(path.dirname(final), { recursive: true });
  recoverDirAtomically(final);
  const tmp = `${final}${TMP_INFIX}${process.pid}-${Math.floor(Math.random() * 0x100000000).toString(16)}`;
  fs.mkdirSync(tmp);
  try {
    await writeInto(tmp);
    fsyncTree(tmp);
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    // Name the checkpoint: Node's message for a failed write (ENOSPC, …) names no file.
    if (typeof (err as NodeJS.ErrnoException).code === 'string' && !(err instanceof RunFileError)) throw new RunFileError(final, 'write checkpoint', err);
    throw err;
  }
  const old = final + OLD_SUFFIX;
  const hadFinal = exists(final);
  if (hadFinal) await renameWithRetry(final, old);
  try {
    await renameWithRetry(tmp, final);
  } catch (err) {
    // Put the previous version back right away rather than waiting for recovery.
    if (hadFinal) fs.renameSync(old, final);
    fs.rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
  fsyncDirSync(path.dirname(final));
  if (hadFinal) fs.rmSync(old, { recursive: true, force: true });
}
