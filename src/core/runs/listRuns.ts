/**
 * listRuns: every run folder under a runs root, newest first.
 */
import * as fs from 'fs';
import * as path from 'path';
import { hasMeta, readRun, type ReadRunOptions, type RunSummary } from './readRun';

/** Sort key of a summary: start time in ms (meta, else folder name), -Infinity when unknown. */
function startMs(s: RunSummary): number {
  const t = s.startedAt === null ? NaN : Date.parse(s.startedAt);
  return Number.isNaN(t) ? -Infinity : t;
}

/**
 * Summaries of the run folders directly under `root`, newest first (by start time, then folder name
 * descending so "-2" comes before the run it collided with). Entries that are not folders, hidden
 * folders and folders without meta.json are skipped; folders with a damaged meta.json are listed
 * with status "unknown". A missing root gives []. Never throws for the contents of `root`.
 */
export function listRuns(root: string, opts: ReadRunOptions = {}): RunSummary[] {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(root, { withFileTypes: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    throw err;
  }
  const runs: RunSummary[] = [];
  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue;
    const dir = path.resolve(root, entry.name);
    try {
      if (!fs.statSync(dir).isDirectory() || !hasMeta(dir)) continue;
      runs.push(readRun(dir, opts));
    } catch {
      // Vanished or unreadable entry: skip it.
    }
  }
  return runs.sort((a, b) => startMs(b) - startMs(a) || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
}
