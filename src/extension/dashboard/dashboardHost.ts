/**
 * One Dashboard webview (the sidebar view or the editor panel): renders the dashboard app's page
 * with a nonce and resources limited to media/, validates every message the webview sends with
 * parseFromDashboard, and connects it to the shown run.
 */
import * as fs from 'fs';
import * as vscode from 'vscode';
import { makeNonce } from '../shared/webviewPage';
import { renderDashboardHtml } from './dashboardHtml';
import { parseFromDashboard, type FromDashboard, type PairTextRef, type ToDashboard } from '../../webview/dashboard/protocol';
import type { DashboardSink, ShownRun } from './shownRun';
import type { QualityRemedyId } from '../../core/quality/qualityVerdict';
import { saveChartExport } from './chartExport';
import type { OverlayFeeds } from './overlayFeeds';

/** What the dashboard's buttons do. */
export interface DashboardActions {
  stop(): void;
  openLog(): void;
  evaluate(): void;
  /** Apply a remedy of the quality verdict to the shown run's config. */
  qualityRemedy(id: QualityRemedyId): void;
  /** The runs overlaid on the per-step charts (absent: no overlay). */
  overlays?: OverlayFeeds;
  /** Drill-down: the texts of step-sample references of the shown run (pairTexts.ts). */
  pairTexts(refs: PairTextRef[]): Promise<(string | null)[]>;
  /** Drill-down: open a data file at a line. */
  openLine(file: string, line: number): void;
  /** Suspected false negatives: set data.maskDuplicateNegatives in the shown run's config. */
  maskDuplicateNegatives(): void;
  /** Suspected false negatives: open the duplicate groups report of the shown run's training data. */
  duplicateGroups(): void;
}

/** Webview options shared by the view and the panel: scripts on, local resources only from media/. */
export function dashboardWebviewOptions(extensionUri: vscode.Uri): vscode.WebviewOptions {
  return { enableScripts: true, localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'media')] };
}

export class DashboardHost implements DashboardSink, vscode.Disposable {
  private isReady = false;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly webview: vscode.Webview,
    private readonly extensionUri: vscode.Uri,
    private readonly shown: ShownRun,
    private readonly actions: DashboardActions,
    private readonly log: vscode.LogOutputChannel,
    title: string,
  ) {
    this.disposables.push(
      shown.attach(this),
      webview.onDidReceiveMessage((raw: unknown) => this.receive(raw)),
    );
    if (actions.overlays) this.disposables.push(actions.overlays.attach(this));
    this.render(title);
  }

  get ready(): boolean {
    return this.isReady;
  }

  /** (Re)render the page; the app posts `ready` when it has loaded. */
  render(title: string): void {
    this.isReady = false;
    const media = (...p: string[]) => vscode.Uri.joinPath(this.extensionUri, 'media', ...p);
    const codicons = media('codicons', 'codicon.css');
    this.webview.html = renderDashboardHtml({
      cspSource: this.webview.cspSource,
      nonce: makeNonce(),
      scriptUri: this.webview.asWebviewUri(media('dashboard.js')).toString(),
      styleUri: this.webview.asWebviewUri(media('dashboard.css')).toString(),
      codiconsUri: fs.existsSync(codicons.fsPath) ? this.webview.asWebviewUri(codicons).toString() : undefined,
      title,
    });
  }

  /**
   * The webview was hidden: its page is discarded (no retainContextWhenHidden), so stop sending until
   * it is shown again and the reloaded app says `ready` (and gets a fresh reset).
   */
  suspend(): void {
    this.isReady = false;
  }

  post(message: ToDashboard): void {
    void this.webview.postMessage(message).then(undefined, (e: Error) => this.log.debug(`dashboard message not delivered: ${e.message}`));
  }

  private receive(raw: unknown): void {
    const parsed = parseFromDashboard(raw);
    if (!parsed.ok) {
      this.log.warn(`ignored an invalid message from the dashboard: ${parsed.reason}`);
      return;
    }
    this.handle(parsed.value);
  }

  private handle(m: FromDashboard): void {
    switch (m.type) {
      case 'ready':
        // Other dashboards are brought up to date first; this one gets the full history, then follows.
        this.isReady = false;
        this.shown.sinkReady(this);
        this.isReady = true;
        this.actions.overlays?.sinkReady(this);
        break;
      case 'pickOverlay':
        this.actions.overlays?.pick().catch((e: Error) => this.log.error(`overlay: ${e.message}`));
        break;
      case 'stop':
        this.actions.stop();
        break;
      case 'openLog':
        this.actions.openLog();
        break;
      case 'evaluate':
        this.actions.evaluate();
        break;
      case 'qualityRemedy':
        this.actions.qualityRemedy(m.remedy);
        break;
      case 'exportChart':
        saveChartExport(m, this.shown.header?.runDir ?? null, this.log).catch((e: Error) => {
          this.log.error(`chart export failed: ${e.message}`);
          void vscode.window.showErrorMessage(`Retrieval Lens: could not save the chart: ${e.message}`);
        });
        break;
      case 'pairTexts':
        void this.actions.pairTexts(m.refs).then(
          (texts) => this.post({ type: 'pairTexts', requestId: m.requestId, texts }),
          (e: Error) => this.log.warn(`drill-down texts not read: ${e.message}`),
        );
        break;
      case 'openLine':
        this.actions.openLine(m.file, m.line);
        break;
      case 'maskDuplicateNegatives':
        this.actions.maskDuplicateNegatives();
        break;
      case 'duplicateGroups':
        this.actions.duplicateGroups();
        break;
    }
  }

  dispose(): void {
    this.isReady = false;
    this.disposables.forEach((d) => d.dispose());
  }
}
