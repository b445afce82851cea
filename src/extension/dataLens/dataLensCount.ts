/**
 * What a data lens counts for one data path of a config (a file, a glob of shards, a BEIR folder), without
 * VS Code (unit-tested with real files): small data is loaded by the core loaders (examples and bad lines,
 * a glob's files together), larger data is counted by the line index of each file (data lines; bad lines
 * are counted when training reads it).
 */
import * as fs from 'fs';
import * as path from 'path';
import { isDynamicPattern } from 'tinyglobby';
import { loadCorpus, loadExamples } from '../../core/data/load';
import { lineIndexOf } from '../../core/data/lineIndex';
import { globDataFilesBounded, isGlob } from '../../core/data/trainFiles';
import type { LoadReport } from '../../core/data/types';
import type { ExampleCountKind } from '../../core/data/exampleCount';
import type { DataSpecOf } from './dataSpecs';
import { formatBytes, type DataLensState } from '../shared/lensText';

/**
 * Larger data is not parsed in the extension host: files are counted by their line index (one
 * streaming pass, cached in `<file>.rlens-index` and shared with training), and their bad lines are
 * counted when training reads them. A BEIR folder over this size waits for the next training run.
 */
export const MAX_BACKGROUND_COUNT_BYTES = 200 * 1000 * 1000;

/**
 * Where a lens may look (README, "Security"). Trusted: anywhere. Restricted Mode (an untrusted
 * workspace): only regular files (and BEIR folders) inside the workspace folders `roots`, after
 * symbolic links are resolved. Every glob and folder walk is bounded by LENS_LIMITS and cancelled by `signal`.
 */
export interface LensScope {
  trusted: boolean;
  roots: readonly string[];
  signal?: AbortSignal;
}

/** A trusted scope (the CLI's view; tests). */
export const TRUSTED_SCOPE: LensScope = { trusted: true, roots: [] };

/** Bounds of a lens's globs and folder walks: files listed, and time. */
export const LENS_LIMITS = { maxFiles: 10_000, timeoutMs: 3_000 };

/** Thrown (and shown as the lens's error) for data a lens does not look at. */
export class NotCountedError extends Error {
  override name = 'NotCountedError';
}

/** The part of a glob before its first segment with glob syntax (the folder it walks). */
function globBase(p: string): string {
  const segs = p.split(/[\\/]/);
  const i = segs.findIndex((s) => isDynamicPattern(s));
  return segs.slice(0, i === -1 ? segs.length : i).join(path.sep) || path.sep;
}

const inside = (p: string, root: string) => {
  const rel = path.relative(root, p);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
};

/** The workspace roots of each scope with symbolic links resolved: resolved once per scope, used for every file. */
const realRootsByScope = new WeakMap<LensScope, Promise<string[]>>();
function realRoots(scope: LensScope): Promise<string[]> {
  let roots = realRootsByScope.get(scope);
  if (!roots) {
    roots = Promise.all(scope.roots.map((r) => fs.promises.realpath(r).catch(() => r)));
    realRootsByScope.set(scope, roots);
  }
  return roots;
}

/** Why `p` (a file, folder or glob base) is not looked at in `scope`; null when it may be. */
async function outOfScope(p: string, scope: LensScope, glob = false): Promise<string | null> {
  let real: string;
  let st: fs.Stats;
  try {
    real = await fs.promises.realpath(p);
    st = await fs.promises.stat(real);
  } catch {
    return null; // missing: the loaders say so
  }
  if (!st.isFile() && !st.isDirectory()) return `${p} is not a regular file (a FIFO, device or socket): not read`;
  if (scope.trusted) return null;
  const roots = await realRoots(scope);
  if (!roots.some((r) => inside(real, r))) return `${p} is outside the workspace: not read in Restricted Mode`;
  if (glob && !st.isDirectory()) return `${p} is not a folder`;
  return null;
}

/** The files a lens looks at for a data path: a glob's matches (bounded), else the path; a NotCountedError when out of scope. */
export async function lensFiles(p: string, scope: LensScope = TRUSTED_SCOPE): Promise<string[]> {
  if (!isGlob(p)) {
    const why = await outOfScope(p, scope);
    if (why) throw new NotCountedError(why);
    return [p];
  }
  const why = await outOfScope(globBase(p), scope, true);
  if (why) throw new NotCountedError(why);
  const files = await globDataFilesBounded(p, { ...LENS_LIMITS, signal: scope.signal });
  if (scope.trusted) return files;
  const kept: string[] = [];
  for (const f of files) if (!(await outOfScope(f, scope))) kept.push(f);
  return kept;
}

