/**
 * Notifications about the live training: a collapse warning ("collapsed" every time it is entered,
 * "warning" the first time) with "Show in config" and "Enable stop-gradient and symmetric loss"
 * (an undoable WorkspaceEdit made with jsonc-parser's modify()); trainer failures with "Show Log";
 * completion with "Open Results".
 */
import * as vscode from 'vscode';
import { findNodeAtLocation } from 'jsonc-parser';
import { collapseFixEdit } from './collapseFix';
import { configTree, propertySpan } from './configAnchors';
import type { TrainingController } from './trainingController';
import { VerdictAlertPolicy } from './verdictAlerts';

export interface NotificationActions {
  showLog(): void;
  openResults(runDir: string): void;
  evaluate(runDir: string): void;
  showProblems(): void;
}

export class TrainingNotifications implements vscode.Disposable {
  private readonly policy = new VerdictAlertPolicy();
  private readonly disposables: vscode.Disposable[] = [];

  constructor(training: TrainingController, private readonly actions: NotificationActions) {
    this.disposables.push(
      training.onDidStep((live) => {
        if (!live.last || !live.runDir) return;
        const alert = this.policy.observe(live.runDir, live.last.verdict.state);
        if (alert) void this.collapseAlert(alert, live.configPath, live.last.step, live.last.verdict.reason);
      }),
      training.onDidFailToStart(async (f) => {
        const buttons = f.problems > 0 ? ['Show Problems', 'Show Log'] : ['Show Log'];
        const choice = await vscode.window.showErrorMessage(`Retrieval Lens: training could not start: ${firstLine(f.message)}`, ...buttons);
        if (choice === 'Show Log') actions.showLog();
        else if (choice === 'Show Problems') actions.showProblems();
      }),
      training.onDidEnd(async (end) => {
        if (end.runDir) this.policy.forget(end.runDir);
        if (end.status === 'completed' && end.runDir) {
          const runDir = end.runDir;
          const choice = await vscode.window.showInformationMessage(`Retrieval Lens: training completed (${end.step} steps).`, 'Open Results', 'Evaluate');
          if (choice === 'Open Results') actions.openResults(runDir);
          else if (choice === 'Evaluate') actions.evaluate(runDir);
        } else if (end.status === 'stopped') {
          void vscode.window.setStatusBarMessage(`Retrieval Lens: training stopped at step ${end.step}`, 5000);
        } else if ((end.status === 'failed' && end.runDir) || end.status === 'crashed') {
          const why = end.error?.message ? `: ${firstLine(end.error.message)}` : '';
          const choice = await vscode.window.showErrorMessage(`Retrieval Lens: training ${end.status} at step ${end.step}${why}`, 'Show Log');
          if (choice === 'Show Log') actions.showLog();
        }
      }),
    );
  }

  private async collapseAlert(state: 'collapsed' | 'warning', configPath: string, step: number, reason: string): Promise<void> {
    const fix = 'Enable stop-gradient and symmetric loss';
    const message =
      state === 'collapsed'
        ? `Retrieval Lens: training has collapsed at step ${step} (${reason}). Items are becoming indistinguishable.`
        : `Retrieval Lens: collapse warning at step ${step} (${reason}).`;
    const choice = await vscode.window.showWarningMessage(message, 'Show in config', fix);
    if (choice === 'Show in config') await showLossInConfig(configPath);
    else if (choice === fix) await enableCollapseFix(configPath);
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

/** Set loss.stopGradient and loss.symmetric to true in the config's editor (one undoable edit). */
export async function enableCollapseFix(configPath: string): Promise<boolean> {
  const editor = await showLossInConfig(configPath);
  const doc = editor.document;
  const edit = collapseFixEdit(doc.getText(), {
    insertSpaces: editor.options.insertSpaces !== false,
    tabSize: typeof editor.options.tabSize === 'number' ? editor.options.tabSize : 2,
    eol: doc.eol === vscode.EndOfLine.CRLF ? '\r\n' : '\n',
  });
  if (!edit) {
    void vscode.window.showInformationMessage('Retrieval Lens: stop-gradient and the symmetric loss are already enabled in this config.');
    return false;
  }
  const we = new vscode.WorkspaceEdit();
  we.replace(doc.uri, new vscode.Range(doc.positionAt(edit.offset), doc.positionAt(edit.offset + edit.length)), edit.content);
  const ok = await vscode.workspace.applyEdit(we);
  if (ok) {
    const root = configTree(doc.getText());
    const n = root ? findNodeAtLocation(root, ['loss']) : undefined;
    if (n) editor.revealRange(new vscode.Range(doc.positionAt(n.offset), doc.positionAt(n.offset + n.length)));
    void vscode.window.showInformationMessage('Retrieval Lens: enabled loss.stopGradient and loss.symmetric (undo with Ctrl+Z). Save and train again to apply.');
  }
  return ok;
}
