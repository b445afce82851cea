/**
 * Run folder naming and creation: `<root>/<YYYYMMDD-HHMMSS>-<slug>[-N]/` with the time in UTC.
 */
import * as fs from 'fs';
import * as path from 'path';
import { RunFileError } from './writeError';

/** Longest slug kept from an experiment name. */
export const MAX_SLUG_LENGTH = 60;
/** Highest -N suffix tried before giving up. */
const MAX_SUFFIX = 9999;

/**
 * Slug of an experiment name: ASCII lowercase letters, digits and single dashes, at most 60 chars;
 * accents are stripped ("Évaluation" → "evaluation"), anything else becomes a dash; "run" if empty.
 */
export function slugify(name: string): string {
  const slug = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, MAX_SLUG_LENGTH)
    .replace(/-+$/g, '');
  return slug === '' ? 'run' : slug;
}

/** UTC time stamp `YYYYMMDD-HHMMSS` of a date. */
export function formatRunTime(date: Date): string {
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  return (
    `${p(date.getUTCFullYear(), 4)}${p(date.getUTCMonth() + 1)}${p(date.getUTCDate())}-` +
    `${p(date.getUTCHours())}${p(date.getUTCMinutes())}${p(date.getUTCSeconds())}`
  );
}

/** Parts of a run folder name. */
export interface RunFolderName {
  /** Start time (second precision, UTC). */
  time: Date;
  /** Slug including any -N suffix (the two cannot be told apart reliably: "exp-2" is a valid slug). */
  slug: string;
}

const RUN_FOLDER_RE = /^(\d{4})(\d{2})(\d{2})-(\d{2})(\d{2})(\d{2})-([a-z0-9-]+)$/;

/** Parse a run folder name (basename); null if it does not follow `YYYYMMDD-HHMMSS-<slug>`. */
export function parseRunFolderName(folderName: string): RunFolderName | null {
  const m = RUN_FOLDER_RE.exec(folderName);
  if (!m) return null;
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number);
  const time = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  if (Number.isNaN(time.getTime()) || time.getUTCDate() !== d || time.getUTCMonth() !== mo - 1) return null;
  return { time, slug: m[7] };
}

/**
 * Create the runs folder `absRoot` and its missing parents one level at a time (not with
 * `mkdir -p`, which never returns for some paths, e.g. under /proc), failing at once with a
 * RunFileError naming the folder when it cannot be created or a parent is not a folder.
 */
export function ensureRunsRoot(absRoot: string): void {
  ensureFolder(absRoot, 'create runs folder');
}

/**
 * Create the folder `absRoot` and its missing parents one level at a time (see ensureRunsRoot), each
 * failure a RunFileError `cannot <action> <absRoot>: <system error>` (a read-only mount says EROFS, where
 * a recursive mkdir says ENOENT).
 */
export function ensureFolder(absRoot: string, action: string): void {
  const missing: string[] = [];
  let p = absRoot;
  for (;;) {
    let st: fs.Stats | undefined;
    try {
      st = fs.statSync(p);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw new RunFileError(absRoot, action, err);
    }
    if (st) {
      if (!st.isDirectory()) throw new RunFileError(absRoot, action, { code: 'ENOTDIR', message: `${p} is not a folder` });
      break;
    }
    missing.push(p);
    const parent = path.dirname(p);
    if (parent === p) break;
    p = parent;
  }
  for (const dir of missing.reverse()) {
    try {
      fs.mkdirSync(dir);
    } catch (err) {
      const exists = (err as NodeJS.ErrnoException).code === 'EEXIST' && fs.statSync(dir, { throwIfNoEntry: false })?.isDirectory();
      if (!exists) throw new RunFileError(absRoot, action, err);
    }
  }
}

/**
 * Create a new, empty run folder `<root>/<YYYYMMDD-HHMMSS>-<slug>` (UTC time of `now`), adding
 * -2, -3, … if that name is taken. `root` is created if missing. Creation uses a non-recursive
 * mkdir, so two processes starting at the same second still get distinct folders.
 * Returns the absolute path of the created folder.
 */
export function createRunDir(root: string, name: string, now: Date = new Date()): string {
  const absRoot = path.resolve(root);
  ensureRunsRoot(absRoot);
  const base = `${formatRunTime(now)}-${slugify(name)}`;
  for (let n = 1; n <= MAX_SUFFIX; n++) {
    const dir = path.join(absRoot, n === 1 ? base : `${base}-${n}`);
    try {
      fs.mkdirSync(dir);
      return dir;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new RunFileError(dir, 'create run folder', err);
    }
  }
  throw new Error(`createRunDir: too many runs named ${base} in ${absRoot}`);
}
