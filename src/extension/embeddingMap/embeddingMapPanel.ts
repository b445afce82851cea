/**
 * "Show Embedding Map": encodes a sample of a run's checkpoint (items and test queries) in a trainer
 * process, exports vectors.tsv + metadata.tsv for the TensorBoard projector into <run>/eval/embeddings/,
 * and draws the 2-D map (PCA first; UMAP on request) in a webview panel. A click on a point opens its data
 * line; hovering shows its text.
 */
import * as path from 'path';
import * as vscode from 'vscode';
import { startEmbeddingExport, type TrainerHandle } from '../../trainer/client';
import type { FromTrainer } from '../../trainer/protocol';
import { makeNonce } from '../shared/webviewPage';
import { renderMapHtml } from './embeddingMapHtml';
import { parseFromMap, type ToMap } from '../../webview/embeddingMap/protocol';

export const EMBEDDING_MAP_PANEL_TYPE = 'retrievalLens.embeddingMap';
const SAMPLE = { items: 3000, queries: 1000 };

export class EmbeddingMapPanels implements vscode.Disposable {
  private panel: vscode.WebviewPanel | null = null;
  private runDir: string | null = null;
  private job: TrainerHandle | null = null;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  /** Show the map of `runDir` (PCA), creating or reusing the panel. */
  show(runDir: string): void {
    this.runDir = runDir;
    if (!this.panel) {
      const media = vscode.Uri.joinPath(this.extensionUri, 'media');
      this.panel = vscode.window.createWebviewPanel(EMBEDDING_MAP_PANEL_TYPE, `Embedding Map: ${path.basename(runDir)}`, vscode.ViewColumn.Active, {
        enableScripts: true,
        localResourceRoots: [media],
      });
      const webview = this.panel.webview;
      webview.html = renderMapHtml({
        cspSource: webview.cspSource,
        nonce: makeNonce(),
        scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(media, 'embeddingMap.js')).toString(),
        title: 'Embedding Map',
      });
      webview.onDidReceiveMessage((raw) => void this.onMessage(raw));
      this.panel.onDidDispose(() => {
        this.panel = null;
        this.job?.stop();
      });
    } else {
      this.panel.title = `Embedding Map: ${path.basename(runDir)}`;
      this.panel.reveal();
    }
    this.project('pca');
  }

  private post(m: ToMap): void {
    void this.panel?.webview.postMessage(m);
  }

  private project(method: 'pca' | 'umap'): void {
    const runDir = this.runDir;
    if (!runDir) return;
    this.job?.stop();
    this.post({ type: 'status', text: `encoding ${SAMPLE.items} items and ${SAMPLE.queries} queries, ${method.toUpperCase()}…` });
    const outDir = path.join(runDir, 'eval', 'embeddings');
    const job = startEmbeddingExport(
      { runDir, outDir, ...SAMPLE, projection: method },
      (m: FromTrainer) => {
        if (m.type === 'embeddings' && m.map) {
          this.post({ type: 'map', title: `${path.basename(runDir)} · step ${m.step}`, map: m.map, files: { vectors: m.vectors, metadata: m.metadata } });
          this.log.info(
            `embedding map of ${runDir}: ${m.count} points, ${m.map.method} spread ${m.map.spread.toFixed(4)}; exported ${m.vectors}, ${m.metadata}`,
          );
        } else if (m.type === 'error') {
          this.post({ type: 'status', text: `failed: ${m.message}` });
          void vscode.window.showErrorMessage(`Retrieval Lens: embedding map of ${path.basename(runDir)} failed: ${m.message.split('\n')[0]}`);
        }
      },
      {
        onOutput: (chunk, stream) =>
          chunk
            .split('\n')
            .filter((l) => l.trim())
            .forEach((l) => this.log.info(`[embeddings ${stream}] ${l}`)),
      },
    );
    this.job = job;
    void job.done.then(() => {
      if (this.job === job) this.job = null;
    });
  }

  private async onMessage(raw: unknown): Promise<void> {
    const r = parseFromMap(raw);
    if (!r.ok) return void this.log.warn(`embedding map webview: ignored a malformed message (${r.reason})`);
    const m = r.value;
    if (m.type === 'ready') return;
    if (m.type === 'project') return this.project(m.method);
    const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(m.file));
    const line = Math.min(Math.max(0, m.line - 1), doc.lineCount - 1);
    await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.Beside, selection: doc.lineAt(line).range, preview: true });
  }

  dispose(): void {
    this.job?.stop();
    this.panel?.dispose();
  }
}
