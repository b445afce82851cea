/**
 * Notifications about the live training. Collapse verdicts (verdictAlerts.ts): one toast per run
 * and level, each naming its run and acting on THAT run's config (never the active editor's), with
 * "Show in config" and the quick fixes that change the config (collapseFix.ts), and a "recovered"
 * notice; the current verdict also stands in the Problems panel on the config's `loss` block
 * (verdictProblems.ts). Trainer failures with "Show Log"; completion with "Open Results".
 */
import * as path from 'path';
import * as vscode from 'vscode';
import { findNodeAtLocation } from 'jsonc-parser';
import { collapseRemedies, ENABLE_FIX_LABEL, remedyEdit, type CollapseRemedy } from './collapseFix';
import { configTree, propertySpan } from './configAnchors';
import { formatRatio } from './lensText';
import type { TrainingController } from './trainingController';
import { alertMessage, VerdictAlertPolicy, type VerdictAlert } from './verdictAlerts';
import { VerdictProblems } from './verdictProblems';

export interface NotificationActions {
  showLog(): void;
  openResults(runDir: string): void;
  evaluate(runDir: string): void;
  showProblems(): void;
}

/** The run a notification is about: its folder name and the config it was started from. */
interface AlertRun {
  name: string;
  configPath: string;
}

export class TrainingNotifications implements vscode.Disposable {
  private readonly policy = new VerdictAlertPolicy();
  private readonly problems = new VerdictProblems();
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    training: TrainingController,
    private readonly actions: NotificationActions,
  ) {
    this.disposables.push(
      this.problems,
      training.onDidStep((live) => {
        if (!live.last || !live.runDir) return;
        const e = live.last;
        const run: AlertRun = { name: path.basename(live.runDir), configPath: live.configPath };
        void this.problems.show(run.configPath, run.name, e);
        const alert = this.policy.observe(live.runDir, e.verdict.state);
        if (alert) void this.collapseAlert(alert, run, e.step, e.verdict.reason, formatRatio(e.diagnostics.collapse.ratio));
      }),
      training.onDidFailToStart(async (f) => {
        const buttons = f.problems > 0 ? ['Show Problems', 'Show Log'] : ['Show Log'];
        const choice = await vscode.window.showErrorMessage(
          `Retrieval Lens · ${path.basename(f.configPath)}: training could not start: ${firstLine(f.message)}`,
          ...buttons,
        );
        if (choice === 'Show Log') actions.showLog();
        else if (choice === 'Show Problems') actions.showProblems();
      }),
      training.onDidEnd(async (end) => {
        if (end.runDir) this.policy.forget(end.runDir);
        const who = `Retrieval Lens · ${end.runDir ? `run ${path.basename(end.runDir)}` : path.basename(end.configPath)}`;
        if (end.status === 'completed' && end.runDir) {
          const runDir = end.runDir;
          const choice = await vscode.window.showInformationMessage(`${who}: training completed (${end.step} steps).`, 'Open Results', 'Evaluate');
          if (choice === 'Open Results') actions.openResults(runDir);
          else if (choice === 'Evaluate') actions.evaluate(runDir);
        } else if (end.status === 'stopped') {
          void vscode.window.setStatusBarMessage(`${who}: training stopped at step ${end.step}`, 5000);
        } else if ((end.status === 'failed' && end.runDir) || end.status === 'crashed') {
          const why = end.error?.message ? `: ${firstLine(end.error.message)}` : '';
          const choice = await vscode.window.showErrorMessage(`${who}: training ${end.status} at step ${end.step}${why}`, 'Show Log');
          if (choice === 'Show Log') actions.showLog();
        }
      }),
    );
  }

  private async collapseAlert(alert: VerdictAlert, run: AlertRun, step: number, reason: string, ratio: string): Promise<void> {
    const message = alertMessage(alert, { name: run.name, step, reason, ratio });
    if (alert.kind === 'recovered') {
      void vscode.window.showInformationMessage(message);
      return;
    }
    const remedies = alert.kind === 'warning' ? [] : await remediesFor(run.configPath);
    const choice = await vscode.window.showWarningMessage(message, 'Show in config', ...remedies.map((r) => r.label));
    if (choice === 'Show in config') await showLossInConfig(run.configPath);
    const remedy = remedies.find((r) => r.label === choice);
    if (remedy) await applyRemedyToConfig(run.configPath, remedy);
  }

  dispose(): void {
    this.disposables.forEach((d) => d.dispose());
  }
}

