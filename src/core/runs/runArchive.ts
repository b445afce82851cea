/**
 * Archiving and deleting a run folder. Archive moves `<runs>/<id>` to `<runs>/.archive/<id>` (a hidden
 * folder: listRuns skips it, so archived runs leave the Runs tree and `retrieval-lens runs` but nothing
 * is lost; move the folder back to restore it). Delete removes the folder. Both refuse a folder that is no
 * run (no meta.json and no events.jsonl) and a run whose writer is alive on this host. Restore moves an
 * archived run back (`<runs>/.archive/<id>` → `<runs>/<id>`, refused when that name is taken). The Runs
 * tree's commands and `retrieval-lens runs archive|restore|delete` both use these functions.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { EVENTS_FILE, META_FILE, readMeta } from './meta';
import { isPidAlive } from './status';
import { ensureFolder } from './runDir';

/** The archive folder inside a runs folder. */
export const ARCHIVE_DIR = '.archive';

/** Throws unless `dir` is a run folder whose writer is not running on this host. */
function requireIdleRun(dir: string, action: string): void {
  if (!fs.existsSync(path.join(dir, META_FILE)) && !fs.existsSync(path.join(dir, EVENTS_FILE)))
    throw new Error(`cannot ${action} ${dir}: not a run folder (no ${META_FILE} or ${EVENTS_FILE})`);
  const read = readMeta(dir);
  const m = read.ok ? read.meta : null;
  if (m && m.status === 'running' && m.host === os.hostname() && m.pid !== null && isPidAlive(m.pid))
    throw new Error(`cannot ${action} ${dir}: the run is still training (process ${m.pid}); stop it first`);
}

/** Move a run folder into `<its runs folder>/.archive/` (a free name: -2, -3 … when taken); returns the new path. */
export function archiveRun(dir: string): string {
  const abs = path.resolve(dir);
  if (isArchivedRunDir(abs)) throw new Error(`cannot archive ${abs}: it is archived already`);
  requireIdleRun(abs, 'archive');
  const archive = path.join(path.dirname(abs), ARCHIVE_DIR);
  ensureFolder(archive, 'create archive folder');
  const base = path.basename(abs);
  for (let n = 1; n < 10_000; n++) {
    const target = path.join(archive, n === 1 ? base : `${base}-${n}`);
    if (fs.existsSync(target)) continue;
    fs.renameSync(abs, target);
    return target;
  }
  throw new Error(`cannot archive ${abs}: too many archived runs named ${base}`);
}

/** Delete a run folder and everything in it (checkpoints hard-linked from other runs stay in those runs). */
export function deleteRun(dir: string): void {
  const abs = path.resolve(dir);
  requireIdleRun(abs, 'delete');
  fs.rmSync(abs, { recursive: true, force: false });
}

/** Whether `dir` is inside an archive folder (`<runs>/.archive/<id>`). */
export function isArchivedRunDir(dir: string): boolean {
  return path.basename(path.dirname(path.resolve(dir))) === ARCHIVE_DIR;
}

/**
 * Move an archived run (`<runs>/.archive/<id>`) back to `<runs>/<id>`; returns the new path. Refuses a folder
 * that is not in an archive folder or is no run, and a target name that is taken (nothing is moved then).
 */
export function restoreRun(archivedDir: string): string {
  const abs = path.resolve(archivedDir);
  if (!isArchivedRunDir(abs)) throw new Error(`cannot restore ${abs}: not an archived run (archived runs are in <runs folder>/${ARCHIVE_DIR}/)`);
  requireIdleRun(abs, 'restore');
  const target = path.join(path.dirname(path.dirname(abs)), path.basename(abs));
  if (fs.existsSync(target)) throw new Error(`cannot restore ${abs}: ${target} exists (rename or archive that one first)`);
  fs.renameSync(abs, target);
  return target;
}
