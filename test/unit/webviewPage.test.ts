/**
 * The three webview pages (dashboard, Experiments, embedding map) come from one renderWebviewPage: each has
 * the strict CSP with its nonce, one script (the nonce'd bundle) and refuses a nonce that could widen the
 * CSP. (The dashboard page's escaping and remote-content checks are in test/browser/webview.dashboard.test.ts.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderExperimentsHtml } from '../../src/extension/comparison/experimentsHtml';
import { renderDashboardHtml } from '../../src/extension/dashboard/dashboardHtml';
import { renderMapHtml } from '../../src/extension/embeddingMap/embeddingMapHtml';
import { makeNonce, webviewCsp } from '../../src/extension/shared/webviewPage';

const PAGES: Record<string, (nonce: string) => string> = {
  dashboard: (nonce) =>
    renderDashboardHtml({ cspSource: 'vscode-src', nonce, scriptUri: 'vscode-src/dashboard.js', styleUri: 'vscode-src/dashboard.css', title: 'D' }),
  experiments: (nonce) =>
    renderExperimentsHtml({
      cspSource: 'vscode-src',
      nonce,
      scriptUri: 'vscode-src/experiments.js',
      dashboardStyleUri: 'vscode-src/dashboard.css',
      styleUri: 'vscode-src/experiments.css',
      title: 'E',
    }),
  embeddingMap: (nonce) => renderMapHtml({ cspSource: 'vscode-src', nonce, scriptUri: 'vscode-src/embeddingMap.js', title: 'M' }),
};

for (const [page, render] of Object.entries(PAGES)) {
  test(`${page} page: strict CSP with its nonce, one nonce'd script, a hostile nonce refused`, () => {
    const nonce = makeNonce();
    const html = render(nonce);
    assert.ok(html.includes(`content="${webviewCsp('vscode-src', nonce).replace(/'/g, '&#39;')}"`), 'the CSP meta tag');
    assert.equal((html.match(/<script/g) ?? []).length, 1, 'one script');
    assert.match(html, new RegExp(`<script nonce="${nonce}" src="vscode-src/${page}\\.js"></script>`));
    assert.doesNotMatch(html, /style=|<style/i, 'no inline styles');
    assert.throws(() => render(`${nonce}" onload="alert(1)`), /nonce/);
    assert.throws(() => render("a' 'unsafe-inline"), /nonce/);
  });
}
