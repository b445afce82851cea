/**
 * The Embedding Map webview in headless Chromium with maps of two real checkpoints (the paper's collapse,
 * examples/collapse/no-stop-gradient, and its healthy twin, trained here, ~10 s): the collapsed item tower
 * is drawn as one tight cluster, the healthy one spread; hovering a point shows its text, clicking it asks
 * the extension to open its data line. Needs the built bundle (media/embeddingMap.js: npm run build).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import type { AddressInfo } from 'node:net';
import { initBackend } from '../../src/core/backend';
import { parseConfigText } from '../../src/core/config';
import { pca2, sampleEmbeddings, spread2 } from '../../src/core/embeddingMap';
import { runTraining } from '../../src/core/training/trainLoop';
import type { EmbeddingMapData } from '../../src/trainer/protocol';
import { makeNonce } from '../../src/extension/shared/webviewPage';
import { renderMapHtml } from '../../src/extension/embeddingMap/embeddingMapHtml';
import { launchBrowser, MEDIA, type Browser } from '../fixtures/dashboard/harness';

const EXAMPLES = path.resolve(__dirname, '../../examples/collapse');
let browser: Browser;
let server: http.Server;
let origin = '';
let runsRoot = '';
const maps: Record<'collapsed' | 'healthy', EmbeddingMapData> = {} as never;

before(async () => {
  if (!fs.existsSync(path.join(MEDIA, 'embeddingMap.js'))) throw new Error('media/embeddingMap.js is missing: build the webview first (npm run build)');
  const backend = await initBackend('wasm');
  runsRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'rlens-mapview-'));
  for (const [kind, file] of [
    ['collapsed', 'no-stop-gradient.rlens.json'],
    ['healthy', 'stop-gradient.rlens.json'],
  ] as const) {
    const f = path.join(EXAMPLES, file);
    const runDir = (await runTraining({ loaded: parseConfigText(fs.readFileSync(f, 'utf8'), f), backend, runsRoot })).runDir;
    const s = await sampleEmbeddings({ runDir, items: 600, queries: 150 });
    const p = pca2(s.vectors, s.points.length, s.dim);
    maps[kind] = {
      method: 'pca',
      coords: Array.from(p.coords),
      explained: p.explained,
      totalVariance: p.totalVariance,
      spread: spread2(p.coords),
      points: s.points.map((x) => ({ kind: x.kind, id: x.id, text: x.text, file: x.source.file, line: x.source.line, label: x.label })),
    };
  }
  server = http.createServer((req, res) => {
    if (req.url === '/') {
      res.setHeader('content-type', 'text/html');
      res.end(renderMapHtml({ cspSource: origin, nonce: makeNonce(), scriptUri: `${origin}/media/embeddingMap.js`, title: 'Embedding Map' }));
    } else if (req.url === '/media/embeddingMap.js') {
      res.setHeader('content-type', 'text/javascript');
      res.end(fs.readFileSync(path.join(MEDIA, 'embeddingMap.js')));
    } else {
      res.statusCode = req.url === '/favicon.ico' ? 204 : 404;
      res.end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await launchBrowser({ width: 900, height: 800 });
});
after(async () => {
  await browser?.close();
  server?.close();
  if (runsRoot) fs.rmSync(runsRoot, { recursive: true, force: true });
});

type Hook = { spreadPx(kind: 'item' | 'query'): number; pagePosition(i: number): { x: number; y: number }; pointCount(): number };

async function openMap(map: EmbeddingMapData) {
  const page = await browser.context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  // A string, not a function: tsx would wrap a function's source in helpers the page does not have.
  await page.addInitScript({ content: 'window.__posted = []; window.acquireVsCodeApi = () => ({ postMessage: (m) => window.__posted.push(m) });' });
  await page.goto(origin + '/');
  await page.waitForFunction(() => (window as unknown as { __posted: { type: string }[] }).__posted.some((m) => m.type === 'ready'));
  await page.evaluate(
    (m) => window.postMessage({ type: 'map', title: 'run · step 200', map: m, files: { vectors: '/x/vectors.tsv', metadata: '/x/metadata.tsv' } }, '*'),
    map,
  );
  await page.waitForFunction((n) => (window as unknown as { __rlensMap: Hook }).__rlensMap.pointCount() === n, map.points.length);
  return { page, errors };
}

test("the collapsed checkpoint's items are drawn as one tight cluster, the healthy checkpoint's spread", async () => {
  const px: Record<string, number> = {};
  for (const kind of ['collapsed', 'healthy'] as const) {
    const { page, errors } = await openMap(maps[kind]);
    px[kind] = await page.evaluate(() => (window as unknown as { __rlensMap: Hook }).__rlensMap.spreadPx('item'));
    assert.match(
      (await page.locator('[data-role="status"]').textContent()) ?? '',
      /^PCA · axes [\d.]+% \+ [\d.]+% of variance [\d.]+ · exported \/x\/vectors\.tsv/,
    );
    await page.screenshot({ path: path.join(__dirname, '../..', 'test-artifacts', `embedding-map-${kind}.png`) }).catch(() => undefined);
    assert.deepEqual(errors, []);
    await page.close();
  }
  assert.ok(px.collapsed < px.healthy / 4, `item spread ${px.collapsed.toFixed(1)} px (collapsed) vs ${px.healthy.toFixed(1)} px (healthy)`);
});

test('hovering a point shows its text; clicking it asks to open its data line', async () => {
  const map = maps.healthy;
  const { page, errors } = await openMap(map);
  const i = map.points.findIndex((p) => p.kind === 'query');
  const at = await page.evaluate((k) => (window as unknown as { __rlensMap: Hook }).__rlensMap.pagePosition(k), i);
  await page.mouse.move(at.x, at.y);
  const tip = page.locator('[data-role="tip"]');
  await tip.waitFor({ state: 'visible' });
  const text = (await tip.textContent()) ?? '';
  assert.match(text, /^(query|item) /);
  await page.mouse.click(at.x, at.y);
  const posted = await page.evaluate(() =>
    (window as unknown as { __posted: { type: string; file?: string; line?: number }[] }).__posted.filter((m) => m.type === 'open'),
  );
  assert.equal(posted.length, 1);
  const shown = map.points.find((p) => text.includes(p.text) && p.file === posted[0].file && p.line === posted[0].line);
  assert.ok(shown, `the clicked point is the hovered one: ${text} / ${JSON.stringify(posted[0])}`);
  assert.deepEqual(errors, []);
  await page.close();
});
