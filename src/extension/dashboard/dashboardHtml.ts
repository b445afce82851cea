/**
 * The Dashboard webview's HTML page. The extension passes `webview.cspSource` and the
 * `asWebviewUri` strings of media/dashboard.js, media/dashboard.css and media/codicons/codicon.css;
 * this module never imports `vscode` (the browser tests render the same page). The page loads nothing remote, runs only the nonce'd bundle and
 * has no inline styles (Chart.js sizes its canvases through the CSSOM, which the CSP allows).
 */

export interface DashboardHtmlOptions {
  /** `webview.cspSource`. */
  cspSource: string;
  /** A fresh nonce per render (`makeNonce()`). */
  nonce: string;
  /** URI of media/dashboard.js as the webview sees it. */
  scriptUri: string;
  /** URI of media/dashboard.css. */
  styleUri: string;
  /** URI of media/codicons/codicon.css; no icons font when omitted. */
  codiconsUri?: string;
  /** Page title (the panel's name). */
  title: string;
}

/** Escapes text for an HTML attribute value or element content. */
function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

/** The Content-Security-Policy of the page. */
export function dashboardCsp(cspSource: string, nonce: string): string {
  return `default-src 'none'; img-src ${cspSource} data:; style-src ${cspSource}; font-src ${cspSource}; script-src 'nonce-${nonce}'`;
}

/** A nonce for the page's script tag: 32 random alphanumeric characters (Web Crypto, in Node and browsers). */
export function makeNonce(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = new Uint8Array(32);
  globalThis.crypto.getRandomValues(bytes);
  // 256 % 62 != 0: reject the top bytes so every character is equally likely.
  let out = '';
  for (let i = 0; out.length < 32; i++) {
    if (i === bytes.length) {
      globalThis.crypto.getRandomValues(bytes);
      i = 0;
    }
    if (bytes[i] < 248) out += alphabet[bytes[i] % 62];
  }
  return out;
}

/** The complete HTML document of the dashboard. */
export function renderDashboardHtml(opts: DashboardHtmlOptions): string {
  if (!/^[A-Za-z0-9+/=_-]+$/.test(opts.nonce)) throw new Error('renderDashboardHtml: the nonce must be base64/alphanumeric');
  const csp = dashboardCsp(opts.cspSource, opts.nonce);
  const codicons = opts.codiconsUri ? `\n  <link rel="stylesheet" href="${escapeHtml(opts.codiconsUri)}" id="vscode-codicon-stylesheet">` : '';
  return `<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="UTF-8">
  <meta http-equiv="Content-Security-Policy" content="${escapeHtml(csp)}">
  <meta name="viewport" content="width=device-width, initial-scale=1.0">${codicons}
  <link rel="stylesheet" href="${escapeHtml(opts.styleUri)}">
  <title>${escapeHtml(opts.title)}</title>
</head>
<body>
  <main id="rlens-dashboard" class="dashboard" aria-label="${escapeHtml(opts.title)}"></main>
  <script nonce="${escapeHtml(opts.nonce)}" src="${escapeHtml(opts.scriptUri)}"></script>
</body>
</html>
`;
}
