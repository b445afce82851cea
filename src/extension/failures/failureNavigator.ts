/**
 * The jump from a failing query to its data: opens the query's data file at the recorded line
 * (range selected and revealed; a warning when the file changed after the evaluation) and shows the
 * read-only detail document (markdown preview beside the editor) with the positive, the top-k
 * retrieved items with their scores and s(v, retrieved). Next / Previous walk the tree.
 */
import * as vscode from 'vscode';
import type { FailureRecord } from '../../core/eval/types';
import { renderFailureDetail, shortLocation } from './failureDetail';
import { failureKey } from './failureGroups';
import { ItemTextReader, runDataReading } from './itemTexts';
import type { FailureNode, FailuresTreeProvider } from './failuresTree';

/** Scheme of the detail document. */
export const FAILURE_DETAIL_SCHEME = 'retrieval-lens-failure';
/** One detail document whose content follows the selected failure (so one preview is reused). */
export const FAILURE_DETAIL_URI = vscode.Uri.from({ scheme: FAILURE_DETAIL_SCHEME, path: '/Failing Query.md' });

/** Serves the detail document of the selected failure. */
class FailureDetailProvider implements vscode.TextDocumentContentProvider {
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;
  text = '# Failing query\n\nSelect a query in the Failing Queries view.\n';

  set(text: string): void {
    this.text = text;
    this.changed.fire(FAILURE_DETAIL_URI);
  }

  provideTextDocumentContent(): string {
    return this.text;
  }
}

export class FailureNavigator implements vscode.Disposable {
  private readonly detail = new FailureDetailProvider();
  private readonly disposables: vscode.Disposable[] = [];
  private previewOpen = false;
  /** Full item texts, read from the data files on demand (the failures file holds snippets). */
  private readonly texts = new ItemTextReader();
  /** Counts the details shown: full texts read for an older selection are not shown. */
  private shownSeq = 0;

  constructor(
    private readonly tree: FailuresTreeProvider,
    private readonly view: vscode.TreeView<FailureNode>,
  ) {
    this.disposables.push(
      vscode.workspace.registerTextDocumentContentProvider(FAILURE_DETAIL_SCHEME, this.detail),
      view.onDidChangeSelection((e) => {
        const n = e.selection[0];
        if (n?.kind === 'failure') tree.setCurrent(failureKey(n.record));
      }),
    );
  }

  /** Open the failure with this key (from a tree item's command). */
  async openKey(key: string): Promise<void> {
    const node = this.tree.node(key);
    if (!node) {
      void vscode.window.showWarningMessage('Retrieval Lens: that failing query is no longer in the list (the evaluation was re-run).');
      return;
    }
    this.tree.setCurrent(key);
    await this.open(node.record);
  }

  /** Go to the next (+1) or previous (−1) failing query. */
  async step(direction: 1 | -1): Promise<void> {
    const node = this.tree.step(direction);
    if (!node) {
      void vscode.window.showInformationMessage('Retrieval Lens: no failing queries to walk — evaluate a run first.');
      return;
    }
    if (this.view.visible) await this.view.reveal(node, { select: true, focus: false, expand: true });
    await this.open(node.record);
  }

  /** Open the record's data file at its line and show its detail. */
  async open(r: FailureRecord): Promise<void> {
    const stale = this.tree.isStale(r, true);
    const where = shortLocation(r.source.file, r.source.line, vscode.workspace.getWorkspaceFolder(vscode.Uri.file(r.source.file))?.uri.fsPath);
    const staleWarning = stale
      ? `${where}: the file changed after the evaluation${this.tree.evaluatedAt ? ` (${this.tree.evaluatedAt.toLocaleString()})` : ''}; the query may no longer be on this line.`
      : undefined;
    const detailOptions = { baseDir: vscode.workspace.workspaceFolders?.[0]?.uri.fsPath, staleWarning };
    // The detail shows the snippets at once and the full texts once their lines are read (a first look
    // at a large data file builds its line index: one pass over the file).
    const shown = ++this.shownSeq;
    this.detail.set(renderFailureDetail(r, detailOptions));
    const runDir = this.tree.runDir;
    void this.texts.withFullTexts(r, runDir ? runDataReading(runDir) : {}).then((full) => {
      if (shown === this.shownSeq && full !== r) this.detail.set(renderFailureDetail(full, detailOptions));
    });

    let doc: vscode.TextDocument;
    try {
      doc = await vscode.workspace.openTextDocument(vscode.Uri.file(r.source.file));
    } catch (e) {
      void vscode.window.showErrorMessage(`Retrieval Lens: cannot open ${r.source.file}: ${(e as Error).message}`);
      return;
    }
    const line = Math.min(Math.max(0, r.source.line - 1), doc.lineCount - 1);
    const range = doc.lineAt(line).range;
    await this.showDetail();
    const editor = await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.One, selection: range, preview: true, preserveFocus: false });
    editor.revealRange(range, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
    if (staleWarning) void vscode.window.showWarningMessage(`Retrieval Lens: ${staleWarning}`);
  }

  /** Show the detail document beside the editor: a locked markdown preview, or the text if the preview is unavailable. */
  private async showDetail(): Promise<void> {
    if (this.previewOpen && this.isPreviewVisible()) return;
    try {
      await vscode.commands.executeCommand('markdown.showLockedPreviewToSide', FAILURE_DETAIL_URI);
      this.previewOpen = true;
    } catch {
      const doc = await vscode.workspace.openTextDocument(FAILURE_DETAIL_URI);
      await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true, preview: true });
    }
  }

  /** Whether a tab with the detail preview is open. */
  private isPreviewVisible(): boolean {
    return vscode.window.tabGroups.all.some((g) => g.tabs.some((t) => t.input instanceof vscode.TabInputWebview && t.label.includes('Failing Query')));
  }

  dispose(): void {
    this.disposables.forEach((d) => d.dispose());
  }
}