/** mtime:size of a file or folder, or of a glob's files ('' when missing; `!reason` when not looked at). */
export async function stampOf(p: string, scope: LensScope = TRUSTED_SCOPE): Promise<string> {
  let files: string[];
  try {
    files = await lensFiles(p, scope);
  } catch (err) {
    return `!${(err as Error).message}`;
  }
  const stamps = await Promise.all(
    files.map((f) =>
      fs.promises.stat(f).then(
        (s) => `${s.mtimeMs}:${s.size}`,
        () => '',
      ),
    ),
  );
  return stamps.join('|');
}

/**
 * Size in bytes of a data file, of a glob's files or of a BEIR folder's regular files; 0 when missing.
 * A folder walk is bounded as a glob (LENS_LIMITS): over them, Infinity (the lens leaves it to training).
 */
export async function dataBytes(p: string, scope: LensScope = TRUSTED_SCOPE): Promise<number> {
  let files: string[];
  try {
    files = await lensFiles(p, scope);
  } catch {
    return 0;
  }
  let total = 0;
  const until = Date.now() + LENS_LIMITS.timeoutMs;
  let seen = 0;
  const walk = async (f: string): Promise<void> => {
    scope.signal?.throwIfAborted();
    if (++seen > LENS_LIMITS.maxFiles || Date.now() > until)
      throw new NotCountedError(`${p}: more than ${LENS_LIMITS.maxFiles} files or ${LENS_LIMITS.timeoutMs / 1000} s to list`);
    const s = await fs.promises.lstat(f);
    if (s.isFile()) total += s.size;
    else if (s.isDirectory()) for (const name of await fs.promises.readdir(f)) await walk(path.join(f, name));
  };
  try {
    for (const f of files) {
      const s = await fs.promises.stat(f);
      if (s.isDirectory()) await walk(f);
      else if (s.isFile()) total += s.size;
    }
  } catch (err) {
    if (err instanceof NotCountedError) return Infinity;
    if ((err as Error).name === 'AbortError') throw err;
    return total;
  }
  return total;
}

/** A data path whose count is not started in the background (a BEIR folder over the limit): what its lens says instead. */
export async function uncountedNote(
  d: DataSpecOf,
  maxParseBytes = MAX_BACKGROUND_COUNT_BYTES,
  scope: LensScope = TRUSTED_SCOPE,
): Promise<DataLensState | null> {
  const bytes = await dataBytes(d.absPath, scope);
  if (bytes <= maxParseBytes || isGlob(d.absPath)) return null;
  try {
    if ((await fs.promises.stat(d.absPath)).isFile()) return null;
  } catch {
    return null;
  }
  return { kind: 'note', message: `${Number.isFinite(bytes) ? formatBytes(bytes) : 'too many files to list'}: counted when training loads it` };
}

/** The counts of one data path, and the load's report (for bad-line diagnostics) when it was loaded. */
export interface DataCount {
  state: DataLensState;
  report: LoadReport | null;
  /** How it was counted, for the log. */
  how: string;
}

/**
 * Counts a data path for its lens. Up to `maxParseBytes` (a glob: its files together) it is loaded:
 * examples (items), bad lines and the record shape, and a glob's file count; a share of bad lines over
 * data.maxBadLineShare is an error state. Larger files and globs are counted by their line indexes:
 * data lines, bytes and the number of files. Errors become an error state.
 */
