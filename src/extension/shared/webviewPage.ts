/**
 * The HTML page of every Retrieval Lens webview (dashboard, Experiments, embedding map): a strict
 * Content-Security-Policy, the page's stylesheets, its static markup and one script, the nonce'd bundle from
 * media/. The page loads nothing remote and has no inline styles or scripts (Chart.js sizes its canvases and
 * the map places its tooltip through the CSSOM, which the CSP allows). The extension passes
 * `webview.cspSource` and `asWebviewUri` strings; this module never imports `vscode` (the browser tests
 * render the same pages).
 */

export interface WebviewPageOptions {
  /** `webview.cspSource`. */
  cspSource: string;
  /** A fresh nonce per render (`makeNonce()`). */
  nonce: string;
  /** Page title (the panel's name). */
  title: string;
  /** URI of the page's bundle (media/<page>.js) as the webview sees it. */
  scriptUri: string;
  /** Stylesheets in order; `id` is the link's element id (VS Code's codicons want "vscode-codicon-stylesheet"). */
  styles?: { href: string; id?: string }[];
  /** The body's markup before the script: static, with any text in it escaped (`escapeHtml`). */
  body: string;
}

/** Escapes text for an HTML attribute value or element content. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

/** The Content-Security-Policy of every page. */
export function webviewCsp(cspSource: string, nonce: string): string {
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

/** The complete HTML document of a webview page; a nonce that could widen the CSP throws. */
export function renderWebviewPage(o: WebviewPageOptions): string {
  if (!/^[A-Za-z0-9+/=_-]+$/.test(o.nonce)) throw new Error('renderWebviewPage: the nonce must be base64/alphanumeric');
  const styles = (o.styles ?? []).map((s) => `\n  <link rel="stylesheet" href="${escapeHtml(s.href)}"${s.id ? ` id="${escapeHtml(s.id)}"` : ''}>`).join('');
  return `<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="UTF-8">
  <meta http-equiv="Content-Security-Policy" content="${escapeHtml(webviewCsp(o.cspSource, o.nonce))}">
  <meta name="viewport" content="width=device-width, initial-scale=1.0">${styles}
  <title>${escapeHtml(o.title)}</title>
</head>
<body>
${o.body}
  <script nonce="${escapeHtml(o.nonce)}" src="${escapeHtml(o.scriptUri)}"></script>
</body>
</html>
`;
}
