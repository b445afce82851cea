/**
 * Notifications about the live training. Collapse verdicts (verdictAlerts.ts, alertToasts.ts): one
 * live notification per run, naming its run and acting on THAT run's config (never the active
 * editor's). It is a `withProgress` notification because VS Code cannot close a showWarningMessage
 * toast: a newer verdict rewrites its message in place, and it closes when the run recovers (a
 * "recovered" notice fades in its place), ends, or is dismissed (Cancel). Its actions are command
 * links in the message — the collapse fix for the run's config (collapseFix.ts) and "Show
 * Dashboard" — and the same fixes are quick fixes on the verdict in the Problems panel, on the
 * config's `loss` block (verdictProblems.ts). Trainer failures with "Show Log"; completion with "Open Results".
 */
import * as path from 'path';
import * as vscode from 'vscode';
import { findNodeAtLocation } from 'jsonc-parser';
import { VerdictNotifier, type LiveToast, type ToastWindow } from '../verdict/alertToasts';
import { collapseRemedies, ENABLE_FIX_LABEL, remedyEdit, type CollapseRemedy } from '../verdict/collapseFix';
import { configTree, propertySpan } from '../configEditor/configAnchors';
import { formatRatio } from '../shared/lensText';
import type { TrainingController } from './trainingController';
import { alertLinks, alertMessage, type VerdictAlert } from '../verdict/verdictAlerts';
import { VerdictProblems } from '../verdict/verdictProblems';
import { readBoundedTextSync } from '../../core/io/safeRead';
import { CONFIG_FILE } from '../../core/runs/meta';
import type { StepEvent } from '../../core/runs/eventSchema';
import type { ShownRun } from '../dashboard/shownRun';
import { codeRemedyText } from '../verdict/codeRemedies';

export interface NotificationActions {
  showLog(): void;
  openResults(runDir: string): void;
  evaluate(runDir: string): void;
  showProblems(): void;
}

/** The run a notification is about: its folder, its name and the config it was started from (null: none names it). */
interface AlertRun {
  dir: string;
  name: string;
  configPath: string | null;
}

/** VS Code's side of the live notifications: a cancellable `withProgress` notification per toast. */
const notificationWindow: ToastWindow = {
  open(message, onDismiss): LiveToast {
    let latest = message;
    let closed = false;
    let report: ((m: string) => void) | null = null;
    let finish: (() => void) | null = null;
    void vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, cancellable: true }, (progress, token) => {
      return new Promise<void>((resolve) => {
        if (closed) return resolve();
        finish = resolve;
        report = (m) => progress.report({ message: m });
        report(latest);
        token.onCancellationRequested(() => {
          closed = true;
          resolve();
          onDismiss();
        });
      });
    });
    return {
      update(m) {
        latest = m;
        report?.(m);
      },
      close() {
        closed = true;
        finish?.();
      },
    };
  },
  notice(message) {
    void vscode.window.showInformationMessage(message);
  },
};

export class TrainingNotifications implements vscode.Disposable {
  private readonly notifier = new VerdictNotifier(notificationWindow);
  private readonly problems = new VerdictProblems();
  private readonly disposables: vscode.Disposable[] = [];

  /** The running run of another process (CLI, `retrieval_lens.Lens`, …) whose steps the dashboard reads, if any. */
  private followed: string | null = null;

  constructor(
    training: TrainingController,
    shown: ShownRun,
    private readonly actions: NotificationActions,
  ) {
    this.disposables.push(
      this.problems,
      training.onDidStep((live) => {
        if (!live.last || !live.runDir) return;
        this.observeStep({ dir: live.runDir, name: path.basename(live.runDir), configPath: live.configPath }, live.last);
      }),
      // A run written by another process gets the same alert from the steps the dashboard reads of it while it runs;
      // its fix links edit a config only when the run names one (meta.json configPath).
      shown.onDidStep((e) => {
        const header = shown.header;
        if (!header || header.status !== 'running' || training.isLiveRun(header.runDir)) return;
        this.followed = header.runDir;
        this.observeStep({ dir: header.runDir, name: path.basename(header.runDir), configPath: header.configPath }, e);
      }),
      // It ended, or the dashboard shows another run: its alert closes.
      shown.onDidChange((header) => {
        if (this.followed === null || (header?.runDir === this.followed && header.status === 'running')) return;
        this.notifier.end(this.followed);
        this.followed = null;
      }),
      training.onDidEvaluate((live) => {
        if (live.runDir && live.quality) void this.problems.showQuality(live.configPath, live.runDir, live.quality.step, live.quality.verdict);
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
        if (end.runDir) this.notifier.end(end.runDir);
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

  /** A logged step of a run: its verdict problem on the config (when it has one) and its live alert. */
  private observeStep(run: AlertRun, e: StepEvent): void {
    if (run.configPath !== null) void this.problems.show(run.configPath, run.dir, e);
    const ratio = formatRatio(e.diagnostics.collapse.ratio);
    this.notifier.observe(run.dir, e.verdict.state, (alert) => alertText(alert, run, e.step, e.verdict.reason, ratio));
  }

  dispose(): void {
    this.notifier.closeAll();
    this.disposables.forEach((d) => d.dispose());
  }
}

/**
 * An alert's message with its action links (the remedies read from the config now); for a run that names no
 * config file, what to change in code instead (from the run's config.json).
 */
function alertText(alert: VerdictAlert, run: AlertRun, step: number, reason: string, ratio: string): string {
  const message = alertMessage(alert, { name: run.name, step, reason, ratio });
  if (alert.kind === 'recovered') return message;
  if (run.configPath === null) {
    const inCode = alert.kind === 'warning' ? null : codeRemedyText(runConfigText(run.dir));
    return [message, inCode, alertLinks(alert, { configPath: null, runDir: run.dir, firstRemedy: null, enableFixLabel: ENABLE_FIX_LABEL })]
      .filter((x) => x !== null)
      .join(' ');
  }
  const text = configText(run.configPath);
  const firstRemedy = text === null ? null : (collapseRemedies(text)[0]?.label ?? null);
  return `${message} ${alertLinks(alert, { configPath: run.configPath, runDir: run.dir, firstRemedy, enableFixLabel: ENABLE_FIX_LABEL })}`;
}

/** The config's text: its open document (unsaved edits count), else the file; null when unreadable. */
export function configText(configPath: string): string | null {
  const doc = vscode.workspace.textDocuments.find((d) => d.uri.scheme === 'file' && d.uri.fsPath === configPath);
  if (doc) return doc.getText();
  try {
    return readBoundedTextSync(configPath, 'experiment config');
  } catch {
    return null;
  }
}

/** The run folder's config.json text; null when unreadable. */
function runConfigText(runDir: string): string | null {
  try {
    return readBoundedTextSync(path.join(runDir, CONFIG_FILE), 'config.json');
  } catch {
    return null;
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

/** Apply one remedy to the config's editor as one undoable edit; false when it changes nothing. */
export async function applyRemedyToConfig(
  configPath: string,
  remedy: Pick<CollapseRemedy, 'label' | 'why'> & { settings: [string[], unknown][] },
): Promise<boolean> {
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
