/**
 * What a data lens counts for one data path of a config (a file, a glob of shards, a BEIR folder), without
 * VS Code (unit-tested with real files): small data is loaded by the core loaders (examples and bad lines,
 * a glob's files together), larger data is counted by the line index of each file (data lines; bad lines
 * are counted when training reads it).
 */
import * as fs from 'fs';
import * as path from 'path';
import { loadCorpus, loadExamples } from '../../core/data/load';
import { lineIndexOf } from '../../core/data/lineIndex';
import { globDataFiles, isGlob } from '../../core/data/trainFiles';
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

/** The data files a glob in data.train matches (as training reads them), sorted; none when it is invalid. */
export function globMatches(p: string): string[] {
  try {
    return globDataFiles(p);
  } catch {
    return [];
  }
}

/** mtime:size of a file or folder, or of a glob's files ('' when missing). */
export function stampOf(p: string): string {
  if (isGlob(p)) return globMatches(p).map(stampOf).join('|');
  try {
    const s = fs.statSync(p);
    return `${s.mtimeMs}:${s.size}`;
  } catch {
    return '';
  }
}

/** Size in bytes of a data file, of a glob's files or of a BEIR folder's files; 0 when missing. */
export function dataBytes(p: string): number {
  if (isGlob(p)) return globMatches(p).reduce((n, f) => n + dataBytes(f), 0);
  try {
    const s = fs.statSync(p);
    if (!s.isDirectory()) return s.size;
    return fs
      .readdirSync(p, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .reduce((n, e) => n + fs.statSync(path.join(e.parentPath ?? p, e.name)).size, 0);
  } catch {
    return 0;
  }
}

/** A data path whose count is not started in the background (a BEIR folder over the limit): what its lens says instead. */
export function uncountedNote(d: DataSpecOf, maxParseBytes = MAX_BACKGROUND_COUNT_BYTES): DataLensState | null {
  const bytes = dataBytes(d.absPath);
  if (bytes <= maxParseBytes || isGlob(d.absPath)) return null;
  try {
    if (fs.statSync(d.absPath).isFile()) return null;
  } catch {
    return null;
  }
  return { kind: 'note', message: `${formatBytes(bytes)}: counted when training loads it` };
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
export async function countDataPath(d: DataSpecOf, maxParseBytes = MAX_BACKGROUND_COUNT_BYTES): Promise<DataCount> {
  const glob = isGlob(d.absPath);
  const bytes = dataBytes(d.absPath);
  if (bytes > maxParseBytes) return countByIndex(d, glob ? globMatches(d.absPath) : [d.absPath], bytes, glob);
  try {
    const report = d.what === 'items' ? (await loadCorpus(d.spec)).report : (await loadExamples(d.spec)).report;
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

/** Data lines of large files by their line indexes (built in one streaming pass each, or read from their caches). */
async function countByIndex(d: DataSpecOf, files: string[], bytes: number, glob: boolean): Promise<DataCount> {
  let lines = 0;
  let built = 0;
  for (const file of files) {
    try {
      const index = await lineIndexOf(file);
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

export function lensStateFromTrainer(d: Pick<DataSpecOf, 'absPath' | 'what'>, c: TrainerCounts): DataLensState {
  const files = isGlob(d.absPath) ? { files: globMatches(d.absPath).length } : {};
  if ((c.count ?? 'exact') === 'exact') return { kind: 'loaded', examples: c.examples, badLines: c.badLines, what: d.what, from: 'run', ...files };
  return {
    kind: 'indexed',
    lines: c.dataLines ?? c.examples,
    bytes: dataBytes(d.absPath),
    what: d.what,
    ...files,
  };
}
