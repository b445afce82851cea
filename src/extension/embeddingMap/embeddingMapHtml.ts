/** The Embedding Map webview's HTML page: a canvas, a tooltip and a header; only the nonce'd bundle runs. */
import { dashboardCsp } from '../dashboard/dashboardHtml';

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);

export function renderMapHtml(o: { cspSource: string; nonce: string; scriptUri: string; title: string }): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="UTF-8">
  <meta http-equiv="Content-Security-Policy" content="${esc(dashboardCsp(o.cspSource, o.nonce))}">
  <meta name="viewport" content="width=device-width, initial-scale=1.0">
  <title>${esc(o.title)}</title>
</head>
<body>
  <header><span data-role="title">Embedding map</span> <span data-role="status">computing…</span>
    <button data-role="pca" type="button">PCA</button> <button data-role="umap" type="button">UMAP</button></header>
  <div data-role="legend"></div>
  <canvas data-role="map" width="800" height="600"></canvas>
  <div data-role="tip" hidden></div>
  <script nonce="${o.nonce}" src="${esc(o.scriptUri)}"></script>
</body>
</html>`;
}
