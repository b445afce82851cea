/**
 * The data audit in VS Code (issue 25): "Retrieval Lens: Audit Training Data" runs the audit of an experiment's
 * training data (src/core/data/audit/auditData.ts, streamed, the readers training uses) in a trainer process
 * (src/trainer/client.ts `startDataAudit`), under a progress notification that shows the lines read and cancels it;
 * its findings show as a count line in the data lens above `data.train` and in the Data Audit view, one node per
 * finding with the lines behind it, each opening its data file at that line. Results are kept per config for the
 * window's life, until the next audit of that config (an audit is not re-run when the data changes: run it again).
 */
import * as vscode from 'vscode';
import type { AuditReport } from '../../core/data/audit/auditData';
import { startDataAudit, type TrainerHandle } from '../../trainer/client';
import { requireTrust } from '../shared/workspaceTrust';
import { AUDIT_ICONS, auditLensTitle, auditNodes, auditProgressText, auditRootLabel, type AuditNode } from './auditNodes';
import { AUDIT_TITLES } from '../../core/data/audit/auditor';

export const AUDIT_VIEW_ID = 'retrievalLens.audit';
export const AUDIT_COMMAND = 'retrievalLens.auditTrainingData';

/** A tree node; `id`s are stable across refreshes (the config path, then child positions), so a redraw keeps the expansion. */
type Node = { kind: 'root'; configPath: string; report: AuditReport } | { kind: 'node'; id: string; node: AuditNode; icon?: string };

/** The audits run in this window, newest per config; the lens and the view read them. */
export class AuditResults implements vscode.Disposable {
  private readonly reports = new Map<string, AuditReport>();
  /** The audit jobs running, per config. */
  private readonly running = new Map<string, TrainerHandle>();
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;

  get(configPath: string): AuditReport | undefined {
    return this.reports.get(configPath);
  }

  isRunning(configPath: string): boolean {
    return this.running.has(configPath);
  }

  all(): [string, AuditReport][] {
    return [...this.reports.entries()];
  }

  /**
   * Audits `configPath` in a trainer process (startDataAudit; once at a time per config), its lines read shown
   * through `progress`. Resolves with the report; or undefined: cancelled through `token` (the job is stopped,
   * killed if it has not ended {@link KILL_AFTER_MS} later, and nothing is kept) or failed (the reason shown).
   */
  run(
    configPath: string,
    log: vscode.LogOutputChannel,
    progress?: vscode.Progress<{ message?: string }>,
    token?: vscode.CancellationToken,
  ): Promise<AuditReport | undefined> {
    if (this.running.has(configPath)) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      let report: AuditReport | undefined;
      let failed: string | undefined;
      let finished = false;
      const finish = (value: AuditReport | undefined): void => {
        if (finished) return;
        finished = true;
        cancel?.dispose();
        this.running.delete(configPath);
        if (value) this.reports.set(configPath, value);
        this.changed.fire();
        resolve(value);
      };
      const handle = startDataAudit(
        { configPath, overrides: [] },
        (m) => {
          if (m.type === 'auditProgress') progress?.report({ message: auditProgressText(m) });
          else if (m.type === 'audited') report = m.report;
          else if (m.type === 'error') failed = m.message;
          else if (m.type === 'log') log.info(m.message);
        },
        {
          onInvalid: (reason) => log.warn(`ignored an invalid audit message: ${reason}`),
          onOutput: (chunk, stream) => {
            for (const line of chunk.split('\n')) if (line.trim() !== '') log.info(`[audit ${stream}] ${line.trimEnd()}`);
          },
        },
      );
      this.running.set(configPath, handle);
      this.changed.fire();
      const cancel = token?.onCancellationRequested(() => {
        log.info(`data audit of ${configPath} cancelled`);
        stopJob(handle);
        finish(undefined);
      });
      void handle.done.then((done) => {
        if (finished) return;
        if (report && done?.status === 'completed') {
          log.info(`data audit of ${configPath}: ${report.findings.length} findings over ${report.pairs} pairs (${report.ms} ms)`);
          return finish(report);
        }
        const why =
          failed ?? (done ? `the audit ended as ${done.status}` : (handle.failure?.message.split('\n')[0] ?? 'the audit process exited unexpectedly'));
        if (!done && handle.failure) log.error(handle.failure.message);
        void vscode.window.showWarningMessage(`Retrieval Lens: the training data could not be audited: ${why}`);
        finish(undefined);
      });
    });
  }

  /** Closing the window: running audits are stopped (killed if they do not end), their reports dropped. */
  dispose(): void {
    for (const handle of this.running.values()) stopJob(handle);
    this.running.clear();
    this.changed.dispose();
  }
}

/** How long a stopped audit job may take to end before it is killed (it checks the stop between records). */
const KILL_AFTER_MS = 5000;

/** Stops an audit job; kills it if it has not ended KILL_AFTER_MS later (an audit writes nothing: a kill loses nothing). */
function stopJob(handle: TrainerHandle): void {
  handle.stop();
  const timer = setTimeout(() => handle.kill(), KILL_AFTER_MS);
  void handle.done.then(() => clearTimeout(timer));
}

