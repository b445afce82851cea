/**
 * The Failing Query detail webview in headless Chromium (media/failureDetail.js and .css, the markup of
 * src/extension/failures/failureDetail.ts): a top-10 table with long unbroken texts and ids fits the panel
 * (wraps, nothing cut off on the right); a new query starts at the top while the same query re-rendered
 * (its full texts read) keeps its place; a retrieved item's id asks to open its corpus line; the search
 * named is the record's (IVF-PQ after switching the list). Needs the built bundle (npm run build).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FailureRecord } from '../../src/core/eval/types';
import { renderFailureDetail } from '../../src/extension/failures/failureDetail';
import { renderFailureDetailPage } from '../../src/extension/failures/failureDetailHtml';
import { makeNonce } from '../../src/extension/shared/webviewPage';
import { launchBrowser, MEDIA, startPageServer, type Browser, type PageServer } from '../fixtures/dashboard/harness';

let browser: Browser;
let server: PageServer;

before(async () => {
  if (!fs.existsSync(path.join(MEDIA, 'failureDetail.js'))) throw new Error('media/failureDetail.js is missing: build the webview first (npm run build)');
  server = await startPageServer((origin) =>
    renderFailureDetailPage({
      cspSource: origin,
      nonce: makeNonce(),
      scriptUri: `${origin}/media/failureDetail.js`,
      styleUri: `${origin}/media/failureDetail.css`,
    }),
  );
  browser = await launchBrowser({ width: 520, height: 700 });
});
after(async () => {
  await browser?.close();
  await server?.close();
});

/** A failing query whose top 10 holds long code lines without spaces and long ids (the clipped case of issue 19). */
function record(queryId: string, search?: string): FailureRecord {
  const long = (i: number) => `def handler_${i}(request):return${'_very_long_identifier'.repeat(12)}(request.args["q"],limit=${i})`;
  return {
    step: 500,
    ...(search ? { search } : {}),
    queryId,
    query: `how to parse the query string ${queryId}`,
    source: { file: '/ws/data/queries.jsonl', line: 7 },
    rank: null,
    rankCutoff: 100,
    positives: [{ itemId: 'doc-1', text: long(0), rank: null, score: 0.41, source: { file: '/ws/data/corpus.jsonl', line: 100 } }],
    topK: Array.from({ length: 10 }, (_, i) => ({
      itemId: `django/contrib/admin/views/main.py::ChangeList.get_queryset_${'x'.repeat(40)}_${i}`,
      text: long(i + 1),
      score: 0.9 - i / 100,
      simToPositive: 0.5,
      relevant: false,
      source: { file: '/ws/data/corpus.jsonl', line: 200 + i },
    })),
    label: 'ranked-low',
    labelReason: 'the positive is ranked below the top 10',
    severity: 0.5,
  } as FailureRecord;
}

type Posted = { type: string; file?: string; line?: number };

async function openDetail() {
  const page = await browser.context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  // A string, not a function: tsx would wrap a function's source in helpers the page does not have.
  await page.addInitScript({ content: 'window.__posted = []; window.acquireVsCodeApi = () => ({ postMessage: (m) => window.__posted.push(m) });' });
  await page.goto(server.url('dark'));
  await page.waitForFunction(() => (window as unknown as { __posted: Posted[] }).__posted.some((m) => m.type === 'ready'));
  const show = async (key: string, r: FailureRecord) => {
    await page.evaluate(([k, html]) => window.postMessage({ type: 'show', key: k, html }, '*'), [key, renderFailureDetail(r, { baseDir: '/ws' })] as const);
    await page.locator('h1', { hasText: r.queryId }).waitFor();
  };
  return { page, errors, show };
}

test('the top-10 table with long unbroken texts and ids fits the panel: nothing cut off on the right', async () => {
  const { page, errors, show } = await openDetail();
  await show('q1#1', record('q1'));
  const fit = await page.evaluate(() => ({
    page: document.documentElement.scrollWidth,
    view: document.documentElement.clientWidth,
    tables: [...document.querySelectorAll('table')].map((t) => ({ right: t.getBoundingClientRect().right, box: (t.parentElement as HTMLElement).clientWidth })),
    cells: [...document.querySelectorAll('td')].filter((td) => td.scrollWidth > td.clientWidth + 1).length,
    narrowest: Math.min(...[...document.querySelectorAll('td.item, td.text')].map((td) => td.getBoundingClientRect().width)),
    headers: [...document.querySelectorAll('th')].filter((th) => th.getBoundingClientRect().height > 40).map((th) => th.textContent),
  }));
  assert.ok(fit.page <= fit.view, `the page does not overflow sideways: ${fit.page} px content in a ${fit.view} px panel`);
  for (const t of fit.tables) assert.ok(t.right <= fit.view + 0.5, `each table ends inside the panel: ${JSON.stringify(fit)}`);
  assert.equal(fit.cells, 0, 'no cell hides part of its text');
  assert.ok(fit.narrowest >= 90, `ids and texts wrap in readable columns, not a letter a line: the narrowest is ${fit.narrowest.toFixed(0)} px`);
  assert.deepEqual(fit.headers, [], 'every header on one line');
  await page.screenshot({ path: path.join(__dirname, '../..', 'test-artifacts', 'failure-detail-narrow.png'), fullPage: true }).catch(() => undefined);
  assert.deepEqual(errors, []);
  await page.close();
});

test('a new query starts at the top; the same query re-rendered keeps its place', async () => {
  const { page, errors, show } = await openDetail();
  await show('q1#1', record('q1'));
  await page.evaluate(() => window.scrollTo(0, 600));
  assert.ok((await page.evaluate(() => window.scrollY)) > 300, 'the detail is taller than the panel');
  await show('q1#1', record('q1'));
  assert.ok((await page.evaluate(() => window.scrollY)) > 300, 'the same query (its full texts read) keeps the scroll position');
  await show('q2#2', record('q2'));
  assert.equal(await page.evaluate(() => window.scrollY), 0, 'a new query is shown from its top');
  assert.deepEqual(errors, []);
  await page.close();
});

test('a retrieved item’s id opens its corpus line, the query’s location its line; the search named is the record’s', async () => {
  const { page, errors, show } = await openDetail();
  const r = record('q3', 'IVF-PQ, nprobe 16');
  await show('q3#1', r);
  assert.equal(await page.locator('[data-role="search"]').textContent(), 'IVF-PQ, nprobe 16', 'the IVF-PQ list’s detail says IVF-PQ, not exact');
  const rows = page.locator('h2:has-text("Top 10 retrieved") + .table-box tbody tr');
  assert.equal(await rows.count(), 10);
  await rows.nth(3).locator('a[data-file]').click();
  await page.locator('a', { hasText: 'data/queries.jsonl:7' }).click();
  const posted = await page.evaluate(() => (window as unknown as { __posted: Posted[] }).__posted.filter((m) => m.type === 'openLine'));
  assert.deepEqual(posted, [
    { type: 'openLine', file: '/ws/data/corpus.jsonl', line: 203 },
    { type: 'openLine', file: '/ws/data/queries.jsonl', line: 7 },
  ]);
  assert.deepEqual(errors, []);
  await page.close();
});
