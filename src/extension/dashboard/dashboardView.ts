/**
 * The Dashboard in the Retrieval Lens sidebar (a WebviewView) and the same app as a full-size editor
 * panel ("Open Dashboard in Editor"), restored after a window reload by a panel serializer.
 */
import * as vscode from 'vscode';
import { DashboardHost, dashboardWebviewOptions, type DashboardActions } from './dashboardHost';
import type { ShownRun } from './shownRun';

export const DASHBOARD_VIEW_ID = 'retrievalLens.dashboard';
export const DASHBOARD_PANEL_TYPE = 'retrievalLens.dashboardPanel';

/** Provides the sidebar Dashboard view; its description shows the run's name. */
export class DashboardViewProvider implements vscode.WebviewViewProvider, vscode.Disposable {
  private view: vscode.WebviewView | undefined;
  private host: DashboardHost | undefined;
  private readonly subscription: vscode.Disposable;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly shown: ShownRun,
    private readonly actions: DashboardActions,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.subscription = shown.onDidChange((h) => {
      if (this.view) this.view.description = h ? h.name : undefined;
    });
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    view.webview.options = dashboardWebviewOptions(this.extensionUri);
    view.description = this.shown.header?.name;
    const host = new DashboardHost(view.webview, this.extensionUri, this.shown, this.actions, this.log, 'Retrieval Lens Dashboard');
    this.host = host;
    const visibility = view.onDidChangeVisibility(() => {
      if (!view.visible) host.suspend();
    });
    view.onDidDispose(() => {
      visibility.dispose();
      host.dispose();
      if (this.host === host) {
        this.host = undefined;
        this.view = undefined;
      }
    });
  }

  /** Reveal the view (focus the sidebar container). */
  async reveal(): Promise<void> {
    if (this.view) this.view.show(true);
    else await vscode.commands.executeCommand(`${DASHBOARD_VIEW_ID}.focus`);
  }

  dispose(): void {
    this.subscription.dispose();
    this.host?.dispose();
  }
}

/** The editor-area dashboard: one panel, revealed again if already open. */
export class DashboardPanel implements vscode.WebviewPanelSerializer, vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private host: DashboardHost | undefined;
  private readonly subscription: vscode.Disposable;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly shown: ShownRun,
    private readonly actions: DashboardActions,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.subscription = shown.onDidChange((h) => {
      if (this.panel) this.panel.title = panelTitle(h?.name);
    });
  }

  /** Open (or reveal) the panel. */
  open(column: vscode.ViewColumn = vscode.ViewColumn.Active): void {
    if (this.panel) {
      this.panel.reveal(column);
      return;
    }
    const panel = vscode.window.createWebviewPanel(
      DASHBOARD_PANEL_TYPE,
      panelTitle(this.shown.header?.name),
      column,
      dashboardWebviewOptions(this.extensionUri),
    );
    this.adopt(panel);
  }

  /** Restores the panel after a reload (the app asks for its data again with `ready`). */
  async deserializeWebviewPanel(panel: vscode.WebviewPanel): Promise<void> {
    panel.webview.options = dashboardWebviewOptions(this.extensionUri);
    if (this.panel) {
      panel.dispose();
      return;
    }
    this.adopt(panel);
  }

  private adopt(panel: vscode.WebviewPanel): void {
    this.panel = panel;
    panel.title = panelTitle(this.shown.header?.name);
    panel.iconPath = vscode.Uri.joinPath(this.extensionUri, 'media', 'icons', 'retrieval-lens.svg');
    const host = new DashboardHost(panel.webview, this.extensionUri, this.shown, this.actions, this.log, panel.title);
    this.host = host;
    const viewState = panel.onDidChangeViewState(() => {
      if (!panel.visible) host.suspend();
    });
    panel.onDidDispose(() => {
      viewState.dispose();
      host.dispose();
      if (this.panel === panel) {
        this.panel = undefined;
        this.host = undefined;
      }
    });
  }

  dispose(): void {
    this.subscription.dispose();
    this.host?.dispose();
    this.panel?.dispose();
  }
}

function panelTitle(runName: string | undefined): string {
  return runName ? `Dashboard: ${runName}` : 'Retrieval Lens Dashboard';
}