export class AuditTreeProvider implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly sub: vscode.Disposable;

  constructor(private readonly results: AuditResults) {
    this.sub = results.onDidChange(() => this.changed.fire(undefined));
  }

  /** The root nodes last handed to VS Code, per config (TreeView.reveal needs the element it was given). */
  private roots = new Map<string, Node>();

  getChildren(parent?: Node): Node[] {
    if (!parent) {
      const roots = this.results.all().map(([configPath, report]): Node & { kind: 'root' } => ({ kind: 'root', configPath, report }));
      this.roots = new Map(roots.map((r) => [r.configPath, r]));
      return roots;
    }
    if (parent.kind === 'root') {
      const kinds = parent.report.findings.map((f) => f.kind);
      return auditNodes(parent.configPath, parent.report).map((node, i) => ({
        kind: 'node',
        id: `${parent.configPath}#${i}`,
        node,
        icon: kinds[i] ? AUDIT_ICONS[kinds[i]] : undefined,
      }));
    }
    return (parent.node.children ?? []).map((node, j) => ({ kind: 'node', id: `${parent.id}/${j}`, node }));
  }

  /** Only roots are revealed (their parent is the view); a finding's parent is not needed. */
  getParent(): Node | undefined {
    return undefined;
  }

  /**
   * Shows the view with `configPath`'s audit, expanded, without moving the focus or the selection: the user stays
   * in the config they audited, its lens counting the findings (the view's `.focus` command, used before, moved
   * the keyboard into the tree, onto the row selected last).
   */
  async reveal(view: vscode.TreeView<Node>, configPath: string): Promise<void> {
    if (!this.roots.has(configPath)) this.getChildren(); // sets this.roots
    const root = this.roots.get(configPath);
    if (root) await view.reveal(root, { select: false, focus: false, expand: true });
  }

  getTreeItem(n: Node): vscode.TreeItem {
    if (n.kind === 'root') {
      const { label, description } = auditRootLabel(n.configPath, n.report);
      const item = new vscode.TreeItem(label, vscode.TreeItemCollapsibleState.Expanded);
      item.id = n.configPath;
      item.description = description;
      item.tooltip = n.configPath;
      item.iconPath = new vscode.ThemeIcon('checklist');
      item.contextValue = 'auditRoot';
      return item;
    }
    const { node } = n;
    // Findings start collapsed: their counts fit the view at a glance, their lines one click away.
    const item = new vscode.TreeItem(node.label, node.children?.length ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None);
    item.id = n.id;
    item.description = node.description;
    item.tooltip = node.tooltip;
    if (n.icon) item.iconPath = new vscode.ThemeIcon(n.icon);
    if (node.location) {
      const pos = new vscode.Position(node.location.line - 1, 0);
      item.command = {
        title: 'Open the line',
        command: 'vscode.open',
        arguments: [vscode.Uri.file(node.location.file), { selection: new vscode.Range(pos, pos), preview: true }],
      };
    }
    return item;
  }

  dispose(): void {
    this.sub.dispose();
    this.changed.dispose();
  }
}

/** The audit's line in the data lens above data.train: its findings, "auditing…", or the action (trusted workspaces). */
export function auditCodeLens(results: AuditResults, configPath: string, range: vscode.Range): vscode.CodeLens | null {
  if (results.isRunning(configPath)) return new vscode.CodeLens(range, { title: '$(loading~spin) auditing the training data…', command: '' });
  const report = results.get(configPath);
  if (report) {
    return new vscode.CodeLens(range, {
      title: auditLensTitle(report),
      command: `${AUDIT_VIEW_ID}.focus`,
      tooltip: report.findings.map((f) => `${f.count} ${AUDIT_TITLES[f.kind]}`).join('\n') || 'nothing found',
    });
  }
  if (!vscode.workspace.isTrusted) return null;
  return new vscode.CodeLens(range, {
    title: '$(checklist) Audit training data',
    command: AUDIT_COMMAND,
    arguments: [vscode.Uri.file(configPath)],
    tooltip: 'Duplicate pairs, shared positives, texts under several ids, truncated texts, test leakage, positives whose corpus text differs',
  });
}

/** "Retrieval Lens: Audit Training Data": audits the config (the argument, the active one, or one picked) and shows the view. */
export function registerAuditCommand(
  results: AuditResults,
  log: vscode.LogOutputChannel,
  configOf: (uri?: vscode.Uri) => Promise<string | undefined>,
  /** Shows the view with the config's audit (AuditTreeProvider.reveal: focus stays in the editor). */
  show: (configPath: string) => Promise<void>,
): vscode.Disposable {
  return vscode.commands.registerCommand('retrievalLens.auditTrainingData', async (uri?: vscode.Uri) => {
    if (!requireTrust('Auditing training data')) return;
    const configPath = await configOf(uri);
    if (!configPath) return;
    const report = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'Retrieval Lens: auditing the training data', cancellable: true },
      (progress, token) => results.run(configPath, log, progress, token),
    );
    if (report) await show(configPath);
  });
}
