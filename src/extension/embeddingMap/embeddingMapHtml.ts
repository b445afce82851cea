/** The Embedding Map webview's page (shared/webviewPage.ts): a header, a legend, the canvas and a tooltip. */
import { renderWebviewPage } from '../shared/webviewPage';

export function renderMapHtml(o: { cspSource: string; nonce: string; scriptUri: string; title: string }): string {
  return renderWebviewPage({
    ...o,
    body: `  <header><span data-role="title">Embedding map</span> <span data-role="status">computing…</span>
    <button data-role="pca" type="button">PCA</button> <button data-role="umap" type="button">UMAP</button></header>
  <div data-role="legend"></div>
  <canvas data-role="map" width="800" height="600"></canvas>
  <div data-role="tip" hidden></div>`,
  });
}