export async function countDataPath(d: DataSpecOf, maxParseBytes = MAX_BACKGROUND_COUNT_BYTES, scope: LensScope = TRUSTED_SCOPE): Promise<DataCount> {
  const glob = isGlob(d.absPath);
  let files: string[];
  try {
    files = await lensFiles(d.absPath, scope);
  } catch (e) {
    return { state: { kind: 'error', message: (e as Error).message }, report: null, how: 'not counted' };
  }
  if (glob && files.length === 0) return { state: { kind: 'error', message: `no file matches ${d.absPath} (${d.spec.label})` }, report: null, how: 'failed' };
  const bytes = await dataBytes(d.absPath, scope);
  if (bytes > maxParseBytes) return countByIndex(d, files, bytes, glob, scope);
  try {
    // A glob's files as found above (bounded), not globbed again by the loader.
    const spec = glob ? { ...d.spec, path: files } : d.spec;
    const report = d.what === 'items' ? (await loadCorpus(d.spec)).report : (await loadExamples(spec)).report;
    const n = d.what === 'items' ? (report.items ?? 0) : report.examples;
    const shape = report.shape && report.shape.shape !== 'pairs' && report.shape.shape !== 'tsv-pairs' ? report.shape.name : undefined;
    let state: DataLensState = {
      kind: 'loaded',
      examples: n,
      badLines: report.badCount,
      what: d.what,
      from: 'load',
      ...(shape ? { shape } : {}),
      ...(glob ? { files: report.files ?? 1 } : {}),
    };
    const share = report.linesRead > 0 ? report.badCount / report.linesRead : 0;
    if (share > d.maxBadLineShare) {
      state = {
        kind: 'error',
        message: `${(share * 100).toFixed(1)}% bad lines > data.maxBadLineShare ${(d.maxBadLineShare * 100).toFixed(1)}%: loading will fail`,
      };
    }
    return { state, report, how: `${n} ${d.what}, ${report.badCount} bad lines${glob ? ` in ${report.files ?? 1} files` : ''}` };
  } catch (e) {
    return { state: { kind: 'error', message: (e as Error).message }, report: null, how: 'failed' };
  }
}

/**
 * Data lines of large files by their line indexes (built in one streaming pass each, or read from their caches).
 * An index is cached (beside the file) only for a file inside a workspace folder: a lens never leaves files
 * elsewhere on the machine (a trusted "/**\/*.jsonl" matches other people's folders and run folders).
 */
async function countByIndex(d: DataSpecOf, files: string[], bytes: number, glob: boolean, scope: LensScope): Promise<DataCount> {
  let lines = 0;
  let built = 0;
  const roots = await realRoots(scope);
  for (const file of files) {
    try {
      const real = await fs.promises.realpath(file).catch(() => file);
      const index = await lineIndexOf(file, { writeCache: roots.some((r) => inside(real, r)) || scope.roots.length === 0 });
      lines += index.nonBlank;
      if (!index.built.fromCache) built += 1;
    } catch (err) {
      return { state: { kind: 'error', message: `cannot read ${file}: ${(err as Error).message}` }, report: null, how: 'failed' };
    }
  }
  const state: DataLensState = { kind: 'indexed', lines, bytes, what: d.what, ...(glob ? { files: files.length } : {}) };
  return { state, report: null, how: `${lines} data lines in ${files.length} file${files.length === 1 ? '' : 's'} (${built} indexes built)` };
}

/** The counts of a trainer's 'started' message for data.train. */
export interface TrainerCounts {
  examples: number;
  badLines: number;
  count?: ExampleCountKind;
  dataLines?: number;
}

/**
 * The lens state of data.train from the trainer's counts: the pairs and bad lines when they were read
 * (exact), else — streamed data before its first epoch — its data lines by the line index, labelled as
 * such ("≈N examples (data lines of …) · bad lines counted when training reads it").
 */
/**
 * Whether a trainer's counts replace the lens's state of an unchanged file: the lens's own parse of the file
 * (exact) stays; its line-index count (data lines) gives way to exact counts from the trainer (a read epoch),
 * not to another estimate; anything else (loading, a note, an older run's counts) gives way.
 */
export function trainerCountsReplace(current: DataLensState | undefined, sameStamp: boolean, c: Pick<TrainerCounts, 'count'>): boolean {
  if (!current || !sameStamp) return true;
  if (current.kind === 'loaded' && current.from === 'load') return false;
  if (current.kind === 'indexed') return (c.count ?? 'exact') === 'exact';
  return true;
}

export async function lensStateFromTrainer(
  d: Pick<DataSpecOf, 'absPath' | 'what'>,
  c: TrainerCounts,
  scope: LensScope = TRUSTED_SCOPE,
): Promise<DataLensState> {
  const files = isGlob(d.absPath) ? { files: (await lensFiles(d.absPath, scope).catch(() => [])).length } : {};
  if ((c.count ?? 'exact') === 'exact') return { kind: 'loaded', examples: c.examples, badLines: c.badLines, what: d.what, from: 'run', ...files };
  return {
    kind: 'indexed',
    lines: c.dataLines ?? c.examples,
    bytes: await dataBytes(d.absPath, scope),
    what: d.what,
    ...files,
  };
}
