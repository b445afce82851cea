/**
 * Notifications about the live training. Collapse verdicts (verdictAlerts.ts, alertToasts.ts): one
 * notification per alert level a run enters, naming its run and acting on THAT run's config (never the
 * active editor's), with the level's severity (a warning icon; an error icon for "collapsed") and buttons:
 * the collapse fix for the run's config (collapseFix.ts; its confirmation offers "Stop Run" too, as the
 * fix applies to the next run), "Stop Run" (stops that run if it is still the live training) and "Show
 * Dashboard"; a "recovered" notice when it becomes healthy again. The same fixes are quick fixes on the
 * verdict in the Problems panel, on the config's `loss` block (verdictProblems.ts), whose squiggle goes
 * once the config is fixed. Trainer failures with "Show Log"; completion with "Open Results". */
import * as path from 'path';
import * as vscode from 'vscode';
import { findNodeAtLocation } from 'jsonc-parser';
import { VerdictNotifier, type ToastWindow } from '../verdict/alertToasts';
import { collapseRemedies, ENABLE_FIX_LABEL, remedyEdit, type CollapseRemedy } from '../verdict/collapseFix';
import { configTree, propertySpan } from '../configEditor/configAnchors';
import { formatRatio } from '../shared/lensText';
import type { TrainingController } from './trainingController';
import { alertMessage, STOP_RUN_LABEL, type VerdictAlert } from '../verdict/verdictAlerts';
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
  /** Trained by this window's trainer (it can be stopped from the alert). */
  ownProcess: boolean;
}

/** VS Code's side of the collapse notifications: a warning or error message with its buttons. */
const notificationWindow: ToastWindow = {
  alert(message, severity, buttons) {
    return severity === 'error' ? vscode.window.showErrorMessage(message, ...buttons) : vscode.window.showWarningMessage(message, ...buttons);
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
    private readonly training: TrainingController,
    shown: ShownRun,
    private readonly actions: NotificationActions,
  ) {
    this.disposables.push(
      this.problems,
      training.onDidStep((live) => {
        if (!live.last || !live.runDir) return;
        this.observeStep({ dir: live.runDir, name: path.basename(live.runDir), configPath: live.configPath, ownProcess: true }, live.last);
      }),
      // A run written by another process gets the same alert from the steps the dashboard reads of it while it runs;
      // its fix button edits a config only when the run names one (meta.json configPath), and it has no Stop Run.
      shown.onDidStep((e) => {
        const header = shown.header;
        if (!header || header.status !== 'running' || training.isLiveRun(header.runDir)) return;
        this.followed = header.runDir;
        this.observeStep({ dir: header.runDir, name: path.basename(header.runDir), configPath: header.configPath, ownProcess: false }, e);
      }),
      // It ended, or the dashboard shows another run: forget it.
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

  /**
   * A logged step of a run: its verdict problem on the config (when it names one) and its alert. A run that names
   * no config file (`retrieval_lens.Lens` in the user's own loop) is told what to change in code instead (from
   * its config.json); only a run this window trains can be stopped from the alert.
   */
  private observeStep(run: AlertRun, e: StepEvent): void {
    const configPath = run.configPath;
    if (configPath !== null) void this.problems.show(configPath, run.dir, e);
    const ratio = formatRatio(e.diagnostics.collapse.ratio);
    this.notifier.observe(
      run.dir,
      e.verdict.state,
      () => {
        const message = (alert: VerdictAlert) => alertMessage(alert, { name: run.name, step: e.step, reason: e.verdict.reason, ratio });
        if (configPath === null) {
          const inCode = codeRemedyText(runConfigText(run.dir));
          return {
            text: (alert) => (alert.kind === 'warning' || alert.kind === 'recovered' || inCode === null ? message(alert) : `${message(alert)} ${inCode}`),
            firstRemedy: null,
            stoppable: run.ownProcess,
          };
        }
        const text = configText(configPath);
        return { text: message, firstRemedy: text === null ? null : (collapseRemedies(text)[0]?.label ?? null), stoppable: run.ownProcess };
      },
      (action) => {
        // The fix applies to the next run: its confirmation offers to stop this one too.
        if (action.kind === 'fix' && configPath !== null) void enableCollapseFix(configPath, () => stopRun(this.training, run.dir));
        else if (action.kind === 'stop') stopRun(this.training, run.dir);
        else if (action.kind === 'dashboard') void vscode.commands.executeCommand('retrievalLens.showDashboard', run.dir);
      },
    );
  }

  dispose(): void {
    this.disposables.forEach((d) => d.dispose());
  }
}

/** Stop the alerted run when it is still the live training (its Stop: the step ends, the last checkpoint is written). */
export function stopRun(training: TrainingController, runDir: string): void {
  if (training.isLiveRun(runDir) && training.stop()) return;
  void vscode.window.showInformationMessage(`Retrieval Lens: run ${path.basename(runDir)} is not training any more.`);
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
  stop?: () => void,
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
    const said = `Retrieval Lens: ${remedy.label} in ${path.basename(configPath)} — ${remedy.why}. Undo with Ctrl+Z; save and train again to apply.`;
    if (stop) void vscode.window.showInformationMessage(`${said} The collapsed run keeps training until stopped.`, STOP_RUN_LABEL).then((c) => c && stop());
    else void vscode.window.showInformationMessage(said);
  }
  return ok;
}

/**
 * The collapse fix for a config (command "Enable stop-gradient and symmetric loss"): enables both
 * when either is off; once both are on, offers the next remedies in a pick list. False when nothing changed.
 */
export async function enableCollapseFix(configPath: string, stop?: () => void): Promise<boolean> {
  const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(configPath));
  const remedies = collapseRemedies(doc.getText());
  if (remedies[0]?.label === ENABLE_FIX_LABEL) return applyRemedyToConfig(configPath, remedies[0], stop);
  const pick = await vscode.window.showQuickPick(
    remedies.map((r) => ({ label: r.label, detail: r.why, remedy: r })),
    { title: 'Stop-gradient and the symmetric loss are already on in this config. Next remedies (each one undoable edit):' },
  );
  return pick ? applyRemedyToConfig(configPath, pick.remedy, stop) : false;
}
