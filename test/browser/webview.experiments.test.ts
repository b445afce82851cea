/**
 * The Experiments webview (media/experiments.js, built by `npm run build`) in headless Chromium, hosted as
 * VS Code hosts it (renderExperimentsHtml, an acquireVsCodeApi stub that records posted messages):
 * - the run comparison of two really trained and evaluated runs (adaptive softmax vs fixed margin δ 0.3)
 *   shows the config keys that differ and both runs' curves, each line holding exactly the values of its
 *   run's events.jsonl; a click on a failing query asks the host to open its data line;
 * - the sweep result view draws one point per swept value with its ± std error bars, the reference band
 *   and the BM25 line of a given view message, and asks for another metric when one is selected.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Page } from 'playwright-core';
import { compareRuns } from '../../src/core/experiments/compareRuns';
import { readEvents } from '../../src/core/runs/eventLog';
import type { EvalEvent, StepEvent } from '../../src/core/runs/eventSchema';
import { makeNonce } from '../../src/extension/shared/webviewPage';
import { toComparisonView } from '../../src/extension/comparison/comparisonViewData';
import { renderExperimentsHtml } from '../../src/extension/comparison/experimentsHtml';
import type {} from '../../src/webview/experiments/debugHook';
import { parseFromExperiments, parseToExperiments, type ComparisonView, type SweepView } from '../../src/webview/experiments/protocol';
import { ARTIFACTS, launchBrowser, MEDIA, THEMES, type Browser } from '../fixtures/dashboard/harness';
import { trainComparedRuns, type TrainedPair } from '../helpers/comparedRuns';

let browser: Browser;
let server: http.Server;
let origin = '';
let pair: TrainedPair;
let comparison: ComparisonView;

before(async () => {
  for (const f of ['experiments.js', 'dashboard.css', 'experiments.css'])
    if (!fs.existsSync(path.join(MEDIA, f))) throw new Error(`media/${f} is missing: build the webview first (npm run build)`);
  pair = await trainComparedRuns();
  comparison = toComparisonView(compareRuns(pair.runDirs));
  server = http.createServer((req, res) => {
    const url = req.url ?? '/';
    if (url === '/') {
      res.setHeader('content-type', 'text/html');
      return res.end(
        renderExperimentsHtml({
          cspSource: origin,
          nonce: makeNonce(),
          scriptUri: `${origin}/media/experiments.js`,
          dashboardStyleUri: `${origin}/media/dashboard.css`,
          styleUri: `${origin}/media/experiments.css`,
          title: 'Compare Runs',
        }).replace('<body>', `<body class="${THEMES.dark.bodyClass}">`),
      );
    }
    const file = path.join(MEDIA, path.basename(url));
    if (url.startsWith('/media/') && fs.existsSync(file)) {
      res.setHeader('content-type', file.endsWith('.js') ? 'text/javascript' : 'text/css');
      return res.end(fs.readFileSync(file));
    }
    res.statusCode = url === '/favicon.ico' ? 204 : 404;
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await launchBrowser({ width: 1200, height: 1600 });
});
after(async () => {
  await browser?.close();
  server?.close();
  pair?.tempDirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true }));
});

type Posted = { type: string; [k: string]: unknown };

/** Opens the page with the VS Code stub and the dark theme's variables; sends `message` once it is ready. */
async function openWith(message: unknown): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => (m.type() === 'error' || m.type() === 'warning') && errors.push(m.text()));
  const vars = JSON.stringify(THEMES.dark.vars);
  // A string, not a function: tsx would wrap a function's source in helpers the page does not have.
  await page.addInitScript({
    content: `window.__posted = []; window.__csp = [];
      window.acquireVsCodeApi = () => ({ postMessage: (m) => window.__posted.push(JSON.parse(JSON.stringify(m))), getState: () => null, setState: (s) => { window.__state = JSON.parse(JSON.stringify(s)); } });
      document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(e.violatedDirective));
      new MutationObserver((_, o) => { if (document.documentElement) { o.disconnect(); const v = ${vars}; for (const k in v) document.documentElement.style.setProperty(k, v[k]); document.documentElement.style.backgroundColor = v['--vscode-sideBar-background']; } }).observe(document, { childList: true });`,
  });
  await page.goto(origin + '/');
  await page.waitForFunction(() => (window as unknown as { __posted: Posted[] }).__posted.some((m) => m.type === 'ready'));
  await page.evaluate((m) => window.postMessage(m, '*'), message);
  await page.waitForFunction((t) => window.__rlensExperiments?.state().view === t, (message as { type: string }).type);
  return { page, errors };
}

const posted = (page: Page) => page.evaluate(() => (window as unknown as { __posted: Posted[] }).__posted);

