/**
 * Example and bad-line counts of the configs' data paths, for the data lenses, and the bad lines as
 * diagnostics in the data files (first 100, each message with the total). Counts come from the
 * live trainer's 'started' message for data.train, or from a background load (the core loaders,
 * streaming, no tfjs) the first time a lens asks, cached until the file's mtime or size changes.
 * Nothing here blocks the extension host: stamps, globs and folder walks are asynchronous, bounded
 * (dataLensCount.ts LENS_LIMITS) and cancelled on dispose; in Restricted Mode only regular files inside
 * the workspace are looked at (README, "Security").
 */
import * as path from 'path';
import * as vscode from 'vscode';
import type { LoadReport } from '../../core/data/types';
import { badLineProblems } from './badLineMessages';
import { countDataPath, lensStateFromTrainer, stampOf, trainerCountsReplace, uncountedNote, type LensScope, type TrainerCounts } from './dataLensCount';
import type { DataSpecOf } from './dataSpecs';
import type { DataLensState } from '../shared/lensText';

interface Entry {
  state: DataLensState;
  /** mtime:size of the path when counted ('' when unknown). */
  stamp: string;
  /** Files that got bad-line diagnostics from this entry. */
  files: string[];
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

  /** Cancels every glob, walk and count in flight (dispose, trust granted). */
  private abort = new AbortController();
  /** Entries whose path changed (stamps or watcher): counted again when a lens asks. */
  private readonly stale = new Set<string>();

  constructor(private readonly log: vscode.LogOutputChannel) {}

  /** Where lenses may look now: Restricted Mode limits them to regular files inside the workspace folders. */
  private scope(): LensScope {
    return {
      trusted: vscode.workspace.isTrusted,
      roots: (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath),
      signal: this.abort.signal,
    };
  }

  /** Trust was granted: count everything again with the wider scope. */
  resetScope(): void {
    this.abort.abort();
    this.abort = new AbortController();
    this.entries.clear();
    this.stamps.clear();
    this.changed.fire();
  }

  /** The state of one data path, starting a background count when unknown or outdated. */
  get(d: DataSpecOf): DataLensState {
    this.watch(d.absPath);
    const key = this.keyOf(d);
    const e = this.entries.get(key);
    if (e && (!this.stale.has(d.absPath) || e.state.kind === 'loading')) return e.state;
    this.stale.delete(d.absPath);
    this.entries.set(key, { state: { kind: 'loading' }, stamp: '', files: e?.files ?? [] });
    void this.count(d, key);
    return { kind: 'loading' };
  }

  /** Counts reported by the trainer for data.train (when no newer count is known); an estimate shows as one. */
  fromTrainer(d: DataSpecOf, counts: TrainerCounts): void {
    const key = this.keyOf(d);
    void (async () => {
      const scope = this.scope();
      const stamp = await stampOf(d.absPath, scope);
      const e = this.entries.get(key);
      if (!trainerCountsReplace(e?.state, e?.stamp === stamp, counts)) return;
      this.entries.set(key, { state: await lensStateFromTrainer(d, counts, scope), stamp, files: e?.files ?? [] });
      this.changed.fire();
    })().catch((err) => this.log.debug(`trainer counts of ${d.spec.label} not shown: ${(err as Error).message}`));
  }

  /**
   * Stamps of the watched paths, checked every STAMP_CHECK_MS as well: file watcher events can arrive late
   * or not at all (a busy machine, a network or container file system), and a data lens must not keep
   * counts of a file that changed. A stat per data path.
   */
  private readonly stamps = new Map<string, string>();
  /** Paths whose first stamp is being taken. */
  private readonly stamping = new Set<string>();
  private stampTimer: NodeJS.Timeout | undefined;

  /** A check is running: the next tick waits for it (a slow glob never piles up checks). */
  private checking = false;

  private async checkStamps(): Promise<void> {
    if (this.checking) return;
    this.checking = true;
    try {
      let changed = false;
      const scope = this.scope();
      for (const [p, before] of this.stamps) {
        // A path a lens does not look at, or one whose glob hit its bounds, is not globbed every 2 s: its watcher still tells.
        if (before.startsWith('!')) continue;
        const now = await stampOf(p, scope);
        if (now !== before) {
          this.stamps.set(p, now);
          this.stale.add(p);
          changed = true;
        }
      }
      if (changed) this.changed.fire();
    } catch (err) {
      if ((err as Error).name !== 'AbortError') this.log.debug(`data stamps: ${(err as Error).message}`);
    } finally {
      this.checking = false;
    }
  }

  /** Watch a data file (or BEIR folder) so edits on disk refresh its counts. */
  private watch(absPath: string): void {
    // Stamped again after resetScope cleared the stamps (trust granted): without it the path was no longer
    // polled, only watched, and an append whose watcher event came late or not at all left the lens at its old
    // count (the workspace e2e's "0 bad lines" after trust, in clean-clone runs under load).
    // One stat at a time per path: lenses asking again while it runs do not start more.
    if (!this.stamps.has(absPath) && !this.stamping.has(absPath)) {
      this.stamping.add(absPath);
      void stampOf(absPath, this.scope())
        .then(
          (s) => {
            if (!this.stamps.has(absPath)) this.stamps.set(absPath, s);
          },
          () => undefined,
        )
        .finally(() => this.stamping.delete(absPath));
    }
    if (this.watchers.has(absPath)) return;
    if (!this.stampTimer) {
      this.stampTimer = setInterval(() => void this.checkStamps(), STAMP_CHECK_MS);
      this.stampTimer.unref();
    }
    const pattern = new vscode.RelativePattern(vscode.Uri.file(path.dirname(absPath)), `${path.basename(absPath)}{,/**}`);
    const w = vscode.workspace.createFileSystemWatcher(pattern);
    let timer: NodeJS.Timeout | undefined;
    const changed = () => {
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => {
        this.stale.add(absPath);
        this.changed.fire();
      }, 300);
    };
    this.watchers.set(
      absPath,
      vscode.Disposable.from(w, w.onDidChange(changed), w.onDidCreate(changed), w.onDidDelete(changed), { dispose: () => timer && clearTimeout(timer) }),
    );
  }

  private keyOf(d: DataSpecOf): string {
    return `${d.absPath}|${d.what}|${d.spec.format}|${d.spec.split ?? ''}|${JSON.stringify(d.spec.fields ?? null)}`;
  }

  /** Counts a data path in the background (dataLensCount.ts) and publishes its bad lines. */
  private async count(d: DataSpecOf, key: string): Promise<void> {
    const t0 = Date.now();
    const scope = this.scope();
    let stamp: string;
    let counted: Awaited<ReturnType<typeof countDataPath>>;
    try {
      stamp = await stampOf(d.absPath, scope);
      const note = await uncountedNote(d, undefined, scope);
      counted = note ? { state: note, report: null, how: 'not counted' } : await countDataPath(d, undefined, scope);
    } catch (err) {
      if ((err as Error).name === 'AbortError') return; // disposed, or trust granted: counted again
      counted = { state: { kind: 'error', message: (err as Error).message }, report: null, how: 'failed' };
      stamp = '';
    }
    const { state, report, how } = counted;
    this.log.debug(`counted ${d.spec.label}: ${how} (${Date.now() - t0} ms)`);
    const current = this.entries.get(key);
    if (!current || current.state.kind !== 'loading') return; // superseded
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
    this.abort.abort();
    if (this.stampTimer) clearInterval(this.stampTimer);
    this.watchers.forEach((w) => w.dispose());
    this.diagnostics.dispose();
    this.changed.dispose();
  }
}
