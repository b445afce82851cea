/**
 * The current collapse verdict of the live run in the Problems panel, on the `loss` block of the
 * config the run was started from (verdictText.ts). Replaced at every logged step the extension
 * receives; kept after the run ends (the last verdict stands) until the next run of that config.
 */
import * as vscode from 'vscode';
import type { StepEvent } from '../core/runs/eventSchema';
import { verdictProblem, type VerdictSeverity } from './verdictText';

const SEVERITY: Record<VerdictSeverity, vscode.DiagnosticSeverity> = {
  error: vscode.DiagnosticSeverity.Error,
  warning: vscode.DiagnosticSeverity.Warning,
  information: vscode.DiagnosticSeverity.Information,
};

export class VerdictProblems implements vscode.Disposable {
  private readonly collection = vscode.languages.createDiagnosticCollection('retrievalLens.verdict');

  /** Show the verdict of `e` (a step of run `runName`) on the config at `configPath`. */
  async show(configPath: string, runName: string, e: StepEvent): Promise<void> {
    const uri = vscode.Uri.file(configPath);
    let doc: vscode.TextDocument;
    try {
      doc = await vscode.workspace.openTextDocument(uri);
    } catch {
      return;
    }
    const p = verdictProblem(doc.getText(), runName, e);
    const d = new vscode.Diagnostic(
      new vscode.Range(doc.positionAt(p.span.offset), doc.positionAt(p.span.offset + p.span.length)),
      p.message,
      SEVERITY[p.severity],
    );
    d.source = 'Retrieval Lens';
    d.code = `collapse: ${e.verdict.state}`;
    this.collection.set(uri, [d]);
  }

  dispose(): void {
    this.collection.dispose();
  }
}