interface Line {
  label: string;
  run: number;
  color: string;
  points: { x: number; y: number | null }[];
}

test('protocol: the comparison of the two runs validates; a malformed view is rejected with the path of the bad field', () => {
  assert.deepEqual(parseToExperiments({ type: 'compare', view: comparison }), { ok: true, value: { type: 'compare', view: comparison } });
  const bad = structuredClone(comparison);
  (bad.series[1].ratio as unknown[])[0] = 'high';
  const r = parseToExperiments({ type: 'compare', view: bad });
  assert.equal(r.ok, false);
  if (!r.ok) assert.match(r.reason, /^compare\.view\.series\[1\]\.ratio\[0\]: must be a number or null$/);
  const short = structuredClone(comparison);
  short.series[0].loss.pop();
  const s = parseToExperiments({ type: 'compare', view: short });
  assert.deepEqual(s, { ok: false, reason: 'compare.view.series[0]: every series needs one value per step' });
  assert.equal(parseToExperiments({ type: 'compare', view: { ...comparison, runs: comparison.runs.slice(0, 1) } }).ok, false, 'one run is no comparison');
  assert.deepEqual(parseFromExperiments({ type: 'openLine', file: '/x.jsonl', line: 3 }), { ok: true, value: { type: 'openLine', file: '/x.jsonl', line: 3 } });
  assert.equal(parseFromExperiments({ type: 'openLine', file: '/x.jsonl', line: 0 }).ok, false);
  assert.equal(parseFromExperiments({ type: 'openLine', file: '/x.jsonl', line: 3, extra: 1 }).ok, false);
});

