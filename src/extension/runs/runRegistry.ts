/**
 * The runs of the workspace: finds the experiment configs (`**\/*.rlens.json`), their runs folders
 * (`output.runsDir`) plus the folders of the `retrievalLens.runsFolders` setting, lists the runs with
 * listRuns, and keeps the list fresh with FileSystemWatchers (and a slow poll while a run is running,
 * since a crashed writer leaves no file event). Sets the `retrievalLens.hasExperiment` context key.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { listRuns, type RunSummary } from '../../core/runs';
import { ARCHIVE_DIR } from '../../core/runs/runArchive';
import { CONFIG_EXCLUDE_GLOB, CONFIG_GLOB, runsRootOf, samePath } from '../configEditor/experimentFiles';
import { readBoundedTextSync } from '../../core/io/safeRead';
import { readRunUser, type RunUser } from '../../core/runs/runUser';
import { groupRuns, type ConfigGroup, type SweepRef } from '../../core/runs/runGroups';
import { listSweeps, sweepsRootOf } from '../../core/experiments/sweepStore';

/** A folder holding run folders, and the config it belongs to (null for a folder from the setting). */
export interface RunsRoot {
  dir: string;
  configPath: string | null;
  /** Label for the tree: the experiment name, or the folder. */
  label: string;
}

/** Files whose changes re-list the runs. */
const WATCHED_RUN_FILES = 'meta.json,metrics.json,failures.jsonl,failures-ann.jsonl,user.json,sweep.json';
/** How often running runs are re-read for crash detection, ms. */
const RUNNING_POLL_MS = 5000;
/** How often the runs folders are checked for a new run while none is running (ms). */
const IDLE_POLL_MS = 3000;
/**
 * Bytes of each events.jsonl read backwards when listing (readRun's scanBytes): enough for the last
 * step and a recent eval event, without reading megabytes per run on every refresh.
 */
const LIST_SCAN_BYTES = 256 * 1024;
/** Coalesce bursts of file events. */
const REFRESH_DEBOUNCE_MS = 300;

export class RunRegistry implements vscode.Disposable {
  private configs: string[] = [];
  private roots: RunsRoot[] = [];
  private runs = new Map<string, RunSummary[]>();
  /** user.json of each listed run (by folder); a damaged file is its message. */
  private users = new Map<string, { user: RunUser | null; problem: string | null }>();
  private sweeps: SweepRef[] = [];
  private rootWatchers: vscode.Disposable[] = [];
  private readonly disposables: vscode.Disposable[] = [];
  private readonly changed = new vscode.EventEmitter<void>();
  private readonly appeared = new vscode.EventEmitter<RunSummary>();
  private refreshTimer: NodeJS.Timeout | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private scanned = false;
  private listedOnce = false;
  private scanning: Promise<void> | undefined;

  /** The list of configs, roots or runs changed. */
  readonly onDidChange = this.changed.event;
  /** A run folder that was not there at the previous listing appeared (started by anyone). */
  readonly onDidAddRun = this.appeared.event;

  constructor() {
    const configWatcher = vscode.workspace.createFileSystemWatcher(CONFIG_GLOB);
    const rescan = () => void this.rescan();
    // Run files inside the workspace (one watcher for every runs folder, also those not created yet).
    const runFiles = vscode.workspace.createFileSystemWatcher(`**/{${WATCHED_RUN_FILES}}`);
    const runFileChanged = (uri: vscode.Uri) => this.isUnderRoot(uri.fsPath) && this.refreshSoon();
    runFiles.onDidCreate(runFileChanged, undefined, this.disposables);
    runFiles.onDidChange(runFileChanged, undefined, this.disposables);
    runFiles.onDidDelete(runFileChanged, undefined, this.disposables);
    this.disposables.push(runFiles);
    configWatcher.onDidCreate(rescan, undefined, this.disposables);
    configWatcher.onDidDelete(rescan, undefined, this.disposables);
    configWatcher.onDidChange(rescan, undefined, this.disposables);
    this.disposables.push(
      configWatcher,
      vscode.workspace.onDidChangeWorkspaceFolders(rescan),
      vscode.workspace.onDidChangeConfiguration((e) => e.affectsConfiguration('retrievalLens.runsFolders') && rescan()),
    );
  }

  /** Experiment configs found in the workspace (absolute paths, sorted). */
  get configPaths(): readonly string[] {
    return this.configs;
  }

  get runsRoots(): readonly RunsRoot[] {
    return this.roots;
  }

