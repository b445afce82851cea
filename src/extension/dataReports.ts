/**
 * Example and bad-line counts of the configs' data paths, for the data lenses, and the bad lines as
 * diagnostics in the data files (first 100, each message with the total). Counts come from the
 * live trainer's 'started' message for data.train, or from a background load (the core loaders,
 * streaming, no tfjs) the first time a lens asks, cached until the file's mtime or size changes.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { loadCorpus, loadExamples } from '../core/data/load';
import { INDEX_SUFFIX, lineIndexOf } from '../core/data/lineIndex';
import { isGlob } from '../core/data/trainFiles';
import { globSync } from 'tinyglobby';
import type { LoadReport } from '../core/data/types';
import { badLineProblems } from './badLineMessages';
import type { DataSpecOf } from './dataSpecs';
import { formatBytes, type DataLensState } from './lensText';

/**
 * Larger data files are not parsed in the extension host: they are counted by their line index (one
 * streaming pass, cached in `<file>.rlens-index` and shared with training), and their bad lines are
 * counted when training reads them. A BEIR folder over this size waits for the next training run.
 */
export const MAX_BACKGROUND_COUNT_BYTES = 200 * 1000 * 1000;

interface Entry {
  state: DataLensState;
  /** mtime:size of the path when counted ('' when unknown). */
  stamp: string;
  /** Files that got bad-line diagnostics from this entry. */
  files: string[];
}

/** The data files a glob in data.train matches (as training reads them), sorted; none when it is invalid. */
function globMatches(p: string): string[] {
  try {
    return globSync(p.replace(/\\/g, '/'), { absolute: true, onlyFiles: true, expandDirectories: false })
      .filter((f) => !f.endsWith(INDEX_SUFFIX))
      .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  } catch {
    return [];
  }
}

/** mtime:size of a file or folder, or of a glob's files ('' when missing). */
function stampOf(p: string): string {
  if (isGlob(p)) return globMatches(p).map(stampOf).join('|');
  try {
    const s = fs.statSync(p);
    return `${s.mtimeMs}:${s.size}`;
  } catch {
    return '';
  }
}

