/** The Failing Query detail webview's page (shared/webviewPage.ts): its stylesheet, an empty detail and its script. */
import { renderWebviewPage } from '../shared/webviewPage';

export function renderFailureDetailPage(o: { cspSource: string; nonce: string; scriptUri: string; styleUri: string }): string {
  return renderWebviewPage({
    cspSource: o.cspSource,
    nonce: o.nonce,
    scriptUri: o.scriptUri,
    title: 'Failing Query',
    styles: [{ href: o.styleUri }],
    body: '  <main id="rlens-failure" data-role="detail"><h1>Failing query</h1><p>Select a query in the Failing Queries view.</p></main>',
  });
}
