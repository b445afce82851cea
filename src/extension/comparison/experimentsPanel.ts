/**
 * The Experiments panels (webview app media/experiments.js): "Compare Runs" (the run comparison of
 * src/core/experiments/compareRuns.ts) and the sweep result view (`showSweepView`, from an already-built
 * SweepView). Each panel answers the webview's `ready` with its view; a failing query's click opens its data
 * file at the line (as the Failing Queries view does), a run's name shows it in the dashboard, the sweep's
 * metric selector asks the view's `rebuild` for the view of that metric, its "Compare Runs" button compares
 * the sweep's runs.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { compareRuns } from '../../core/experiments/compareRuns';
import { toComparisonView } from './comparisonViewData';
import { makeNonce } from '../shared/webviewPage';
import { renderExperimentsHtml } from './experimentsHtml';
import { parseFromExperiments, type SweepView, type ToExperiments } from '../../webview/experiments/protocol';

export const COMPARE_PANEL_TYPE = 'retrievalLens.compareRuns';
export const SWEEP_PANEL_TYPE = 'retrievalLens.sweep';

/** Builds the sweep view for another metric (the sweep's reader); absent: the metric cannot be changed. */
export type SweepRebuild = (metric: string) => SweepView | Promise<SweepView>;

/** One webview panel of the Experiments app: keeps the last view and re-sends it on `ready`. */
class ExperimentsPanel {
  readonly panel: vscode.WebviewPanel;
  private view: ToExperiments | null = null;
  onSelectMetric: ((metric: string) => void) | null = null;
  onRefresh: (() => void) | null = null;

  /** `adopted`: a panel VS Code restored after a reload (its serializer), else a new one is created. */
  constructor(
    type: string,
    title: string,
    extensionUri: vscode.Uri,
    private readonly log: vscode.LogOutputChannel,
    onDispose: () => void,
    adopted?: vscode.WebviewPanel,
  ) {
    const media = vscode.Uri.joinPath(extensionUri, 'media');
    const options = { enableScripts: true, localResourceRoots: [media], retainContextWhenHidden: false };
    this.panel = adopted ?? vscode.window.createWebviewPanel(type, title, vscode.ViewColumn.Active, options);
    if (adopted) adopted.webview.options = options;
    const w = this.panel.webview;
    w.html = renderExperimentsHtml({
      cspSource: w.cspSource,
      nonce: makeNonce(),
      scriptUri: w.asWebviewUri(vscode.Uri.joinPath(media, 'experiments.js')).toString(),
      dashboardStyleUri: w.asWebviewUri(vscode.Uri.joinPath(media, 'dashboard.css')).toString(),
      styleUri: w.asWebviewUri(vscode.Uri.joinPath(media, 'experiments.css')).toString(),
      title,
    });
    w.onDidReceiveMessage((raw) => void this.onMessage(raw));
    this.panel.onDidDispose(onDispose);
  }

  show(title: string, view: ToExperiments, reveal = true): void {
    this.panel.title = title;
    this.view = view;
    void this.panel.webview.postMessage(view);
    if (reveal) this.panel.reveal();
  }

  private async onMessage(raw: unknown): Promise<void> {
    const r = parseFromExperiments(raw);
    if (!r.ok) return void this.log.warn(`experiments webview: ignored a malformed message (${r.reason})`);
    const m = r.value;
    if (m.type === 'ready') {
      if (this.view) void this.panel.webview.postMessage(this.view);
    } else if (m.type === 'openRun') {
      await vscode.commands.executeCommand('retrievalLens.openRun', m.dir);
    } else if (m.type === 'refresh') {
      this.onRefresh?.();
    } else if (m.type === 'compareRuns') {
      await vscode.commands.executeCommand('retrievalLens.compareRuns', m.dirs);
    } else if (m.type === 'selectMetric') {
      this.onSelectMetric?.(m.metric);
    } else {
      await openDataLine(m.file, m.line);
    }
  }
}

/** Opens a data file at a 1-based line, selected and revealed, in the first editor column. */
export async function openDataLine(file: string, line: number): Promise<void> {
  if (!fs.existsSync(file)) {
    void vscode.window.showErrorMessage(`Retrieval Lens: ${file} no longer exists (the query was on line ${line}).`);
    return;
  }
  const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(file));
  const at = Math.min(Math.max(0, line - 1), doc.lineCount - 1);
  const range = doc.lineAt(at).range;
  const editor = await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.One, selection: range, preview: true });
  editor.revealRange(range, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
}