function firstLine(s: string): string {
  return s.split('\n')[0];
}

/** Open the config with `loss.stopGradient` (else `loss`, else the top) selected. */
export async function showLossInConfig(configPath: string): Promise<vscode.TextEditor> {
  const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(configPath));
  const root = configTree(doc.getText());
  const span = propertySpan(root, ['loss', 'stopGradient']) ?? propertySpan(root, ['loss']) ?? { offset: 0, length: 0 };
  const range = new vscode.Range(doc.positionAt(span.offset), doc.positionAt(span.offset + span.length));
  const editor = await vscode.window.showTextDocument(doc, { selection: range, preview: false });
  editor.revealRange(range, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
  return editor;
}

/** The remedies that would change the config file now (read from its open document, else disk). */
async function remediesFor(configPath: string): Promise<CollapseRemedy[]> {
  try {
    const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(configPath));
    return collapseRemedies(doc.getText());
  } catch {
    return [];
  }
}

/** Apply one remedy to the config's editor as one undoable edit; false when it changes nothing. */
export async function applyRemedyToConfig(configPath: string, remedy: CollapseRemedy): Promise<boolean> {
  const editor = await showLossInConfig(configPath);
  const doc = editor.document;
  const edit = remedyEdit(doc.getText(), remedy, {
    insertSpaces: editor.options.insertSpaces !== false,
    tabSize: typeof editor.options.tabSize === 'number' ? editor.options.tabSize : 2,
    eol: doc.eol === vscode.EndOfLine.CRLF ? '\r\n' : '\n',
  });
  if (!edit) {
    void vscode.window.showInformationMessage(`Retrieval Lens: ${path.basename(configPath)} already has this setting.`);
    return false;
  }
  const we = new vscode.WorkspaceEdit();
  we.replace(doc.uri, new vscode.Range(doc.positionAt(edit.offset), doc.positionAt(edit.offset + edit.length)), edit.content);
  const ok = await vscode.workspace.applyEdit(we);
  if (ok) {
    const root = configTree(doc.getText());
    const n = root ? findNodeAtLocation(root, ['loss']) : undefined;
    if (n) editor.revealRange(new vscode.Range(doc.positionAt(n.offset), doc.positionAt(n.offset + n.length)));
    void vscode.window.showInformationMessage(
      `Retrieval Lens: ${remedy.label} in ${path.basename(configPath)} — ${remedy.why}. Undo with Ctrl+Z; save and train again to apply.`,
    );
  }
  return ok;
}

/**
 * The collapse fix for a config (command "Enable stop-gradient and symmetric loss"): enables both
 * when either is off; once both are on, offers the next remedies in a pick list. False when nothing changed.
 */
export async function enableCollapseFix(configPath: string): Promise<boolean> {
  const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(configPath));
  const remedies = collapseRemedies(doc.getText());
  if (remedies[0]?.label === ENABLE_FIX_LABEL) return applyRemedyToConfig(configPath, remedies[0]);
  const pick = await vscode.window.showQuickPick(
    remedies.map((r) => ({ label: r.label, detail: r.why, remedy: r })),
    { title: 'Stop-gradient and the symmetric loss are already on in this config. Next remedies (each one undoable edit):' },
  );
  return pick ? applyRemedyToConfig(configPath, pick.remedy) : false;
}