/** Size in bytes of a data file, or of a BEIR folder's files; 0 when missing. */
function dataBytes(p: string): number {
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

/** How often the data paths' stamps are checked besides the file watcher (ms). */
const STAMP_CHECK_MS = 2_000;

export class DataReports implements vscode.Disposable {
  private readonly entries = new Map<string, Entry>();
  private readonly diagnostics = vscode.languages.createDiagnosticCollection('retrievalLens.data');
  private readonly changed = new vscode.EventEmitter<void>();
  /** Bad lines per data file, merged over the entries that reported them. */
  private readonly problemsByFile = new Map<string, Map<string, vscode.Diagnostic[]>>();
  /** One watcher per data path: a change makes the lenses ask again, which recounts. */
  private readonly watchers = new Map<string, vscode.Disposable>();
  readonly onDidChange = this.changed.event;

  constructor(private readonly log: vscode.LogOutputChannel) {}

  /** The state of one data path, starting a background count when unknown or outdated. */
  get(d: DataSpecOf): DataLensState {
    this.watch(d.absPath);
    const key = this.keyOf(d);
    const stamp = stampOf(d.absPath);
    const e = this.entries.get(key);
    if (e && (e.stamp === stamp || e.state.kind === 'loading')) return e.state;
    const bytes = dataBytes(d.absPath);
    if (bytes > MAX_BACKGROUND_COUNT_BYTES && !isGlob(d.absPath) && fs.statSync(d.absPath).isFile()) {
      this.entries.set(key, { state: { kind: 'loading' }, stamp, files: e?.files ?? [] });
      void this.countLines(d, key, stamp, bytes);
      return { kind: 'loading' };
    }
    if (bytes > MAX_BACKGROUND_COUNT_BYTES) {
      const state: DataLensState = { kind: 'note', message: `${formatBytes(bytes)}: counted when training loads it` };
      this.entries.set(key, { state, stamp, files: e?.files ?? [] });
      return state;
    }
    this.entries.set(key, { state: { kind: 'loading' }, stamp, files: e?.files ?? [] });
    void this.count(d, key, stamp);
    return { kind: 'loading' };
  }

  /** Counts reported by the trainer for data.train (when no newer count is known). */
  fromTrainer(d: DataSpecOf, examples: number, badLines: number): void {
    const key = this.keyOf(d);
    const e = this.entries.get(key);
    if ((e?.state.kind === 'indexed' || (e?.state.kind === 'loaded' && e.state.from === 'load')) && e.stamp === stampOf(d.absPath)) return;
    this.entries.set(key, { state: { kind: 'loaded', examples, badLines, what: d.what, from: 'run' }, stamp: stampOf(d.absPath), files: e?.files ?? [] });
    this.changed.fire();
  }

  /**
   * Stamps of the watched paths, checked every STAMP_CHECK_MS as well: file watcher events can arrive late
   * or not at all (a busy machine, a network or container file system), and a data lens must not keep
   * counts of a file that changed. A stat per data path.
   */
  private readonly stamps = new Map<string, string>();
  private stampTimer: NodeJS.Timeout | undefined;

  private checkStamps(): void {
    let changed = false;
    for (const [p, before] of this.stamps) {
      const now = stampOf(p);
      if (now !== before) {
        this.stamps.set(p, now);
        changed = true;
      }
    }
    if (changed) this.changed.fire();
  }

  /** Watch a data file (or BEIR folder) so edits on disk refresh its counts. */
  private watch(absPath: string): void {
    if (this.watchers.has(absPath)) return;
    this.stamps.set(absPath, stampOf(absPath));
    if (!this.stampTimer) {
      this.stampTimer = setInterval(() => this.checkStamps(), STAMP_CHECK_MS);
      this.stampTimer.unref();
    }
    const pattern = new vscode.RelativePattern(vscode.Uri.file(path.dirname(absPath)), `${path.basename(absPath)}{,/**}`);
    const w = vscode.workspace.createFileSystemWatcher(pattern);
    let timer: NodeJS.Timeout | undefined;
    const changed = () => {
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => this.changed.fire(), 300);
    };
    this.watchers.set(
      absPath,
      vscode.Disposable.from(w, w.onDidChange(changed), w.onDidCreate(changed), w.onDidDelete(changed), { dispose: () => timer && clearTimeout(timer) }),
    );
  }

  private keyOf(d: DataSpecOf): string {
    return `${d.absPath}|${d.what}|${d.spec.format}|${d.spec.split ?? ''}|${JSON.stringify(d.spec.fields ?? null)}`;
  }

  /** Counts a large file's data lines with its line index (built in one streaming pass, or read from its cache). */
  private async countLines(d: DataSpecOf, key: string, stamp: string, bytes: number): Promise<void> {
    let state: DataLensState;
    try {
      const index = await lineIndexOf(d.absPath);
      state = { kind: 'indexed', lines: index.nonBlank, bytes, what: d.what };
      this.log.debug(`indexed ${d.spec.label}: ${index.nonBlank} data lines (${index.built.fromCache ? 'cached index' : `${Math.round(index.built.ms)} ms`})`);
    } catch (err) {
      state = { kind: 'error', message: `cannot read ${d.absPath}: ${(err as Error).message}` };
    }
    const current = this.entries.get(key);
    if (!current || current.stamp !== stamp) return; // superseded
    this.clearBadLines(key);
    this.entries.set(key, { state, stamp, files: [] });
    this.changed.fire();
  }

  private async count(d: DataSpecOf, key: string, stamp: string): Promise<void> {
    let state: DataLensState;
    let report: LoadReport | null = null;
    const t0 = Date.now();
    try {
      report = d.what === 'items' ? (await loadCorpus(d.spec)).report : (await loadExamples(d.spec)).report;
      const n = d.what === 'items' ? (report.items ?? 0) : report.examples;
      const shape = report.shape && report.shape.shape !== 'pairs' && report.shape.shape !== 'tsv-pairs' ? report.shape.name : undefined;
      state = { kind: 'loaded', examples: n, badLines: report.badCount, what: d.what, from: 'load', ...(shape ? { shape } : {}) };
      const share = report.linesRead > 0 ? report.badCount / report.linesRead : 0;
      if (share > d.maxBadLineShare) {
        state = {
          kind: 'error',
          message: `${(share * 100).toFixed(1)}% bad lines > data.maxBadLineShare ${(d.maxBadLineShare * 100).toFixed(1)}%: loading will fail`,
        };
      }
      this.log.debug(`counted ${d.spec.label}: ${n} ${d.what}, ${report.badCount} bad lines (${Date.now() - t0} ms)`);
    } catch (e) {
      state = { kind: 'error', message: (e as Error).message };
    }
    const current = this.entries.get(key);
    if (!current || current.stamp !== stamp) return; // superseded
    const files = report ? this.publishBadLines(key, report) : [];
    if (!report) this.clearBadLines(key);
    this.entries.set(key, { state, stamp, files });
    this.changed.fire();
  }

  /** Show a load's bad lines in their files. */
  private publishBadLines(key: string, report: LoadReport): string[] {
    this.clearBadLines(key);
    const byFile = badLineProblems(report.badLines, report.badCount);
    for (const [file, problems] of byFile) {
      const diags = problems.map((p) => {
        const diag = new vscode.Diagnostic(new vscode.Range(p.line, 0, p.line, Number.MAX_SAFE_INTEGER), p.message, vscode.DiagnosticSeverity.Warning);
        diag.source = 'Retrieval Lens';
        return diag;
      });
      const perEntry = this.problemsByFile.get(file) ?? new Map<string, vscode.Diagnostic[]>();
      perEntry.set(key, diags);
      this.problemsByFile.set(file, perEntry);
      this.diagnostics.set(vscode.Uri.file(file), [...perEntry.values()].flat());
    }
    return [...byFile.keys()];
  }

  private clearBadLines(key: string): void {
    for (const [file, perEntry] of this.problemsByFile) {
      if (!perEntry.delete(key)) continue;
      const rest = [...perEntry.values()].flat();
      if (rest.length) this.diagnostics.set(vscode.Uri.file(file), rest);
      else {
        this.diagnostics.delete(vscode.Uri.file(file));
        this.problemsByFile.delete(file);
      }
    }
  }

  dispose(): void {
    if (this.stampTimer) clearInterval(this.stampTimer);
    this.watchers.forEach((w) => w.dispose());
    this.diagnostics.dispose();
    this.changed.dispose();
  }
}
