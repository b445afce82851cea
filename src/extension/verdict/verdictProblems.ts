/**
 * The current collapse verdict of the live run in the Problems panel, on the `loss` block of the
 * config the run was started from (verdictText.ts). Replaced at every logged step the extension
 * receives; kept after the run ends (the last verdict stands) until the next run of that config.
 * Its quick fixes (lightbulb, or the Problems panel's context menu) are the remedies that change
 * that config (collapseFix.ts), each one undoable edit, and "Show Dashboard" for the run.
 */
import * as path from 'path';
import * as vscode from 'vscode';
import type { StepEvent } from '../../core/runs/eventSchema';
import { collapseRemedies, remedyEdit } from './collapseFix';
import { verdictProblem, type VerdictSeverity } from './verdictText';

const SEVERITY: Record<VerdictSeverity, vscode.DiagnosticSeverity> = {
  error: vscode.DiagnosticSeverity.Error,
  warning: vscode.DiagnosticSeverity.Warning,
  information: vscode.DiagnosticSeverity.Information,
};

const SOURCE = 'Retrieval Lens';
/** Verdicts whose problem offers the remedies (as the notification: not for a warning). */
const FIXABLE = new Set(['collapse: never-separated', 'collapse: collapsing', 'collapse: collapsed']);
/** Verdicts whose problem offers "Show Dashboard". */
const ALERTED = new Set([...FIXABLE, 'collapse: warning']);

export class VerdictProblems implements vscode.Disposable {
  private readonly collection = vscode.languages.createDiagnosticCollection('retrievalLens.verdict');
  /** The run whose verdict stands on each config (by the config's fsPath). */
  private readonly runOf = new Map<string, string>();
  private readonly provider: vscode.Disposable;

  constructor() {
    this.provider = vscode.languages.registerCodeActionsProvider(
      { scheme: 'file', pattern: '**/*.rlens.json' },
      { provideCodeActions: (doc, _range, context) => this.quickFixes(doc, context) },
      { providedCodeActionKinds: [vscode.CodeActionKind.QuickFix] },
    );
  }

  /** Show the verdict of `e` (a step of the run in folder `runDir`) on the config at `configPath`. */
  async show(configPath: string, runDir: string, e: StepEvent): Promise<void> {
    const uri = vscode.Uri.file(configPath);
    let doc: vscode.TextDocument;
    try {
      doc = await vscode.workspace.openTextDocument(uri);
    } catch {
      return;
    }
    const p = verdictProblem(doc.getText(), path.basename(runDir), e);
    const d = new vscode.Diagnostic(
      new vscode.Range(doc.positionAt(p.span.offset), doc.positionAt(p.span.offset + p.span.length)),
      p.message,
      SEVERITY[p.severity],
    );
    d.source = SOURCE;
    d.code = `collapse: ${e.verdict.state}`;
    this.runOf.set(uri.fsPath, runDir);
    this.collection.set(uri, [d]);
  }

  private quickFixes(doc: vscode.TextDocument, context: vscode.CodeActionContext): vscode.CodeAction[] {
    const d = context.diagnostics.find((x) => x.source === SOURCE && ALERTED.has(String(x.code)));
    if (!d) return [];
    const text = doc.getText();
    const eol = doc.eol === vscode.EndOfLine.CRLF ? '\r\n' : '\n';
    const actions: vscode.CodeAction[] = [];
    for (const remedy of FIXABLE.has(String(d.code)) ? collapseRemedies(text) : []) {
      const edit = remedyEdit(text, remedy, { insertSpaces: true, tabSize: 2, eol });
      if (!edit) continue;
      const action = new vscode.CodeAction(`${remedy.label} — ${remedy.why}`, vscode.CodeActionKind.QuickFix);
      action.diagnostics = [d];
      action.isPreferred = actions.length === 0;
      action.edit = new vscode.WorkspaceEdit();
      action.edit.replace(doc.uri, new vscode.Range(doc.positionAt(edit.offset), doc.positionAt(edit.offset + edit.length)), edit.content);
      actions.push(action);
    }
    const runDir = this.runOf.get(doc.uri.fsPath);
    if (runDir) {
      const show = new vscode.CodeAction(`Show Dashboard of run ${path.basename(runDir)}`, vscode.CodeActionKind.QuickFix);
      show.diagnostics = [d];
      show.command = { command: 'retrievalLens.showDashboard', title: 'Show Dashboard', arguments: [runDir] };
      actions.push(show);
    }
    return actions;
  }

  dispose(): void {
    this.provider.dispose();
    this.collection.dispose();
  }
}