test('the comparison shows the differing config keys and both runs’ curves, one colour per run, exactly as logged', async () => {
  const { page, errors } = await openWith({ type: 'compare', view: comparison });
  // Differing config keys: a row per key with each run's value.
  const rows = await page.$$eval('[data-role="config"] tbody tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)));
  const byKey = new Map(rows.map((r) => [r[0], r.slice(1)]));
  assert.deepEqual(byKey.get('loss.type'), ['softmax', 'margin']);
  assert.deepEqual(byKey.get('loss.adaptive'), ['true', 'false']);
  assert.deepEqual(byKey.get('loss.margin'), ['0.1', '0.3']);
  assert.equal(byKey.has('training.steps'), false, 'equal keys are not listed');
  // the state VS Code keeps for the panel serializer: the compared run folders, to compare again after a reload
  assert.deepEqual(await page.evaluate(() => (window as unknown as { __state: unknown }).__state), { compare: comparison.runs.map((r) => r.dir) });

  // Both runs' curves: every chart has a line per run holding its events.jsonl values.
  const drawn = (await page.evaluate(() => window.__rlensExperiments!.compareCharts())) as Record<string, { lines: Line[]; thresholds: number[] }>;
  const charts = Object.fromEntries(Object.entries(drawn).map(([id, c]) => [id, c.lines]));
  for (const [r, dir] of pair.runDirs.entries()) {
    const steps = readEvents(path.join(dir, 'events.jsonl')).events.filter((e): e is StepEvent => e.type === 'step');
    assert.ok(steps.length >= 8);
    const lineOf = (chart: string, k = 0) => charts[chart].filter((l) => l.run === r)[k];
    const expect: Record<string, (e: StepEvent) => number | null> = {
      ratio: (e) => e.diagnostics.collapse.ratio,
      itemCosine: (e) => e.diagnostics.collapse.itemCosine,
      recall: (e) => e.diagnostics.recall.at10,
      hyper: (e) => (e.diagnostics.dist.tau ?? e.diagnostics.dist.delta)!.p50,
    };
    for (const [chart, get] of Object.entries(expect))
      assert.deepEqual(
        lineOf(chart).points,
        steps.map((e) => ({ x: e.step, y: get(e) })),
        `${chart} of run ${r}`,
      );
    assert.deepEqual(
      lineOf('loss', 0).points,
      steps.map((e) => ({ x: e.step, y: e.loss })),
      `raw loss of run ${r}`,
    );
    assert.equal(lineOf('loss', 1).points.length, steps.length, 'smoothed loss');
    const entry = JSON.parse(fs.readFileSync(path.join(dir, 'eval', 'metrics.json'), 'utf8')).evaluations.at(-1);
    // The full evaluation and the live held-out ones (a sample, during training) are two series, never one.
    assert.deepEqual(lineOf('eval').points, [{ x: entry.step, y: entry.exact['recall@10'] }], `full evaluation recall@10 of run ${r}`);
    const heldOut = readEvents(path.join(dir, 'events.jsonl')).events.filter((e): e is EvalEvent => e.type === 'eval' && e.heldOut !== undefined);
    assert.ok(heldOut.length >= 1, 'the default live held-out evaluation ran');
    assert.deepEqual(
      lineOf('eval', 1).points,
      heldOut.map((e) => ({ x: e.step, y: e.metrics['recall@10'] })),
      `held-out recall@10 of run ${r}`,
    );
    assert.match(lineOf('eval', 1).label, /\(held-out sample\)$/);
  }
  // One colour per run, the same in every chart; the runs' colours differ.
  const colorOf = (r: number) => new Set(Object.values(charts).flatMap((ls) => ls.filter((l) => l.run === r && !/raw/.test(l.label)).map((l) => l.color)));
  assert.equal(colorOf(0).size, 1);
  assert.equal(colorOf(1).size, 1);
  assert.notEqual([...colorOf(0)][0], [...colorOf(1)][0]);
  // The R chart carries the R = 1 line.
  assert.ok(drawn.ratio.thresholds.includes(1));

  // Final metrics: the evaluation's recall@10 per run.
  const metricRow = await page.$$eval('[data-metric="eval/recall@10"] td', (tds) => tds.map((td) => td.textContent));
  const recall = comparison.metrics.find((m) => m.key === 'eval/recall@10')!.values as number[];
  assert.deepEqual(metricRow, ['recall@10', ...recall.map((v) => String(+v.toPrecision(4)))]);
  // Refresh asks the host to read the runs again.
  await page.click('[data-role="refresh"]');
  await page.waitForFunction(() => (window as unknown as { __posted: Posted[] }).__posted.some((m) => m.type === 'refresh'));
  await page.screenshot({ path: path.join(ARTIFACTS, 'experiments-compare.png'), fullPage: true }).catch(() => undefined);
  assert.deepEqual(errors, []);
  assert.deepEqual(await page.evaluate(() => (window as unknown as { __csp: string[] }).__csp), []);
  await page.close();
});

test('the failing-query diff lists the queries failing in one run only; a click asks the host to open the query’s data line', async () => {
  const { page } = await openWith({ type: 'compare', view: comparison });
  const f = comparison.failures;
  assert.ok(f.rows.length > 0, 'the two losses fail on different queries');
  const counts = (await page.textContent('[data-role="failure-counts"]')) ?? '';
  assert.ok(counts.startsWith(`fail only in A: ${f.onlyIn[0]} · fail only in B: ${f.onlyIn[1]} · fail in all: ${f.inAll}`), counts);
  assert.equal(await page.locator('[data-role="failures"] tbody tr').count(), f.rows.length);
  const row = f.rows[f.rows.length - 1];
  const tr = page.locator(`[data-role="failures"] tbody tr[data-query="${row.queryId}"]`);
  assert.equal(await tr.getAttribute('data-fails'), row.runs.map((x) => (x ? '1' : '0')).join(''));
  await tr.locator('button.link').click();
  await page.waitForFunction(() => (window as unknown as { __posted: Posted[] }).__posted.some((m) => m.type === 'openLine'));
  const open = (await posted(page)).filter((m) => m.type === 'openLine');
  assert.deepEqual(open, [{ type: 'openLine', file: row.file, line: row.line }]);
  const dataLine = fs.readFileSync(row.file, 'utf8').split('\n')[row.line - 1];
  assert.ok(dataLine.includes(JSON.stringify(row.query).slice(1, -1)), 'the data line holds the query');
  await page.close();
});

/** A sweep of τ over five values, three seeds each (one value with a missing run), with the adaptive reference and BM25. */
function sweepView(): SweepView {
  const values = [1 / 50, 1 / 30, 1 / 20, 1 / 10, 1 / 5];
  const means = [0.31, 0.36, 0.42, 0.38, 0.22];
  const points = values.map((value, i) => {
    const runs = [0, 1, 2].map((seed) => ({
      seed,
      runDir: `/runs/tau-${i}-s${seed}`,
      value: i === 4 && seed === 2 ? null : means[i] + (seed - 1) * 0.02 * (i + 1),
    }));
    const v = runs.flatMap((r) => (r.value === null ? [] : [r.value]));
    const mean = v.reduce((a, b) => a + b, 0) / v.length;
    const std = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (v.length - 1));
    return { value, mean, std, n: v.length, runs };
  });
  return {
    title: 'sweep of loss.temperature',
    param: 'loss.temperature',
    metric: 'recall@10',
    metrics: ['recall@10', 'mrr@10', 'ndcg@10'],
    points,
    reference: { label: 'adaptive τ', mean: 0.4, std: 0.015, n: 3 },
    bm25: { mean: 0.612 },
    claim: 'the adaptive loss vs the best fixed value (0.05, picked after the fact): -2.0 points of recall@10, no significant difference',
  };
}

