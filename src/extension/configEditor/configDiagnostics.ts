/**
 * Problems of experiment configs in the Problems view: the core validator's ConfigError problems
 * (JSON syntax and schema), each at its exact range (offset/length from the validator), updated
 * when a config is opened, edited (debounced) or saved, and cleared when it is closed.
 */
import * as vscode from 'vscode';
import { ConfigError, type ConfigProblem } from '../../core/config/configError';
import { parseConfigText } from './configValidator';
import { isExperimentConfig } from './experimentFiles';
import { shownByJsonService } from './jsonServiceOverlap';

const EDIT_DEBOUNCE_MS = 250;

/** Diagnostics of a config text (empty when valid). */
export function configProblems(text: string, file: string): ConfigProblem[] {
  try {
    parseConfigText(text, file);
    return [];
  } catch (e) {
    if (e instanceof ConfigError) {
      return e.problems.length > 0 ? e.problems : [{ path: '', message: e.message, line: 1, column: 1, offset: 0, length: 0 }];
    }
    return [{ path: '', message: (e as Error).message, line: 1, column: 1, offset: 0, length: 0 }];
  }
}

export class ConfigDiagnostics implements vscode.Disposable {
  private readonly collection = vscode.languages.createDiagnosticCollection('retrievalLens.config');
  private readonly timers = new Map<string, NodeJS.Timeout>();
  /** Problems per document, syntax errors included (the collection leaves those to the JSON service). */
  private readonly counts = new Map<string, number>();
  private readonly disposables: vscode.Disposable[] = [];

  constructor() {
    this.disposables.push(
      vscode.workspace.onDidOpenTextDocument((d) => this.update(d)),
      vscode.workspace.onDidSaveTextDocument((d) => this.update(d)),
      vscode.workspace.onDidChangeTextDocument((e) => this.updateSoon(e.document)),
      vscode.workspace.onDidCloseTextDocument((d) => {
        if (isExperimentConfig(d.uri.fsPath)) this.collection.delete(d.uri);
      }),
    );
    for (const d of vscode.workspace.textDocuments) this.update(d);
  }

  /** Validate a document now (ignored unless it is a `*.rlens.json` file). */
  update(doc: vscode.TextDocument): void {
    if (doc.uri.scheme !== 'file' || !isExperimentConfig(doc.uri.fsPath)) return;
    const problems = configProblems(doc.getText(), doc.uri.fsPath);
    this.counts.set(doc.uri.toString(), problems.length);
    this.collection.set(
      doc.uri,
      problems.filter((p) => !shownByJsonService(p)).map((p) => toDiagnostic(doc, p)),
    );
  }

  private updateSoon(doc: vscode.TextDocument): void {
    if (doc.uri.scheme !== 'file' || !isExperimentConfig(doc.uri.fsPath)) return;
    const key = doc.uri.toString();
    const t = this.timers.get(key);
    if (t) clearTimeout(t);
    this.timers.set(
      key,
      setTimeout(() => {
        this.timers.delete(key);
        this.update(doc);
      }, EDIT_DEBOUNCE_MS),
    );
  }

  /** How many problems a config has now (after validating it). */
  problemCount(doc: vscode.TextDocument): number {
    this.update(doc);
    return this.counts.get(doc.uri.toString()) ?? 0;
  }

  dispose(): void {
    this.timers.forEach((t) => clearTimeout(t));
    this.disposables.forEach((d) => d.dispose());
    this.collection.dispose();
  }
}

/** A problem at its exact range; a zero-length problem covers the word (or character) at its offset. */
function toDiagnostic(doc: vscode.TextDocument, p: ConfigProblem): vscode.Diagnostic {
  const start = doc.positionAt(p.offset);
  let range = new vscode.Range(start, doc.positionAt(p.offset + p.length));
  if (p.length === 0) range = doc.getWordRangeAtPosition(start) ?? new vscode.Range(start, doc.positionAt(p.offset + 1));
  const d = new vscode.Diagnostic(range, p.message, vscode.DiagnosticSeverity.Error);
  d.source = 'Retrieval Lens';
  if (p.path) d.code = p.path;
  return d;
}
