/**
 * The current collapse verdict of the live run in the Problems panel, on the `loss` block of the
 * config the run was started from (verdictText.ts). Replaced at every logged step the extension
 * receives; kept after the run ends (the last verdict stands) until the next run of that config.
 * Cleared once the config is fixed: a remedy setting (stopGradient, symmetric, w, learning rate, α) differs
 * from what the run trained with (its config.json) — the fix applies to the next run.
 * Its quick fixes (lightbulb, or the Problems panel's context menu) are the remedies that change
 * that config (collapseFix.ts), each one undoable edit, and "Show Dashboard" for the run.
 * Beside it, on the `evaluation` block, the quality verdict of the run's latest live held-out evaluation,
 * whose quick fixes are its remedies (src/core/quality/qualityRemedies.ts) computed from the config now.
 */
import * as path from 'path';
import * as vscode from 'vscode';
import type { StepEvent } from '../../core/runs/eventSchema';
import { collapseRemedies, remedyEdit, remedySettingsChangedSince } from './collapseFix';
import { readBoundedTextSync } from '../../core/io/safeRead';
import { qualityProblem, verdictProblem, type VerdictProblem, type VerdictSeverity } from './verdictText';
import { parseConfigText } from '../../core/config/loadConfig';
// Not the core/quality barrel: it re-exports the held-out sample, which reaches faiss (never in the extension host).
import { qualityRemedies } from '../../core/quality/qualityRemedies';
import { QUALITY_REMEDY_IDS, type QualityRemedyId, type QualityVerdict } from '../../core/quality/qualityVerdict';

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
  /** The collapse and quality problems standing on each config (by fsPath). */
  private readonly standing = new Map<string, { collapse?: vscode.Diagnostic; quality?: vscode.Diagnostic }>();
  /** The remedies of the quality verdict standing on each config. */
  private readonly qualityRemediesOf = new Map<string, readonly QualityRemedyId[]>();
  private readonly provider: vscode.Disposable;
  private readonly edits: vscode.Disposable;
  /** Each run's config.json (what it trained with), read once. */
  private readonly trainedWith = new Map<string, unknown>();

  constructor() {
    // A fix typed or applied after the run ended (no more steps) clears the squiggle too.
    this.edits = vscode.workspace.onDidChangeTextDocument((e) => {
      const runDir = this.runOf.get(e.document.uri.fsPath);
      if (runDir && this.standing.get(e.document.uri.fsPath)?.collapse && this.fixedSince(e.document, runDir)) this.clearCollapse(e.document);
    });
    this.provider = vscode.languages.registerCodeActionsProvider(
      { scheme: 'file', pattern: '**/*.rlens.json' },
      { provideCodeActions: (doc, _range, context) => this.quickFixes(doc, context) },
      { providedCodeActionKinds: [vscode.CodeActionKind.QuickFix] },
    );
  }

  /**
   * Show the verdict of `e` (a step of the run in folder `runDir`) on the config at `configPath`; not when the
   * config was fixed since the run started (a remedy setting differs from the run's config.json).
   */
  async show(configPath: string, runDir: string, e: StepEvent): Promise<void> {
    const uri = vscode.Uri.file(configPath);
    let doc: vscode.TextDocument;
    try {
      doc = await vscode.workspace.openTextDocument(uri);
    } catch {
      return;
    }
    if (this.fixedSince(doc, runDir)) return this.clearCollapse(doc);
    this.put(doc, runDir, 'collapse', verdictProblem(doc.getText(), path.basename(runDir), e), `collapse: ${e.verdict.state}`);
  }

  /** Whether the config (as edited now) changed a remedy setting since the run `runDir` started. */
  private fixedSince(doc: vscode.TextDocument, runDir: string): boolean {
    if (!this.trainedWith.has(runDir)) {
      let config: unknown = null;
      try {
        config = JSON.parse(readBoundedTextSync(path.join(runDir, 'config.json'), 'config.json'));
      } catch {
        // not written yet or unreadable: the verdict stands
      }
      if (config !== null) this.trainedWith.set(runDir, config);
      else return false;
    }
    return remedySettingsChangedSince(doc.getText(), this.trainedWith.get(runDir)).length > 0;
  }

  /** The collapse squiggle of a fixed config goes (the quality problem, if any, stays). */
  private clearCollapse(doc: vscode.TextDocument): void {
    const standing = this.standing.get(doc.uri.fsPath);
    if (!standing?.collapse) return;
    delete standing.collapse;
    this.collection.set(
      doc.uri,
      [standing.quality].filter((x): x is vscode.Diagnostic => !!x),
    );
  }

  /** Show the quality verdict of a live held-out evaluation (after `step` of the run in `runDir`) on its config. */
  async showQuality(configPath: string, runDir: string, step: number, q: QualityVerdict): Promise<void> {
    let doc: vscode.TextDocument;
    try {
      doc = await vscode.workspace.openTextDocument(vscode.Uri.file(configPath));
    } catch {
      return;
    }
    this.qualityRemediesOf.set(doc.uri.fsPath, q.remedies);
    this.put(doc, runDir, 'quality', qualityProblem(doc.getText(), path.basename(runDir), step, q), `quality: ${q.state}`);
  }

  /** Sets one kind of problem on a config, keeping the other kind; a new run replaces both. */
  private put(doc: vscode.TextDocument, runDir: string, kind: 'collapse' | 'quality', p: VerdictProblem, code: string): void {
    const key = doc.uri.fsPath;
    const d = new vscode.Diagnostic(
      new vscode.Range(doc.positionAt(p.span.offset), doc.positionAt(p.span.offset + p.span.length)),
      p.message,
      SEVERITY[p.severity],
    );
    d.source = SOURCE;
    d.code = code;
    const standing = this.runOf.get(key) === runDir ? (this.standing.get(key) ?? {}) : {};
    standing[kind] = d;
    this.standing.set(key, standing);
    this.runOf.set(key, runDir);
    this.collection.set(
      doc.uri,
      [standing.collapse, standing.quality].filter((x): x is vscode.Diagnostic => !!x),
    );
  }

  /** The quality verdict's remedies that change the config `text` now, as quick fixes. */
  private qualityFixes(doc: vscode.TextDocument, d: vscode.Diagnostic): vscode.CodeAction[] {
    const ids = (this.qualityRemediesOf.get(doc.uri.fsPath) ?? []).filter((id) => (QUALITY_REMEDY_IDS as readonly string[]).includes(id));
    let remedies;
    try {
      remedies = qualityRemedies(ids, parseConfigText(doc.getText(), doc.uri.fsPath).config);
    } catch {
      return []; // a config that does not load has its own problems to fix first
    }
    const text = doc.getText();
    const eol = doc.eol === vscode.EndOfLine.CRLF ? '\r\n' : '\n';
    return remedies.flatMap((remedy, i) => {
      const edit = remedyEdit(text, remedy, { insertSpaces: true, tabSize: 2, eol });
      if (!edit) return [];
      const action = new vscode.CodeAction(`${remedy.label} — ${remedy.why}`, vscode.CodeActionKind.QuickFix);
      action.diagnostics = [d];
      action.isPreferred = i === 0;
      action.edit = new vscode.WorkspaceEdit();
      action.edit.replace(doc.uri, new vscode.Range(doc.positionAt(edit.offset), doc.positionAt(edit.offset + edit.length)), edit.content);
      return [action];
    });
  }

  private quickFixes(doc: vscode.TextDocument, context: vscode.CodeActionContext): vscode.CodeAction[] {
    const q = context.diagnostics.find((x) => x.source === SOURCE && String(x.code).startsWith('quality: '));
    const d = context.diagnostics.find((x) => x.source === SOURCE && ALERTED.has(String(x.code)));
    if (!d) return q ? this.qualityFixes(doc, q) : [];
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
    if (q) actions.push(...this.qualityFixes(doc, q));
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
    this.edits.dispose();
    this.provider.dispose();
    this.collection.dispose();
  }
}
