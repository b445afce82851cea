/**
 * The Experiments webview's page (run comparison, sweep result; shared/webviewPage.ts): the dashboard's
 * stylesheet (sections, chart cards) plus media/experiments.css, and the app's root element.
 */
import { escapeHtml, renderWebviewPage } from '../shared/webviewPage';

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
  return renderWebviewPage({
    cspSource: o.cspSource,
    nonce: o.nonce,
    title: o.title,
    scriptUri: o.scriptUri,
    styles: [{ href: o.dashboardStyleUri }, { href: o.styleUri }],
    body: `  <main id="rlens-experiments" class="dashboard experiments" aria-label="${escapeHtml(o.title)}"></main>`,
  });
}