export class ExperimentsPanels implements vscode.Disposable, vscode.WebviewPanelSerializer {
  private compare: ExperimentsPanel | null = null;
  private sweep: ExperimentsPanel | null = null;
  /** Follows the compared runs' files while the comparison is open (live updates). */
  private watch: { timer: NodeJS.Timeout; dirs: string[]; stamp: string } | null = null;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  /**
   * Restores "Compare Runs" after a window reload: the webview saved the compared run folders in its state
   * (`{ compare: [dir, …] }`); folders that are gone are left out, and with fewer than two the panel closes.
   */
  async deserializeWebviewPanel(panel: vscode.WebviewPanel, state: unknown): Promise<void> {
    const dirs = comparedDirsOf(state).filter(isRunFolder);
    if (this.compare || dirs.length < 2) {
      panel.dispose();
      return;
    }
    this.compare = new ExperimentsPanel(COMPARE_PANEL_TYPE, 'Compare Runs', this.extensionUri, this.log, () => this.closeComparison(), panel);
    try {
      this.showComparison(dirs, false);
    } catch (e) {
      this.log.warn(`restoring the comparison of ${dirs.join(' ')}: ${(e as Error).message}`);
      panel.dispose();
    }
  }

  /** Compares the run folders (two or more) in the "Compare Runs" panel; it then updates as the runs' files change. */
  showComparison(runDirs: readonly string[], reveal = true): void {
    const started = Date.now();
    const comparison = compareRuns(runDirs);
    const view = toComparisonView(comparison);
    this.log.info(
      `compared ${runDirs.length} runs in ${Date.now() - started} ms: ${view.configDifferences.length} config keys differ, ${comparison.failures.rows.length} queries fail in some runs only`,
    );
    this.compare ??= new ExperimentsPanel(COMPARE_PANEL_TYPE, 'Compare Runs', this.extensionUri, this.log, () => this.closeComparison());
    this.compare.show(`Compare: ${comparison.runs.map((r) => r.name).join(' · ')}`, { type: 'compare', view }, reveal);
    const dirs = [...runDirs];
    this.follow(dirs);
    this.compare.onRefresh = () => {
      try {
        this.showComparison(dirs);
      } catch (e) {
        void vscode.window.showErrorMessage(`Retrieval Lens: cannot compare the runs again: ${(e as Error).message}`);
      }
    };
  }

  /** Shows a sweep's result; `rebuild` answers the metric selector (without it only `view.metric` is offered). */
  showSweepView(view: SweepView, rebuild?: SweepRebuild): void {
    this.sweep ??= new ExperimentsPanel(SWEEP_PANEL_TYPE, 'Sweep', this.extensionUri, this.log, () => (this.sweep = null));
    const panel = this.sweep;
    const shown = rebuild ? view : { ...view, metrics: [view.metric] };
    panel.show(view.title ?? `Sweep: ${view.param}`, { type: 'sweep', view: shown });
    panel.onSelectMetric = rebuild
      ? (metric) =>
          void Promise.resolve()
            .then(() => rebuild(metric))
            .then(
              (next) => panel.show(next.title ?? `Sweep: ${next.param}`, { type: 'sweep', view: next }),
              (e: Error) => void vscode.window.showErrorMessage(`Retrieval Lens: cannot show ${metric} of the sweep: ${e.message}`),
            )
      : null;
  }

  /** Polls the compared runs' files; a change (a new step, an evaluation, a status) recomputes the comparison. */
  private follow(dirs: string[]): void {
    if (this.watch) clearInterval(this.watch.timer);
    const watch = { dirs, stamp: runFilesStamp(dirs), timer: setInterval(() => this.poll(), COMPARE_POLL_MS) };
    this.watch = watch;
  }

  private poll(): void {
    const w = this.watch;
    if (!w || !this.compare) return;
    const stamp = runFilesStamp(w.dirs);
    if (stamp === w.stamp) return;
    w.stamp = stamp;
    try {
      this.showComparison(w.dirs, false);
    } catch (e) {
      this.log.warn(`comparison update: ${(e as Error).message}`);
    }
  }

  private closeComparison(): void {
    this.compare = null;
    if (this.watch) clearInterval(this.watch.timer);
    this.watch = null;
  }

  dispose(): void {
    if (this.watch) clearInterval(this.watch.timer);
    this.compare?.panel.dispose();
    this.sweep?.panel.dispose();
  }
}

/** How often the open comparison checks its runs' files (ms). */
const COMPARE_POLL_MS = 2000;

/** The files a comparison reads, as size and modification time per run folder: a change means recompute. */
function runFilesStamp(dirs: readonly string[]): string {
  const parts: string[] = [];
  for (const d of dirs) {
    for (const f of ['events.jsonl', 'meta.json', 'metrics.json', 'failures.jsonl']) {
      try {
        const st = fs.statSync(path.join(d, f));
        parts.push(`${st.size}:${st.mtimeMs}`);
      } catch {
        parts.push('-');
      }
    }
  }
  return parts.join('|');
}

/** The run folders a restored comparison's webview state names (`{ compare: string[] }`), else none. */
export function comparedDirsOf(state: unknown): string[] {
  const dirs = (state as { compare?: unknown } | null)?.compare;
  return Array.isArray(dirs) ? dirs.filter((d): d is string => typeof d === 'string' && path.isAbsolute(d)).slice(0, 50) : [];
}

/** The run folder a path names (a meta.json or events.jsonl inside), else null. */
export function isRunFolder(dir: string): boolean {
  return fs.existsSync(path.join(dir, 'meta.json')) || fs.existsSync(path.join(dir, 'events.jsonl'));
}
