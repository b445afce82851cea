/**
 * The jump from a failing query to its data: opens the query's data file at the recorded line
 * (range selected and revealed; a warning when the file changed after the evaluation) and shows the
 * detail (a webview beside the editor, src/webview/failureDetail/) with the positive, the top-k
 * retrieved items with their scores and s(v, retrieved), each item linked to its corpus line. A new
 * query's detail starts at the top. Next / Previous walk the tree; switching the list's search re-opens
 * the detail from the new list.
 */
import * as vscode from 'vscode';
import type { FailureRecord } from '../../core/eval/types';
import { renderFailureDetail, shortLocation } from './failureDetail';
import { renderFailureDetailPage } from './failureDetailHtml';
import { makeNonce } from '../shared/webviewPage';
import { openDataLine } from '../comparison/experimentsPanel';
import { parseFromDetail, type ToDetail } from '../../webview/failureDetail/protocol';
import { failureKey } from './failureGroups';
import { ItemTextReader, runDataReading } from './itemTexts';
import type { FailureNode, FailuresTreeProvider } from './failuresTree';

/** The detail panel's webview type. */
export const FAILURE_DETAIL_PANEL_TYPE = 'retrievalLens.failureDetail';

/**
 * The detail webview beside the editor (one panel, reused): shows the selected failure's markup; a click on
 * a location opens that data line. Re-sends the shown detail when the page (re)loads.
 */
class FailureDetailPanel implements vscode.Disposable {
  private panel: vscode.WebviewPanel | null = null;
  private shown: ToDetail | null = null;

  constructor(private readonly extensionUri: vscode.Uri) {}

  /** Show `html` (the detail of the failure `key`) and reveal the panel beside the editor without focusing it. */
  show(key: string, html: string): void {
    this.shown = { type: 'show', key, html };
    if (!this.panel) this.panel = this.create();
    else if (!this.panel.visible) this.panel.reveal(vscode.ViewColumn.Beside, true);
    void this.panel.webview.postMessage(this.shown);
  }

  /** Rewrite the shown detail when it is `key`'s (its full texts were read). */
  update(key: string, html: string): void {
    if (this.shown?.key !== key || !this.panel) return;
    this.shown = { type: 'show', key, html };
    void this.panel.webview.postMessage(this.shown);
  }

  private create(): vscode.WebviewPanel {
    const media = vscode.Uri.joinPath(this.extensionUri, 'media');
    const panel = vscode.window.createWebviewPanel(
      FAILURE_DETAIL_PANEL_TYPE,
      'Failing Query',
      { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
      { enableScripts: true, localResourceRoots: [media], retainContextWhenHidden: false },
    );
    const w = panel.webview;
    w.html = renderFailureDetailPage({
      cspSource: w.cspSource,
      nonce: makeNonce(),
      scriptUri: w.asWebviewUri(vscode.Uri.joinPath(media, 'failureDetail.js')).toString(),
      styleUri: w.asWebviewUri(vscode.Uri.joinPath(media, 'failureDetail.css')).toString(),
    });
    w.onDidReceiveMessage((raw) => {
      const r = parseFromDetail(raw);
      if (!r.ok) return;
      if (r.value.type === 'ready') {
        if (this.shown) void w.postMessage(this.shown);
      } else void openDataLine(r.value.file, r.value.line);
    });
    panel.onDidDispose(() => {
      if (this.panel === panel) this.panel = null;
    });
    return panel;
  }

  dispose(): void {
    this.panel?.dispose();
  }
}

export class FailureNavigator implements vscode.Disposable {
  private readonly detail: FailureDetailPanel;
  private readonly disposables: vscode.Disposable[] = [];
  /** Full item texts, read from the data files on demand (the failures file holds snippets). */
  private readonly texts = new ItemTextReader();
  /** Counts the details shown: full texts read for an older selection are not shown. */
  private shownSeq = 0;

  constructor(
    private readonly tree: FailuresTreeProvider,
    private readonly view: vscode.TreeView<FailureNode>,
    extensionUri: vscode.Uri,
  ) {
    this.detail = new FailureDetailPanel(extensionUri);
    this.disposables.push(
      this.detail,
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
    // A key per opening: opening a query (also the same one again) starts its detail at the top.
    const key = `${failureKey(r)}#${shown}`;
    this.detail.show(key, renderFailureDetail(r, detailOptions));
    const runDir = this.tree.runDir;
    void this.texts.withFullTexts(r, runDir ? runDataReading(runDir) : {}).then((full) => {
      if (shown === this.shownSeq && full !== r) this.detail.update(key, renderFailureDetail(full, detailOptions));
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
    const editor = await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.One, selection: range, preview: true, preserveFocus: false });
    editor.revealRange(range, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
    if (staleWarning) void vscode.window.showWarningMessage(`Retrieval Lens: ${staleWarning}`);
  }

  /**
   * The list switched to the other search (exact ↔ IVF-PQ): the detail shown is re-opened from the new list
   * (its ranks, scores and search name are that search's); when the query is not in it, the first one is.
   */
  async afterSearchSwitch(): Promise<void> {
    if (this.shownSeq === 0) return;
    const key = this.tree.currentKey;
    const node = (key ? this.tree.node(key) : undefined) ?? this.tree.step(1);
    if (node) await this.open(node.record);
  }

  dispose(): void {
    this.disposables.forEach((d) => d.dispose());
  }
}