  /** Runs of one root, newest first. */
  runsOf(root: RunsRoot): readonly RunSummary[] {
    return this.runs.get(root.dir) ?? [];
  }

  /** Every run, newest first. */
  allRuns(): RunSummary[] {
    const all = [...this.runs.values()].flat();
    const t = (s: RunSummary) => (s.startedAt ? Date.parse(s.startedAt) || 0 : 0);
    return all.sort((a, b) => t(b) - t(a));
  }

  /** The run in `dir`, if listed. */
  find(dir: string): RunSummary | undefined {
    return this.allRuns().find((r) => samePath(r.dir, dir));
  }

  /** Runs started from `configPath`, newest first (by meta.configPath, else by the config's runs folder). */
  runsOfConfig(configPath: string): RunSummary[] {
    const root = this.roots.find((r) => samePath(r.configPath, configPath));
    return this.allRuns().filter((r) => (r.meta?.configPath ? samePath(r.meta.configPath, configPath) : !!root && samePath(path.dirname(r.dir), root.dir)));
  }

  /** Archived runs (`<runs folder>/.archive/`, core/runs/runArchive.ts) of every runs folder, newest first; read on each call. */
  archivedRuns(): RunSummary[] {
    return this.roots.flatMap((root) => {
      try {
        return listRuns(path.join(root.dir, ARCHIVE_DIR), { scanBytes: LIST_SCAN_BYTES });
      } catch {
        return [];
      }
    });
  }

  /** The user.json of a listed run: its display name, note and tags (null when damaged; see userProblem). */
  userOf(dir: string): RunUser | null {
    return this.users.get(path.resolve(dir))?.user ?? null;
  }

  /** Why a listed run's user.json is unusable, or null. */
  userProblem(dir: string): string | null {
    return this.users.get(path.resolve(dir))?.problem ?? null;
  }

  /**
   * The runs by the config recorded in each run (meta.json configPath) and by sweep (core/runs/runGroups.ts):
   * every config of the workspace, then the runs of no known config.
   */
  groups(): ConfigGroup[] {
    return groupRuns(this.allRuns(), this.configs, this.sweeps);
  }

  /** Scan once (first use); later calls wait for the same scan. */
  ensureScanned(): Promise<void> {
    if (this.scanned) return Promise.resolve();
    return this.rescan();
  }

  /** Find configs and roots again, then re-list runs. */
  rescan(): Promise<void> {
    if (this.scanning) return this.scanning;
    this.scanning = (async () => {
      try {
        const uris = await vscode.workspace.findFiles(CONFIG_GLOB, CONFIG_EXCLUDE_GLOB, 500);
        this.configs = uris.map((u) => u.fsPath).sort();
        this.roots = this.computeRoots();
        this.watchRoots();
        this.scanned = true;
        void vscode.commands.executeCommand('setContext', 'retrievalLens.hasExperiment', this.configs.length > 0);
        void vscode.commands.executeCommand('setContext', 'retrievalLens.scanned', true);
        this.relist();
      } finally {
        this.scanning = undefined;
      }
    })();
    return this.scanning;
  }

  /**
   * Re-list the runs now, from disk, for a decision that must not rest on file events still in flight (▷ Train
   * asking whether the config is training elsewhere: a run the CLI started a moment ago).
   */
  relistNow(): void {
    if (this.refreshTimer) {
      clearTimeout(this.refreshTimer);
      this.refreshTimer = undefined;
    }
    this.relist();
  }