test('the sweep view draws one point per value with ± std error bars, the adaptive band and the BM25 line', async () => {
  const view = sweepView();
  const { page, errors } = await openWith({ type: 'sweep', view });
  type Drawn = {
    xScale: string;
    points: { x: number; y: number }[];
    runs: { x: number; y: number }[];
    errorBars: { value: number; low: number; high: number; px: { x: number; yLow: number; yHigh: number } }[];
    referenceBand: { low: number; high: number; px: { top: number; bottom: number } };
    bm25: { value: number; px: number };
    chartArea: { left: number; right: number; top: number; bottom: number };
    canvas: { x: number; y: number };
  };
  await page.waitForFunction(() => ((window.__rlensExperiments!.sweepChart() as { errorBars: unknown[] } | null)?.errorBars.length ?? 0) > 0);
  const d = (await page.evaluate(() => window.__rlensExperiments!.sweepChart())) as Drawn;
  assert.equal(d.xScale, 'logarithmic', 'τ from 1/50 to 1/5 spans a factor of 10');
  assert.deepEqual(
    d.points,
    view.points.map((p) => ({ x: p.value, y: p.mean })),
  );
  assert.equal(d.runs.length, 14, 'every run with a value is a dot (15 runs, one without the metric)');
  assert.deepEqual(
    d.errorBars.map((b) => [b.value, b.low, b.high]),
    view.points.map((p) => [p.value, p.mean! - p.std!, p.mean! + p.std!]),
  );
  for (const b of d.errorBars) assert.ok(b.px.yLow > b.px.yHigh + 1, `the bar at ${b.value} is drawn with a height (${b.px.yLow} > ${b.px.yHigh})`);
  assert.deepEqual([d.referenceBand.low, d.referenceBand.high], [0.4 - 0.015, 0.4 + 0.015]);
  assert.equal(d.bm25.value, 0.612);
  // The band is painted: inside it the canvas is tinted green, just above it is not.
  const at = async (y: number) =>
    page.evaluate(
      ([x, yy]) => {
        const c = document.querySelector('[data-chart="sweep"] canvas') as HTMLCanvasElement;
        const ratio = c.width / c.getBoundingClientRect().width;
        return [...c.getContext('2d')!.getImageData(Math.round(x * ratio), Math.round(yy * ratio), 1, 1).data];
      },
      [(d.chartArea.left + d.chartArea.right) / 2 + 7, y] as const,
    );
  const inside = await at((d.referenceBand.px.top + d.referenceBand.px.bottom) / 2 + 2);
  const above = await at(d.referenceBand.px.top - 12);
  assert.ok(inside[3] > 0 && inside[1] > inside[0], `inside the band: green-tinted pixel ${inside}`);
  assert.ok(above[3] === 0 || above[1] <= above[0] + 5, `above the band: no tint ${above}`);
  // The table lists the numbers; picking another metric asks the host for that view.
  const cells = await page.$$eval('[data-role="sweep-points"] tr[data-value="reference"] td', (tds) => tds.map((t) => t.textContent));
  assert.deepEqual(cells.slice(0, 4), ['adaptive τ', '0.4', '0.015', '3']);
  // The caption shows the numbers and the host's claim (src/core/experiments/claim.ts decides it; the webview draws no conclusion of its own).
  assert.equal(
    (await page.textContent('[data-chart="sweep"] .chart-sub')) ?? '',
    `best fixed: loss.temperature = 0.05 → 0.42 · adaptive τ: 0.4 ± 0.015 · ${view.claim}`,
  );
  await page.selectOption('[data-role="metric"]', 'mrr@10');
  await page.waitForFunction(() => (window as unknown as { __posted: Posted[] }).__posted.some((m) => m.type === 'selectMetric'));
  assert.deepEqual(
    (await posted(page)).filter((m) => m.type === 'selectMetric'),
    [{ type: 'selectMetric', metric: 'mrr@10' }],
  );
  // "Compare Runs" asks the host to compare the sweep's 15 runs.
  await page.click('[data-role="compare"]');
  await page.waitForFunction(() => (window as unknown as { __posted: Posted[] }).__posted.some((m) => m.type === 'compareRuns'));
  const cmp = (await posted(page)).find((m) => m.type === 'compareRuns') as unknown as { dirs: string[] };
  assert.deepEqual(
    cmp.dirs,
    view.points.flatMap((p) => p.runs.map((r) => r.runDir)),
  );
  await page.screenshot({ path: path.join(ARTIFACTS, 'experiments-sweep.png'), fullPage: true }).catch(() => undefined);
  // (Chromium's hint about this test's own pixel reads is not the page's error.)
  assert.deepEqual(
    errors.filter((e) => !e.startsWith('Canvas2D: Multiple readback')),
    [],
  );
  await page.close();
});
