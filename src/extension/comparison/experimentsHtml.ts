/**
 * The Experiments webview's HTML page (run comparison, sweep result): the dashboard's stylesheet (sections,
 * chart cards) plus media/experiments.css, the nonce'd bundle media/experiments.js, the dashboard's CSP.
 * No `vscode` import: the browser tests render the same page.
 */
import { dashboardCsp } from '../dashboard/dashboardHtml';

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);

export interface ExperimentsHtmlOptions {
  cspSource: string;
  nonce: string;
  /** URIs of media/experiments.js, media/dashboard.css and media/experiments.css as the webview sees them. */
  scriptUri: string;
  dashboardStyleUri: string;
  styleUri: string;
  title: string;
}

export function renderExperimentsHtml(o: ExperimentsHtmlOptions): string {
  if (!/^[A-Za-z0-9+/=_-]+$/.test(o.nonce)) throw new Error('renderExperimentsHtml: the nonce must be base64/alphanumeric');
  return `<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="UTF-8">
  <meta http-equiv="Content-Security-Policy" content="${esc(dashboardCsp(o.cspSource, o.nonce))}">
  <meta name="viewport" content="width=device-width, initial-scale=1.0">
  <link rel="stylesheet" href="${esc(o.dashboardStyleUri)}">
  <link rel="stylesheet" href="${esc(o.styleUri)}">
  <title>${esc(o.title)}</title>
</head>
<body>
  <main id="rlens-experiments" class="dashboard experiments" aria-label="${esc(o.title)}"></main>
  <script nonce="${esc(o.nonce)}" src="${esc(o.scriptUri)}"></script>
</body>
</html>
`;
}