  /** Re-list the runs soon (coalescing bursts of file events). */
  refreshSoon(): void {
    if (this.refreshTimer) return;
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = undefined;
      this.relist();
    }, REFRESH_DEBOUNCE_MS);
  }

  private computeRoots(): RunsRoot[] {
    const roots: RunsRoot[] = [];
    const add = (r: RunsRoot) => {
      if (!roots.some((x) => samePath(x.dir, r.dir))) roots.push(r);
    };
    for (const configPath of this.configs) {
      try {
        const text = readBoundedTextSync(configPath, 'experiment config');
        const dir = runsRootOf(configPath, text);
        add({ dir, configPath, label: path.basename(configPath) });
      } catch {
        // Unreadable config: no runs folder.
      }
    }
    const folders = vscode.workspace.workspaceFolders ?? [];
    const extra = vscode.workspace.getConfiguration('retrievalLens').get<string[]>('runsFolders', []);
    for (const p of extra) {
      const dirs = path.isAbsolute(p) ? [p] : folders.map((f) => path.join(f.uri.fsPath, p));
      for (const dir of dirs) add({ dir: path.resolve(dir), configPath: null, label: p });
    }
    return roots;
  }

  /** Whether a file lies inside one of the runs folders. */
  private isUnderRoot(file: string): boolean {
    return this.roots.some((r) => {
      const rel = path.relative(r.dir, file);
      return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
    });
  }

  /** Runs folders outside the workspace folders get their own watchers. */
  private watchRoots(): void {
    this.rootWatchers.forEach((d) => d.dispose());
    this.rootWatchers = [];
    const inWorkspace = (dir: string) => !!vscode.workspace.getWorkspaceFolder(vscode.Uri.file(dir));
    for (const root of this.roots.filter((r) => !inWorkspace(r.dir))) {
      const w = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(root.dir), `**/{${WATCHED_RUN_FILES}}`));
      const refresh = () => this.refreshSoon();
      this.rootWatchers.push(w, w.onDidCreate(refresh), w.onDidChange(refresh), w.onDidDelete(refresh));
    }
  }

  private relist(): void {
    const before = new Set(this.allRuns().map((r) => r.dir));
    const firstListing = !this.listedOnce;
    this.listedOnce = true;
    const next = new Map<string, RunSummary[]>();
    for (const root of this.roots) {
      try {
        next.set(root.dir, listRuns(root.dir, { scanBytes: LIST_SCAN_BYTES }));
      } catch {
        next.set(root.dir, []);
      }
    }
    this.runs = next;
    this.users = new Map();
    for (const r of this.allRuns()) {
      const read = readRunUser(r.dir);
      this.users.set(path.resolve(r.dir), read.ok ? { user: read.user, problem: null } : { user: null, problem: read.message });
    }
    this.sweeps = this.readSweeps();
    this.changed.fire();
    if (!firstListing) {
      for (const r of this.allRuns()) if (!before.has(r.dir)) this.appeared.fire(r);
    }
    this.schedulePoll();
  }

  /** The sweeps and ablations of the workspace's configs, with their run folders (attempts included). */
  private readSweeps(): SweepRef[] {
    const out: SweepRef[] = [];
    for (const root of new Set(this.configs.map(sweepsRootOf))) {
      for (const { dir, file } of listSweeps(root)) {
        const runDirs = file.runs.flatMap((r) => [r.runDir, ...r.previousRunDirs]).flatMap((d) => (d ? [path.resolve(dir, d)] : []));
        const configPath = path.resolve(dir, file.configPath);
        out.push({ dir, name: file.name, kind: file.kind, configPath, runDirs });
      }
    }
    return out;
  }

  /**
   * While a run is running, the list is re-read every RUNNING_POLL_MS. Otherwise the runs folders are
   * checked every IDLE_POLL_MS for a new run folder or meta.json (a readdir and a stat per folder) and
   * re-listed when one appeared: the file watcher's events can come late or not at all on a busy machine
   * or a synced folder, and a run started elsewhere must still be followed.
   */
  private schedulePoll(): void {
    if (this.pollTimer) clearTimeout(this.pollTimer);
    this.pollTimer = undefined;
    const running = this.allRuns().some((r) => r.status === 'running');
    const listed = this.rootsStamp();
    const tick = () => {
      this.pollTimer = undefined;
      if (running || this.rootsStamp() !== listed) this.relist();
      else this.pollTimer = setTimeout(tick, IDLE_POLL_MS);
    };
    this.pollTimer = setTimeout(tick, running ? RUNNING_POLL_MS : IDLE_POLL_MS);
  }

  /** Run folders of every root with their meta.json's mtime: changes when a run appears or its meta is written. */
  private rootsStamp(): string {
    const parts: string[] = [];
    for (const root of this.roots) {
      let names: string[];
      try {
        names = fs.readdirSync(root.dir).sort();
      } catch {
        continue;
      }
      for (const name of names) {
        let mtime = '-';
        try {
          mtime = String(fs.statSync(path.join(root.dir, name, 'meta.json')).mtimeMs);
        } catch {
          // not a run folder (yet)
        }
        parts.push(`${root.dir}/${name}:${mtime}`);
      }
    }
    return parts.join('|');
  }

  dispose(): void {
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    if (this.pollTimer) clearTimeout(this.pollTimer);
    this.rootWatchers.forEach((d) => d.dispose());
    this.disposables.forEach((d) => d.dispose());
    this.changed.dispose();
    this.appeared.dispose();
  }
}
