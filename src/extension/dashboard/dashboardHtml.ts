/** The Dashboard webview's page (shared/webviewPage.ts): the app's root element; media/dashboard.js fills it. */
import { escapeHtml, renderWebviewPage } from '../shared/webviewPage';

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

/** The complete HTML document of the dashboard. */
export function renderDashboardHtml(o: DashboardHtmlOptions): string {
  return renderWebviewPage({
    cspSource: o.cspSource,
    nonce: o.nonce,
    title: o.title,
    scriptUri: o.scriptUri,
    styles: [...(o.codiconsUri ? [{ href: o.codiconsUri, id: 'vscode-codicon-stylesheet' }] : []), { href: o.styleUri }],
    body: `  <main id="rlens-dashboard" class="dashboard" aria-label="${escapeHtml(o.title)}"></main>`,
  });
}
