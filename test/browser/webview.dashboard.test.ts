/**
 * The Dashboard webview: its protocol guards, its HTML/CSP, its decimation and smoothing, and the real
 * bundle (media/dashboard.js, built by `npm run build`) in headless Chromium fed with the message
 * streams recorded from real training runs (test/fixtures/dashboard/record.ts).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import type { Page } from 'playwright-core';
import { DecimatedSeries, DEFAULT_MAX_BUCKETS, type ChartPoint } from '../../src/webview/shared/decimatedSeries';
import { GrowableFloat64 } from '../../src/webview/shared/growableArray';
import { EmaSmoother } from '../../src/webview/shared/smoothing';
import { renderDashboardHtml } from '../../src/extension/dashboard/dashboardHtml';
import { makeNonce, webviewCsp } from '../../src/extension/shared/webviewPage';
import { parseFromDashboard, parseToDashboard, type RunHeader, type StepEvent, type ToDashboard } from '../../src/webview/dashboard/protocol';
import { DEFAULT_COLLAPSE_THRESHOLDS } from '../../src/core/metrics/collapseMonitor';
import { describeHeldOut, qualityVerdict } from '../../src/core/quality';
import {
  ARTIFACTS,
  cspViolations,
  launchBrowser,
  loadRecording,
  openDashboard,
  posted,
  postSynthetic,
  send,
  startPageServer,
  switchTheme,
  syntheticSteps,
  type Browser,
  type PageLog,
  type PageServer,
  type Recording,
} from '../fixtures/dashboard/harness';

// ---------------------------------------------------------------------------------------------
// Recorded facts

const softmax = loadRecording('softmax');
const margin = loadRecording('margin-collapse');

function stepsOf(r: Recording): StepEvent[] {
  return r.messages.flatMap((m) => (m.message.type === 'steps' ? m.message.steps : []));
}

function lastHeader(r: Recording): RunHeader {
  const s = r.messages.filter((m) => m.message.type === 'status' || m.message.type === 'reset').map((m) => (m.message as { run: RunHeader }).run);
  return s[s.length - 1];
}

function evalsOf(r: Recording) {
  return r.messages.flatMap((m) => (m.message.type === 'eval' ? [m.message.point] : []));
}

const messagesOf = (r: Recording): ToDashboard[] => r.messages.map((m) => m.message);

// ---------------------------------------------------------------------------------------------
// Pure parts (no browser)

test('protocol: every recorded message validates; malformed ones are rejected with the path of the bad field', () => {
  for (const r of [softmax, margin]) {
    assert.ok(r.messages.length > 10);
    for (const { message } of r.messages) assert.deepEqual(parseToDashboard(message), { ok: true, value: message });
  }
  const step = structuredClone(stepsOf(softmax)[5]);
  const bad = (mutate: (s: StepEvent) => void): ToDashboard => {
    const s = structuredClone(step);
    mutate(s);
    return { type: 'steps', steps: [step, s] };
  };
  const cases: [unknown, RegExp][] = [
    [null, /not an object/],
    [{ type: 'bogus' }, /unknown message type "bogus"/],
    [{ type: 'steps' }, /^steps\.steps: missing$/],
    [{ type: 'steps', steps: {} }, /^steps\.steps: expected array$/],
    [bad((s) => ((s.diagnostics.dist.tau!.hist as { counts: unknown }).counts = 'x')), /steps\.steps\[1\]\.diagnostics\.dist\.tau\.hist\.counts/],
    [bad((s) => (s.diagnostics.dist.tau!.hist.lo = 2)), /steps\.steps\[1\]\.diagnostics\.dist\.tau\.hist needs lo < hi/],
    [bad((s) => ((s as { step: unknown }).step = 1.5)), /steps\.steps\[1\]\.step/],
    [bad((s) => ((s.verdict as { state: string }).state = 'fine')), /verdict/],
    [bad((s) => ((s.diagnostics.collapse as { ratio: unknown }).ratio = '1.2')), /steps\.steps\[1\]\.diagnostics\.collapse\.ratio: must be a number or null/],
    [{ type: 'status', run: { ...lastHeader(softmax), status: 'paused' } }, /status\.run\.status: must be one of/],
    [{ type: 'reset', run: null, steps: [], evals: [{ step: 1, metrics: { 'recall@10': 'high' } }] }, /reset\.evals\[0\]\.metrics\["recall@10"\]/],
  ];
  for (const [msg, reason] of cases) {
    const r = parseToDashboard(msg);
    assert.equal(r.ok, false, `accepted ${JSON.stringify(msg).slice(0, 80)}`);
    if (!r.ok) assert.match(r.reason, reason);
  }
  // null numbers inside diagnostics (non-finite values, docs/run-format.md) are valid
  const withNulls = structuredClone(step);
  withNulls.diagnostics.collapse.ratio = null;
  (withNulls.diagnostics.dist.sQV as { mean: number | null }).mean = null;
  assert.equal(parseToDashboard({ type: 'steps', steps: [withNulls] }).ok, true);

  for (const t of ['ready', 'stop', 'openLog', 'evaluate'] as const) assert.deepEqual(parseFromDashboard({ type: t }), { ok: true, value: { type: t } });
  assert.equal(parseFromDashboard({ type: 'stop', force: true }).ok, false);
  assert.equal(parseFromDashboard({ type: 'start' }).ok, false);
  assert.equal(parseFromDashboard('stop').ok, false);
});

test('html: strict CSP with the nonce, escaped text, no inline styles or remote content', () => {
  const nonce = makeNonce();
  const html = renderDashboardHtml({
    cspSource: 'https://file+.vscode-resource.vscode-cdn.net',
    nonce,
    scriptUri: 'https://file+.vscode-resource.vscode-cdn.net/ext/media/dashboard.js',
    styleUri: 'https://file+.vscode-resource.vscode-cdn.net/ext/media/dashboard.css',
    codiconsUri: 'https://file+.vscode-resource.vscode-cdn.net/ext/media/codicons/codicon.css',
    title: 'Run <b>"x"</b> & y',
  });
  const csp = `default-src 'none'; img-src https://file+.vscode-resource.vscode-cdn.net data:; style-src https://file+.vscode-resource.vscode-cdn.net; font-src https://file+.vscode-resource.vscode-cdn.net; script-src 'nonce-${nonce}'`;
  assert.equal(webviewCsp('https://file+.vscode-resource.vscode-cdn.net', nonce), csp);
  assert.ok(html.includes(`<meta http-equiv="Content-Security-Policy" content="${csp.replace(/'/g, '&#39;')}">`));
  assert.match(html, new RegExp(`<script nonce="${nonce}" src="https://file\\+\\.vscode-resource\\.vscode-cdn\\.net/ext/media/dashboard\\.js"></script>`));
  assert.equal((html.match(/<script/g) ?? []).length, 1, 'one script, the nonce’d bundle');
  assert.ok(html.includes('<title>Run &lt;b&gt;&quot;x&quot;&lt;/b&gt; &amp; y</title>'));
  assert.doesNotMatch(html, /style=|<style/i, 'no inline styles');
  const urls = html.match(/https?:\/\/[^\s"';]+/g) ?? [];
  for (const u of urls) assert.ok(u.startsWith('https://file+.vscode-resource.vscode-cdn.net'), `remote URL ${u}`);
  assert.ok(renderDashboardHtml({ cspSource: 'x', nonce, scriptUri: 's', styleUri: 'c', title: 't' }).includes('codicon') === false);
  assert.throws(() => renderDashboardHtml({ cspSource: 'x', nonce: "a' 'unsafe-inline", scriptUri: 's', styleUri: 'c', title: 't' }), /nonce/);
  const nonces = new Set(Array.from({ length: 200 }, makeNonce));
  assert.equal(nonces.size, 200);
  for (const n of nonces) assert.match(n, /^[A-Za-z0-9]{32}$/);
});

/** A seeded generator (LCG), so the decimation test is reproducible. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

test('rangePoints: a zoomed range decimated afresh — exact when few, else bounded with its extremes and gaps; cached', () => {
  const N = 100_000;
  const xs = new GrowableFloat64();
  const ys = new GrowableFloat64();
  const rnd = lcg(7);
  for (let i = 0; i < N; i++) {
    xs.push(10 * i);
    ys.push(i >= 50_200 && i < 50_400 ? NaN : i === 50_777 ? 1e6 : rnd());
  }
  for (const mode of ['minmax', 'max', 'min'] as const) {
    const s = new DecimatedSeries(xs, ys, mode);
    s.sync();
    assert.equal(s.rangePoints(0, 10 * N), null, `${mode}: the whole range is the series' own points`);
    const exact = s.rangePoints(10 * 40_000, 10 * 40_500)!;
    assert.equal(exact.length, 503, `${mode}: 501 points in the range, exact, plus one past each edge`);
    assert.deepEqual(exact[1], { x: 10 * 40_000, y: ys.get(40_000) });
    const wide = s.rangePoints(10 * 30_000, 10 * 70_000)!;
    assert.ok(wide.length <= 2 * DEFAULT_MAX_BUCKETS + 2 && wide.length >= 0.9 * DEFAULT_MAX_BUCKETS, `${mode}: ${wide.length} points for 40k steps`);
    if (mode !== 'min')
      assert.ok(
        wide.some((p) => p.y === 1e6),
        `${mode}: the spike is kept`,
      );
    if (mode === 'minmax')
      assert.ok(
        wide.some((p) => p.y === null && p.x >= 10 * 50_200 && p.x < 10 * 50_400),
        'the gap is kept',
      );
    assert.equal(s.rangePoints(10 * 30_000, 10 * 70_000), wide, `${mode}: the same array while nothing changed`);
  }
});

test('decimation: bounded display points, incremental = from scratch, extremes and gaps kept, exact while short', () => {
  const rnd = lcg(7);
  const maxBuckets = 64;
  const xs = new GrowableFloat64(4);
  const ys = new GrowableFloat64(4);
  const series = {
    minmax: new DecimatedSeries(xs, ys, 'minmax', maxBuckets),
    max: new DecimatedSeries(xs, ys, 'max', maxBuckets),
    min: new DecimatedSeries(xs, ys, 'min', maxBuckets),
  };
  let n = 0;
  while (n < 20_000) {
    const chunk = 1 + Math.floor(rnd() * (n < 200 ? 5 : 700));
    for (let k = 0; k < chunk; k++, n++) {
      xs.push(10 * n + 1);
      ys.push(rnd() < 0.01 ? NaN : Math.sin(n / 50) + rnd() * 0.1 + (n === 12_345 ? 50 : 0));
    }
    for (const s of Object.values(series)) s.sync();
    const mm = series.minmax.toArray();
    if (n <= maxBuckets) {
      // exact while short: one point per logged step, missing values as gaps
      assert.deepEqual(
        mm,
        Array.from({ length: n }, (_, i) => ({ x: xs.get(i), y: Number.isNaN(ys.get(i)) ? null : ys.get(i) })),
      );
    }
    for (const [mode, s] of Object.entries(series)) {
      assert.ok(s.displayCount <= 2 * maxBuckets + 2 + (mode === 'minmax' ? maxBuckets : 0), `${mode}: ${s.displayCount} points for ${n}`);
      const pts = s.toArray();
      for (let i = 1; i < pts.length; i++) assert.ok(pts[i].x >= pts[i - 1].x, `${mode}: x sorted`);
      assert.equal(pts[pts.length - 1].x, xs.get(n - 1), `${mode}: reaches the newest step`);
    }
  }
  // incremental == from scratch
  for (const [mode, s] of Object.entries(series)) {
    const fresh = new DecimatedSeries(xs, ys, s.mode, maxBuckets);
    fresh.sync();
    assert.deepEqual(s.toArray(), fresh.toArray(), `${mode}: incremental equals batch`);
    assert.equal(s.bucketSize, 512, `${mode}: 20000 points in ≤ 64 buckets`);
  }
  const finite = Array.from({ length: n }, (_, i) => ys.get(i)).filter((v) => !Number.isNaN(v));
  const yOf = (pts: ChartPoint[]) => pts.flatMap((p) => (p.y === null ? [] : [p.y]));
  const mm = series.minmax.toArray();
  assert.equal(Math.max(...yOf(mm)), Math.max(...finite), 'the spike survives');
  assert.equal(Math.max(...finite), ys.get(12_345));
  assert.equal(Math.min(...yOf(mm)), Math.min(...finite));
  // Scattered missing values (1%) inside buckets of 512 do not cut the line into isolated points…
  assert.ok(!mm.some((p) => p.y === null), 'scattered missing values do not fragment the decimated line');
  // …while a stretch missing for whole buckets stays a visible gap.
  const hx = new GrowableFloat64(4);
  const hy = new GrowableFloat64(4);
  for (let i = 0; i < 10_000; i++) {
    hx.push(i);
    hy.push(i >= 3000 && i < 4000 ? NaN : Math.cos(i / 300));
  }
  const holed = new DecimatedSeries(hx, hy, 'minmax', 64);
  holed.sync();
  const nulls = holed.toArray().filter((p) => p.y === null);
  assert.ok(nulls.length > 0 && nulls.every((p) => p.x >= 3000 && p.x < 4000), `a whole missing stretch is a gap: ${JSON.stringify(nulls)}`);
  // every display point of a min/max line is a real (x, y) pair of the data
  for (const p of mm) {
    const i = (p.x - 1) / 10;
    assert.equal(p.y, Number.isNaN(ys.get(i)) ? null : ys.get(i));
  }
  // band edges: the max edge is an upper envelope, the min edge a lower one, at shared x positions
  const hi = series.max.toArray();
  const lo = series.min.toArray();
  assert.deepEqual(
    hi.map((p) => p.x),
    lo.map((p) => p.x),
  );
  assert.equal(Math.max(...yOf(hi)), Math.max(...finite));
  assert.equal(Math.min(...yOf(lo)), Math.min(...finite));
  for (let k = 0; k + 1 < hi.length - 1; k++) {
    const from = (hi[k].x - 1) / 10;
    const to = (hi[k + 1].x - 1) / 10;
    const bucket = finite.length ? Array.from({ length: to - from }, (_, j) => ys.get(from + j)).filter((v) => !Number.isNaN(v)) : [];
    if (bucket.length) {
      assert.equal(hi[k].y, Math.max(...bucket));
      assert.equal(lo[k].y, Math.min(...bucket));
    }
  }
});

test('smoothing: TensorBoard’s debiased EMA, missing values stay missing', () => {
  const s = new EmaSmoother(0.6);
  const ys = [4, 2, NaN, 3, 10];
  let last = 0;
  let n = 0;
  const expected = ys.map((y) => {
    if (Number.isNaN(y)) return NaN;
    last = last * 0.6 + 0.4 * y;
    n++;
    return last / (1 - 0.6 ** n);
  });
  const got = ys.map((y) => s.next(y));
  got.forEach((g, i) => (Number.isNaN(expected[i]) ? assert.ok(Number.isNaN(g)) : assert.ok(Math.abs(g - expected[i]) < 1e-12)));
  assert.equal(got[0], 4, 'the first value is not pulled towards 0');
  const raw = new EmaSmoother(0);
  assert.deepEqual(
    [1, 5, 2].map((y) => raw.next(y)),
    [1, 5, 2],
  );
  assert.throws(() => new EmaSmoother(1), RangeError);
});

// ---------------------------------------------------------------------------------------------
// The real bundle in Chromium

let server: PageServer;
let browser: Browser;

before(async () => {
  server = await startPageServer();
  browser = await launchBrowser();
  fs.mkdirSync(ARTIFACTS, { recursive: true });
});

after(async () => {
  await browser?.close();
  await server?.close();
});

interface SeriesCount {
  logged: number;
  displayed: number;
  charted: number | null;
  bucketSize: number;
}
type Counts = Record<string, SeriesCount> & { eval: { logged: number; charted: number } };
interface Latest {
  step: number | null;
  values: Record<string, number | null>;
  hyperKind: 'delta' | 'tau' | null;
  verdict: { state: string; reason: string; step: number } | null;
  histogram: { step: number; lo: number; hi: number; counts: number[]; median: number | null } | null;
}
interface State {
  run: RunHeader | null;
  loggedSteps: number;
  evaluations: number;
  malformed: { count: number; lastReason: string };
  stopping: boolean;
  smoothing: number;
  theme: Record<string, string>;
}

const counts = (page: Page) => page.evaluate(() => window.__rlensDashboard!.pointCounts()) as Promise<Counts>;
const latest = (page: Page) => page.evaluate(() => window.__rlensDashboard!.latest()) as Promise<Latest>;
const state = (page: Page) => page.evaluate(() => window.__rlensDashboard!.state()) as Promise<State>;
const text = (page: Page, role: string) => page.locator(`[data-role="${role}"]`).innerText();

/** No CSP violation, console error/warning or page error happened. */
async function assertClean(page: Page, log: PageLog): Promise<void> {
  assert.deepEqual(await cspViolations(page), []);
  assert.deepEqual(log.errors, []);
}

const STEP_SERIES = [
  'hyper.p05',
  'hyper.p25',
  'hyper.p50',
  'hyper.p75',
  'hyper.p95',
  'sim.qv',
  'sim.vneg',
  'sim.qv.p05',
  'sim.qv.p95',
  'sim.vneg.p05',
  'sim.vneg.p95',
  'collapse.ratio',
  'collapse.violationRate',
  'collapse.itemCosine',
  'loss.total',
  'loss.q',
  'loss.sym',
  'recall.at1',
  'recall.at5',
  'recall.at10',
];

test('softmax run: every logged step is charted, the newest values and τ histogram match the recording', async () => {
  const { page, log } = await openDashboard(browser, server);
  await send(page, messagesOf(softmax));
  const steps = stepsOf(softmax);
  const last = steps[steps.length - 1];
  const c = await counts(page);
  for (const id of STEP_SERIES) {
    assert.equal(c[id].logged, steps.length, id);
    assert.equal(c[id].displayed, steps.length, `${id}: short runs are drawn exactly`);
    assert.equal(c[id].charted, steps.length, `${id}: Chart.js holds every point`);
  }
  const l = await latest(page);
  assert.equal(l.step, last.step);
  assert.equal(l.hyperKind, 'tau');
  assert.equal(l.values['hyper.p50'], last.diagnostics.dist.tau!.p50);
  assert.equal(l.values['hyper.p05'], last.diagnostics.dist.tau!.p05);
  assert.equal(l.values['hyper.p95'], last.diagnostics.dist.tau!.p95);
  assert.equal(l.values['sim.qv'], last.diagnostics.dist.sQV.mean);
  assert.equal(l.values['sim.vneg'], last.diagnostics.dist.sVNeg.mean);
  assert.equal(l.values['collapse.ratio'], last.diagnostics.collapse.ratio);
  assert.equal(l.values['collapse.violationRate'], last.diagnostics.collapse.violationRate);
  assert.equal(l.values['loss.total'], last.loss);
  assert.equal(l.values['loss.sym'], last.lossSym);
  assert.equal(l.values['recall.at10'], last.diagnostics.recall.at10);
  assert.deepEqual(l.histogram, {
    step: last.step,
    lo: last.diagnostics.dist.tau!.hist.lo,
    hi: last.diagnostics.dist.tau!.hist.hi,
    counts: last.diagnostics.dist.tau!.hist.counts,
    median: last.diagnostics.dist.tau!.p50,
  });
  // the median band line's points are the recorded medians
  const medians = await page.evaluate(() => window.__rlensDashboard!.displayPoints('hyper.p50'));
  assert.deepEqual(
    medians,
    steps.map((s) => ({ x: s.step, y: s.diagnostics.dist.tau!.p50 })),
  );
  // evaluations: recall@10 by default, one point per evaluation and search that has it (exact, ann/, bm25/)
  const evals = evalsOf(softmax);
  const recall10Points = evals.reduce((n, e) => n + ['recall@10', 'ann/recall@10', 'bm25/recall@10'].filter((k) => typeof e.metrics[k] === 'number').length, 0);
  assert.ok(evals.length >= 2);
  assert.equal(c.eval.charted, recall10Points);
  const lastEval = evals[evals.length - 1];
  assert.match(await page.locator('[data-chart="eval"] .chart-sub').innerText(), new RegExp(`^step ${lastEval.step}`));
  assert.equal(
    await page.locator('[data-role="eval-latest"] tr[data-metric="recall@10"] td').first().innerText(),
    (lastEval.metrics['recall@10'] as number).toFixed(3),
  );
  await assertClean(page, log);
  await page.close();
});

test('softmax run: the header, verdict badge and section titles show the recorded facts', async () => {
  const { page, log } = await openDashboard(browser, server);
  await send(page, messagesOf(softmax));
  const header = lastHeader(softmax);
  const last = stepsOf(softmax).at(-1)!;
  assert.equal(await text(page, 'run-name'), header.name);
  assert.equal(await text(page, 'run-status'), 'completed');
  assert.equal(await text(page, 'run-backend'), 'wasm');
  assert.equal(await text(page, 'run-step'), `step ${header.step} / ${header.totalSteps}`);
  assert.match(await text(page, 'run-rate'), /^\d+(\.\d+)? steps\/s$/);
  assert.equal(await page.locator('[data-role="run-eta"]').isVisible(), false, 'no ETA for a finished run');
  assert.equal(await page.locator('[data-role="stop"]').isDisabled(), true);
  assert.equal(last.verdict.state, 'healthy');
  assert.equal(await text(page, 'verdict-state'), 'Healthy');
  assert.equal(await text(page, 'verdict-reason'), last.verdict.reason);
  assert.match(await page.locator('[data-section="hyper"] .section-title').innerText(), /^Adaptive τ · softmax loss \(δ not used\)$/);
  assert.equal(await page.locator('[data-role="malformed"]').isVisible(), false);
  // threshold lines are DEFAULT_COLLAPSE_THRESHOLDS (drawn by the annotation plugin on the canvas): check the
  // verdict reasons the recordings went through name the same numbers
  const reasons = [...stepsOf(softmax), ...stepsOf(margin)].map((s) => s.verdict.reason).join('\n');
  assert.ok(reasons.includes(`> ${DEFAULT_COLLAPSE_THRESHOLDS.collapsedItemCosine.toFixed(2)}`));
  assert.ok(reasons.includes(`< ${DEFAULT_COLLAPSE_THRESHOLDS.separatedRatio.toFixed(2)}`));
  await assertClean(page, log);
  await page.close();
});

interface DrawnLine {
  axis: string;
  axisPosition: string;
  value: number;
  label: string;
  y: number;
  yOnAxis: number;
  yOnOtherAxis: number | null;
  x: number;
}
const thresholdLines = (page: Page, chart: string) => page.evaluate((c) => window.__rlensDashboard!.thresholdLines(c), chart) as Promise<DrawnLine[] | null>;

/** Draws a chart (scrolled into view: offscreen charts wait) and returns its threshold lines. */
async function linesOf(page: Page, chart: string): Promise<DrawnLine[]> {
  await page.locator(`[data-chart="${chart}"]`).scrollIntoViewIfNeeded();
  await page.waitForFunction(() => !(window.__rlensDashboard!.state() as { renderPending: boolean }).renderPending);
  await page.waitForFunction((c) => (window.__rlensDashboard!.thresholdLines(c) ?? []).length > 0, chart);
  return (await thresholdLines(page, chart))!;
}

/** The messages of a recording with the run's config setting these collapse thresholds. */
function withThresholds(r: Recording, collapseThresholds: Record<string, number>): ToDashboard[] {
  return messagesOf(r).map((m) => (m.type === 'reset' && m.run ? { ...m, run: { ...m.run, collapseThresholds } } : m));
}

test('ratio chart: R lines on the left axis, the violation-rate warning line on the right axis, at the run config’s thresholds', async () => {
  const configured = { separatedRatio: 2.5, violationRise: 0.2, collapsedItemCosine: 0.8 };
  const { page, log } = await openDashboard(browser, server, { viewport: { width: 700, height: 900 } });
  await send(page, withThresholds(softmax, configured));
  // The verdict's rule, computed here from the recorded steps: separation is the first logged step with
  // R ≥ separatedRatio; the best violation rate is the lowest median of the last 3 logged steps since then.
  const steps = stepsOf(softmax);
  const sep = steps.findIndex((e) => (e.diagnostics.collapse.ratio ?? -Infinity) >= configured.separatedRatio);
  assert.ok(sep >= 0, 'the healthy recording separates');
  let best = Infinity;
  for (let i = sep; i < steps.length; i++) {
    const w = steps.slice(Math.max(sep, i - 2), i + 1).map((e) => e.diagnostics.collapse.violationRate!);
    const sorted = [...w].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)]; // of two values the upper (docs/diagnostics.md)
    best = Math.min(best, median);
  }
  const lines = await linesOf(page, 'ratio');
  const by = (re: RegExp) => lines.find((l) => re.test(l.label));
  const r1 = by(/^R = 1$/);
  const separated = by(/^R separated ≥ 2\.5$/);
  const violation = by(/^violation rate warning ≥ /);
  assert.ok(r1 && separated && violation, JSON.stringify(lines));
  assert.equal(lines.length, 3);
  assert.deepEqual([r1.axis, r1.value, separated.axis, separated.value], ['y', 1, 'y', configured.separatedRatio]);
  assert.equal(violation.axis, 'y1', 'against the violation rate’s own (right) axis');
  assert.ok(Math.abs(violation.value - (best + configured.violationRise)) < 1e-12, `${violation.value} vs best ${best} + ${configured.violationRise}`);
  const tick = (v: number) => String(+v.toPrecision(3));
  assert.equal(violation.label, `violation rate warning ≥ ${tick(best + 0.2)} (best ${tick(best)} + 0.2)`);
  assert.deepEqual([r1.axisPosition, separated.axisPosition, violation.axisPosition], ['left', 'left', 'right']);
  for (const l of lines) assert.ok(Math.abs(l.y - l.yOnAxis) < 1, `${l.label}: drawn at its value on axis ${l.axis}`);
  assert.ok(Math.abs(violation.y - violation.yOnOtherAxis!) > 5, 'the violation line is not where that value sits on R’s axis');
  assert.ok(violation.x > r1.x, 'the warning line starts at the separation step, not at the left edge');
  await page.locator('[data-chart="ratio"]').screenshot({ path: path.join(ARTIFACTS, 'dashboard-ratio-thresholds.png') });
  const cosine = await linesOf(page, 'itemCosine');
  assert.deepEqual(
    cosine.map((l) => [l.axis, l.value, l.label]),
    [['y', 0.8, 'collapse signature > 0.8']],
  );
  await assertClean(page, log);
  await page.close();
});

test('ratio chart: no violation-rate warning line while R has not separated; the defaults without a config', async () => {
  const { page, log } = await openDashboard(browser, server, { viewport: { width: 700, height: 900 } });
  await send(page, messagesOf(margin));
  const steps = stepsOf(margin);
  const separatedAt = steps.findIndex((e) => (e.diagnostics.collapse.ratio ?? -Infinity) >= DEFAULT_COLLAPSE_THRESHOLDS.separatedRatio);
  const lines = await linesOf(page, 'ratio');
  assert.deepEqual(
    lines.filter((l) => l.axis === 'y').map((l) => [l.value, l.label]),
    [
      [1, 'R = 1'],
      [DEFAULT_COLLAPSE_THRESHOLDS.separatedRatio, `R separated ≥ ${DEFAULT_COLLAPSE_THRESHOLDS.separatedRatio}`],
    ],
  );
  assert.equal(lines.filter((l) => l.axis === 'y1').length, separatedAt < 0 ? 0 : 1, `separated at index ${separatedAt}`);
  await assertClean(page, log);
  await page.close();
});

test('short sidebar view (100 px and 300 px high): verdict and R come first, charts keep their minimum height, the view scrolls to the rest', async () => {
  for (const height of [100, 300]) {
    const { page, log } = await openDashboard(browser, server, { viewport: { width: 300, height } });
    await send(page, messagesOf(margin));
    const box = async (sel: string) => (await page.locator(sel).first().boundingBox())!;
    const order = await page.evaluate(() => [...document.querySelectorAll('[data-section]')].map((e) => e.getAttribute('data-section')));
    assert.deepEqual(order, ['collapse', 'hyper', 'loss', 'retrieval', 'training', 'scalars'], 'collapse section first');
    const collapseCharts = await page.evaluate(() =>
      [...document.querySelectorAll('[data-section="collapse"] [data-chart]')].map((e) => e.getAttribute('data-chart')),
    );
    assert.equal(collapseCharts[0], 'ratio', 'R is the first chart');
    const verdict = await box('[data-role="verdict"]');
    const ratio = await box('[data-chart="ratio"]');
    assert.ok(verdict.y < ratio.y, 'the verdict badge is above the R chart');
    // The verdict's reason is cut to two lines in a short view (the tooltip keeps it whole).
    const reason = await page
      .locator('[data-role="verdict-reason"]')
      .evaluate((e) => ({ h: e.getBoundingClientRect().height, line: parseFloat(getComputedStyle(e).lineHeight) }));
    assert.ok(reason.h <= 2 * reason.line + 1, `reason ${reason.h}px for line height ${reason.line}px`);
    assert.match((await page.locator('[data-role="verdict"]').getAttribute('title'))!, /^Collapse verdict at step \d+: Collapsed — /);
    // Shown charts only (the learned α/δ₀/τ₀ card is hidden for a run that learns nothing).
    const heights = await page.evaluate(() =>
      [...document.querySelectorAll('.chart-card:not([hidden]) .chart-box')].map((e) => e.getBoundingClientRect().height),
    );
    assert.ok(heights.length >= 8 && heights.every((h) => h >= 140), `chart heights ${heights.join(', ')}`);
    // The page scrolls: the R chart can be brought into view and then draws every logged step.
    const scroll = await page.evaluate(() => ({ total: document.scrollingElement!.scrollHeight, view: window.innerHeight }));
    assert.ok(scroll.total > 4 * scroll.view, `scroll height ${scroll.total} in a ${scroll.view}px view`);
    await page.locator('[data-chart="ratio"] canvas').scrollIntoViewIfNeeded();
    assert.ok((await page.evaluate(() => window.scrollY)) > 0 || height >= ratio.y + 140, 'scrolled');
    await page.waitForFunction(
      (n) => (window.__rlensDashboard!.pointCounts() as Record<string, { charted: number | null }>)['collapse.ratio'].charted === n,
      stepsOf(margin).length,
    );
    await page.screenshot({ path: path.join(ARTIFACTS, `dashboard-short-${height}px.png`) });
    await assertClean(page, log);
    await page.close();
  }
});

test('margin run (no stop-gradient): δ is charted and named, τ is absent, the badge says collapsed, status stopped', async () => {
  const { page, log } = await openDashboard(browser, server);
  await send(page, messagesOf(margin));
  const steps = stepsOf(margin);
  const last = steps.at(-1)!;
  assert.equal(last.diagnostics.dist.tau, null);
  const l = await latest(page);
  assert.equal(l.hyperKind, 'delta');
  assert.equal(l.values['hyper.p50'], last.diagnostics.dist.delta!.p50);
  assert.equal(l.values['loss.sym'], last.lossSym);
  assert.equal(l.histogram!.lo, last.diagnostics.dist.delta!.hist.lo);
  assert.equal((await counts(page))['hyper.p25'].charted, steps.length);
  assert.match(await page.locator('[data-section="hyper"] .section-title').innerText(), /^Adaptive δ · margin loss \(τ not used\)$/);
  assert.match(await page.locator('[data-chart="hyperBands"] .chart-sub').innerText(), /^δ · /);
  assert.equal(last.verdict.state, 'collapsed');
  assert.equal(await text(page, 'verdict-state'), 'Collapsed');
  assert.equal(await text(page, 'verdict-reason'), last.verdict.reason);
  assert.ok(await page.locator('[data-role="verdict"].verdict-collapsed').isVisible());
  assert.equal(await text(page, 'run-status'), 'stopped');
  assert.equal(await text(page, 'run-step'), `step ${margin.final.step} / ${lastHeader(margin).totalSteps}`);
  await assertClean(page, log);
  await page.close();
});

/** The verdict changes of a recording as segments: state, first and last logged step, last reason. */
function verdictSegments(r: Recording): { state: string; from: number; to: number; reason: string }[] {
  const out: { state: string; from: number; to: number; reason: string }[] = [];
  for (const s of stepsOf(r)) {
    const seg = out.at(-1);
    if (seg && seg.state === s.verdict.state) Object.assign(seg, { to: s.step, reason: s.verdict.reason });
    else out.push({ state: s.verdict.state, from: s.step, to: s.step, reason: s.verdict.reason });
  }
  return out;
}

/** The verdict band as drawn: one entry per segment with its state, step range, hover text, box and colour. */
async function bandOf(page: Page) {
  await page.locator('[data-role="verdict-band"] .verdict-segment').first().waitFor();
  return page.locator('[data-role="verdict-band"] .verdict-segment').evaluateAll((els) =>
    els.map((e) => {
      const r = e.getBoundingClientRect();
      return {
        state: e.getAttribute('data-state'),
        from: Number(e.getAttribute('data-from')),
        to: Number(e.getAttribute('data-to')),
        title: e.getAttribute('title'),
        left: r.left,
        right: r.right,
        color: getComputedStyle(e).backgroundColor,
      };
    }),
  );
}

for (const [name, r, expected] of [
  ['healthy (softmax + sg + symmetric)', softmax, ['initialising', 'healthy']],
  ['collapsing (margin, no sg)', margin, ['initialising', 'collapsing', 'collapsed']],
] as const) {
  test(`verdict band, ${name} run: one colour-coded segment per recorded verdict change, reason on hover, on the charts' step axis`, async () => {
    const { page, log } = await openDashboard(browser, server);
    await send(page, messagesOf(r));
    const want = verdictSegments(r);
    assert.deepEqual(
      want.map((s) => s.state),
      expected,
      'the recording went through these states',
    );
    const band = await bandOf(page);
    assert.deepEqual(
      band.map((b) => [b.state, b.from, b.to]),
      want.map((s) => [s.state, s.from, s.to]),
    );
    for (const [k, b] of band.entries()) {
      assert.ok(b.title!.includes(want[k].reason), `hover text of ${b.state} names its reason: ${b.title}`);
      assert.match(b.title!, new RegExp(`steps ${want[k].from}–${want[k].to}`));
      if (k > 0) assert.ok(Math.abs(b.left - band[k - 1].right) < 1.5 && b.left > band[k - 1].left, 'segments follow each other on the step axis');
    }
    assert.equal(new Set(band.map((b) => b.color)).size, band.length, `each state its own colour: ${band.map((b) => b.color).join(', ')}`);
    // The band spans the charts' step range: the first segment starts at the left, the last ends at the right.
    const box = await page.locator('[data-role="verdict-band"]').boundingBox();
    assert.ok(Math.abs(band[0].left - box!.x) < 2 && Math.abs(band.at(-1)!.right - (box!.x + box!.width)) < 3, 'band covers the step range');
    // s(q,v) vs s(v,v⁻): both means and their p05–p95 bands on one chart, exactly the recorded values.
    const steps = stepsOf(r);
    for (const [id, pick] of [
      ['sim.qv.p05', (s: StepEvent) => s.diagnostics.dist.sQV.p05],
      ['sim.qv.p95', (s: StepEvent) => s.diagnostics.dist.sQV.p95],
      ['sim.vneg.p05', (s: StepEvent) => s.diagnostics.dist.sVNeg.p05],
      ['sim.vneg.p95', (s: StepEvent) => s.diagnostics.dist.sVNeg.p95],
    ] as const) {
      const pts = await page.evaluate((sid) => window.__rlensDashboard!.displayPoints(sid as never), id);
      assert.deepEqual(
        pts,
        steps.map((s) => ({ x: s.step, y: pick(s) })),
        id,
      );
    }
    const c = await counts(page);
    for (const id of ['sim.qv', 'sim.vneg', 'sim.qv.p05', 'sim.vneg.p95']) assert.equal(c[id].charted, steps.length, `${id} on the chart`);
    await page.locator('[data-chart="verdictBand"]').screenshot({ path: path.join(ARTIFACTS, `verdict-band-${r.scenario}.png`) });
    await assertClean(page, log);
    await page.close();
  });
}

test('Stop: enabled only while running, posts {type:"stop"} once, shows stopping until the run ends; other actions post their messages', async () => {
  const { page, log } = await openDashboard(browser, server);
  assert.deepEqual(await posted(page), [{ type: 'ready' }], 'ready is posted on load');
  const all = messagesOf(softmax);
  const firstSteps = all.findIndex((m) => m.type === 'steps');
  const cut = all.findIndex((m, i) => i > firstSteps + 4 && m.type === 'steps');
  await send(page, all.slice(0, cut + 1));
  assert.equal(await text(page, 'run-status'), 'running');
  const stop = page.locator('[data-role="stop"]');
  assert.equal(await stop.isEnabled(), true);
  assert.match(await text(page, 'run-eta'), /^ETA \d/);
  await stop.click();
  assert.deepEqual((await posted(page)).slice(1), [{ type: 'stop' }]);
  assert.equal(await stop.isDisabled(), true);
  assert.equal(await text(page, 'run-status'), 'stopping…');
  await page.evaluate(() => (document.querySelector('[data-role="stop"]') as HTMLButtonElement).click());
  assert.equal((await posted(page)).filter((m) => m.type === 'stop').length, 1, 'a disabled Stop posts nothing');
  // steps keep arriving while the trainer finishes; the button stays in "stopping"
  await send(page, all.slice(cut + 1, cut + 3));
  assert.equal(await stop.isDisabled(), true);
  await send(page, all.slice(cut + 3));
  assert.equal(await text(page, 'run-status'), 'completed');
  assert.equal(await stop.isDisabled(), true);
  await page.getByRole('button', { name: 'Evaluate this run' }).click();
  await page.getByRole('button', { name: 'Show the Retrieval Lens log' }).click();
  assert.deepEqual(await posted(page), [{ type: 'ready' }, { type: 'stop' }, { type: 'evaluate' }, { type: 'openLog' }]);
  for (const m of await posted(page)) assert.equal(parseFromDashboard(m).ok, true);
  await assertClean(page, log);
  await page.close();
});

test('reload: the header and verdict come back from the saved state before the reset arrives', async () => {
  const { page, log } = await openDashboard(browser, server);
  await send(page, messagesOf(margin));
  const last = stepsOf(margin).at(-1)!;
  const header = lastHeader(margin);
  await page.waitForFunction(() => (window as unknown as { __stateSaves: number }).__stateSaves > 0);
  await page.reload();
  await page.waitForFunction(() => window.__rlensDashboard !== undefined);
  // nothing sent yet: the snapshot alone
  assert.equal((await state(page)).loggedSteps, 0);
  assert.deepEqual(await posted(page), [{ type: 'ready' }]);
  assert.equal(await text(page, 'run-name'), header.name);
  assert.equal(await text(page, 'run-status'), 'stopped');
  assert.equal(await text(page, 'run-step'), `step ${margin.final.step} / ${header.totalSteps}`);
  assert.equal(await text(page, 'verdict-state'), 'Collapsed');
  assert.equal(await text(page, 'verdict-reason'), last.verdict.reason);
  assert.equal(await text(page, 'empty'), 'Loading the run history…');
  // the extension answers `ready` with the full history
  await send(page, [{ type: 'reset', run: header, steps: stepsOf(margin), evals: evalsOf(margin) }]);
  const c = await counts(page);
  assert.equal(c['loss.total'].charted, stepsOf(margin).length);
  assert.equal(await page.locator('[data-role="empty"]').isVisible(), false);
  // a reset to "no run" clears everything
  await send(page, [{ type: 'reset', run: null, steps: [], evals: [] }]);
  assert.equal((await state(page)).loggedSteps, 0);
  assert.equal(await text(page, 'run-name'), 'No run');
  assert.match(await text(page, 'empty'), /^No run to show/);
  assert.equal(await page.locator('[data-role="verdict"]').isVisible(), false);
  await assertClean(page, log);
  await page.close();
});

test('malformed messages are ignored, counted and shown; the charts are unchanged and valid messages still work', async () => {
  const { page, log } = await openDashboard(browser, server);
  const all = messagesOf(softmax);
  await send(page, all.slice(0, all.length - 3));
  const before = await counts(page);
  const beforeLatest = await latest(page);
  const good = stepsOf(softmax).at(-1)!;
  const brokenHist = structuredClone(good);
  brokenHist.diagnostics.dist.tau!.hist.lo = 1;
  brokenHist.diagnostics.dist.tau!.hist.hi = 0;
  const malformed = [
    null,
    'steps',
    { type: 'bogus' },
    { type: 'steps', steps: [good, brokenHist] },
    { type: 'status', run: { ...lastHeader(softmax), status: 'paused' } },
    { type: 'eval', point: { step: 160, metrics: { 'recall@10': 'high' } } },
  ];
  await send(page, malformed);
  assert.deepEqual(await counts(page), before);
  assert.deepEqual(await latest(page), beforeLatest);
  const s = await state(page);
  assert.equal(s.malformed.count, malformed.length);
  assert.match(s.malformed.lastReason, /eval\.point\.metrics\["recall@10"\]/);
  assert.equal(await text(page, 'malformed'), `${malformed.length} malformed messages ignored`);
  assert.match((await page.locator('[data-role="malformed"]').getAttribute('title'))!, /recall@10/);
  await send(page, all.slice(all.length - 3));
  assert.equal((await counts(page))['loss.total'].logged, stepsOf(softmax).length);
  assert.equal((await latest(page)).step, good.step);
  // a repeated steps message is not drawn twice
  await send(page, [{ type: 'steps', steps: stepsOf(softmax).slice(-5) }]);
  assert.equal((await counts(page))['loss.total'].logged, stepsOf(softmax).length);
  await assertClean(page, log);
  await page.close();
});

test('the evaluation chart: one metric at a time (recall@10 by default, a selector), exact / IVF-PQ / BM25 styled apart, the latest values in a table', async () => {
  const { page, log } = await openDashboard(browser, server);
  await send(page, [{ type: 'reset', run: { ...lastHeader(softmax), status: 'completed' }, steps: stepsOf(softmax), evals: [] }]);
  const names = ['recall@1', 'recall@5', 'recall@10', 'recall@50', 'recall@100', 'mrr@10', 'ndcg@10'];
  const point = (step: number, shift: number) => {
    const metrics: Record<string, number> = {};
    names.forEach((n, i) => {
      metrics[n] = 0.1 + 0.05 * i + shift;
      metrics[`ann/${n}`] = 0.08 + 0.05 * i + shift;
      metrics[`bm25/${n}`] = 0.2 + 0.05 * i;
    });
    metrics.failures = 12;
    return { step, metrics };
  };
  await send(page, [
    { type: 'eval', point: point(100, 0) },
    { type: 'eval', point: point(200, 0.1) },
  ]);
  const chart = () => page.evaluate(() => window.__rlensDashboard!.evalChart());
  let c = await chart();
  assert.equal(c.metric, 'recall@10');
  assert.deepEqual(
    c.lines.map((l) => [l.label, l.dash, l.points]),
    [
      ['exact recall@10', [], 2],
      ['IVF-PQ recall@10', [2, 3], 2],
      ['BM25 recall@10', [8, 4], 2],
    ],
  );
  assert.equal(new Set(c.lines.map((l) => l.color)).size, 3, 'three colours');
  assert.equal((await counts(page)).eval.charted, 6, 'one metric: 3 searches × 2 evaluations; failure counts are not charted');
  // The latest values: a row per metric, a column per search; the charted metric marked.
  const table = await page.locator('[data-role="eval-latest"] tr').evaluateAll((rows) => rows.map((r) => [...r.children].map((c) => c.textContent)));
  assert.deepEqual(table[0], ['step 200', 'exact', 'IVF-PQ', 'BM25']);
  assert.deepEqual(table[3], ['recall@10', '0.300', '0.280', '0.300']);
  assert.equal(table.length, 1 + names.length);
  assert.equal(await page.locator('[data-role="eval-latest"] tr.shown').getAttribute('data-metric'), 'recall@10');
  // Choosing another metric redraws the three lines of that metric only.
  assert.deepEqual(await page.locator('[data-role="eval-metric"] option').allInnerTexts(), names);
  await page.selectOption('[data-role="eval-metric"]', 'ndcg@10');
  await page.waitForFunction(() => window.__rlensDashboard!.evalChart().metric === 'ndcg@10');
  c = await chart();
  assert.deepEqual(
    c.lines.map((l) => l.label),
    ['exact ndcg@10', 'IVF-PQ ndcg@10', 'BM25 ndcg@10'],
  );
  assert.equal(await page.locator('[data-role="eval-latest"] tr.shown').getAttribute('data-metric'), 'ndcg@10');
  // The choice stays when a new evaluation arrives.
  await send(page, [{ type: 'eval', point: point(300, 0.2) }]);
  c = await chart();
  assert.equal(c.metric, 'ndcg@10');
  assert.equal(c.lines[0].points, 3);
  await page.locator('[data-chart="eval"]').screenshot({ path: path.join(ARTIFACTS, 'dashboard-eval-chart.png') });
  await assertClean(page, log);
  await page.close();
});

test('live held-out evaluation: the sample is named, BM25 is a reference line, the quality verdict shows beside the collapse verdict with its remedies', async () => {
  const { page, log } = await openDashboard(browser, server);
  await send(page, [{ type: 'reset', run: { ...lastHeader(softmax), status: 'running' }, steps: stepsOf(softmax), evals: [] }]);
  const heldOut = describeHeldOut(1000, 20000, 50829);
  const recalls = [0.21, 0.34, 0.38, 0.4];
  for (let i = 0; i < recalls.length; i++) {
    const quality = qualityVerdict({ heldOut: recalls.slice(0, i + 1), bm25: 0.819, inBatch: i === 0 ? 0.9 : 0.9999 });
    await send(page, [
      { type: 'eval', point: { step: 100 * (i + 1), metrics: { 'recall@10': recalls[i], 'bm25/recall@10': 0.819, queries: 1000 }, heldOut, quality } },
    ]);
  }
  assert.equal(
    await page.locator('[data-chart="eval"] .chart-sub').innerText(),
    'step 400 · held-out: 1,000 queries × 20,000 of 50,829 items (sampled, all positives kept)',
  );
  const c = await page.evaluate(() => window.__rlensDashboard!.evalChart());
  assert.deepEqual(
    c.lines.map((l) => [l.label, l.points]),
    [
      ['exact recall@10', 4],
      ['BM25 recall@10', 4],
    ],
  );
  // The quality verdict: the last evaluation's (in-batch 1.00 while held-out 0.40).
  assert.equal(await text(page, 'quality-state'), 'In-batch task saturated');
  assert.match(
    await text(page, 'quality-reason'),
    /^in-batch task saturated: in-batch recall@10 1\.00 ≥ 0\.99 while held-out recall@10 is 0\.40 \(BM25 0\.82\)/,
  );
  assert.ok(await page.locator('[data-role="verdict"]').isVisible(), 'the collapse verdict stays');
  assert.deepEqual(await page.locator('[data-role="quality"] .quality-remedy').allInnerTexts(), ['Harder negatives', 'Larger batch', 'More steps']);
  await page.locator('[data-remedy="larger-batch"]').click();
  assert.deepEqual((await posted(page)).slice(-1), [{ type: 'qualityRemedy', remedy: 'larger-batch' }]);
  assert.deepEqual(parseFromDashboard({ type: 'qualityRemedy', remedy: 'fewer-steps' }).ok, false);
  await page.locator('[data-role="quality"]').screenshot({ path: path.join(ARTIFACTS, 'dashboard-quality-verdict.png') });
  await assertClean(page, log);
  await page.close();
});

test('long runs: 20k logged steps are decimated to ≤ ~1k points per series, spikes and gaps kept, exact newest values', async () => {
  const { page, log } = await openDashboard(browser, server);
  const base = stepsOf(softmax).at(-1)!;
  const header: RunHeader = { ...lastHeader(softmax), status: 'running', totalSteps: 400_000, step: 0 };
  await send(page, [{ type: 'reset', run: header, steps: [], evals: [] }]);
  const N = 20_000;
  await postSynthetic(page, base, 0, N, 2000);
  const c = await counts(page);
  for (const id of STEP_SERIES) {
    assert.equal(c[id].logged, N);
    // ≤ 500 buckets of 64 steps: ≤ ~1000 points for a min/max line, one per bucket (+1) for a band edge
    assert.equal(c[id].bucketSize, 64);
    const buckets = Math.ceil(N / 64);
    assert.ok(c[id].displayed <= 3 * buckets + 1, `${id}: ${c[id].displayed} display points`);
    assert.ok(c[id].displayed >= buckets, `${id}: ${c[id].displayed} display points`);
    assert.equal(c[id].charted, c[id].displayed);
  }
  const loss = await page.evaluate(() => window.__rlensDashboard!.displayPoints('loss.total'));
  assert.equal(Math.max(...loss.map((p) => p.y ?? -Infinity)), 99, 'the loss spike survives decimation');
  assert.ok(loss.some((p) => p.x === 10 * 12_346 && p.y === 99));
  const ratio = await page.evaluate(() => window.__rlensDashboard!.displayPoints('collapse.ratio'));
  const gaps = ratio.filter((p) => p.y === null);
  assert.ok(gaps.length > 0 && gaps.every((p) => p.x > 10 * 15_000 && p.x <= 10 * 15_400), 'undefined R shows as gaps, only there');
  const l = await latest(page);
  const expectedLast = syntheticSteps(base, N - 1, N)[0];
  assert.equal(l.step, 10 * N);
  assert.equal(l.values['hyper.p50'], expectedLast.diagnostics.dist.tau!.p50);
  assert.equal(l.values['loss.total'], expectedLast.loss);
  // one more message appends (the open bucket), counts stay bounded
  await postSynthetic(page, base, N, N + 1, 1);
  assert.equal((await counts(page))['loss.total'].logged, N + 1);
  assert.equal((await latest(page)).step, 10 * (N + 1));
  assert.equal(await text(page, 'run-step'), `step ${(10 * (N + 1)).toLocaleString('en-US')} / 400,000`);
  assert.match(await text(page, 'run-rate'), /^20\.0 steps\/s$/, '10 steps per 0.5 s of event time');
  await assertClean(page, log);
  await page.close();
});

test('zoomed charts are decimated again over the range shown: zoomed to a few hundred steps, every one is drawn', async () => {
  const { page, log } = await openDashboard(browser, server, { viewport: { width: 900, height: 2400 } });
  const base = stepsOf(softmax).at(-1)!;
  const header: RunHeader = { ...lastHeader(softmax), status: 'running', totalSteps: 400_000, step: 0 };
  await send(page, [{ type: 'reset', run: header, steps: [], evals: [] }]);
  const N = 20_000;
  await postSynthetic(page, base, 0, N, 2000);
  const canvas = page.locator('[data-chart="ratio"] canvas');
  await canvas.scrollIntoViewIfNeeded();
  const idle = () => page.waitForFunction(() => !(window.__rlensDashboard!.state() as { renderPending: boolean }).renderPending);
  await idle();
  type P = { x: number; y: number | null };
  const charted = () => page.evaluate(() => window.__rlensDashboard!.chartedPoints('ratio', 'collapse.ratio')) as Promise<P[]>;
  const full = await charted();
  assert.equal(full.length, (await counts(page))['collapse.ratio'].displayed, "not zoomed: the series' own display points");
  const box = (await canvas.boundingBox())!;
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  for (let k = 0; k < 5; k++) {
    await page.mouse.wheel(0, -300);
    await idle();
  }
  const { range } = (await page.evaluate(() => window.__rlensDashboard!.xView('ratio'))) as { range: { min: number; max: number } };
  const inRange = (pts: P[]) => pts.filter((p) => p.x >= range.min && p.x <= range.max).map((p) => [p.x, p.y]);
  const raw = syntheticSteps(base, 0, N)
    .filter((e) => e.step >= range.min && e.step <= range.max)
    .map((e) => [e.step, e.diagnostics.collapse.ratio]);
  assert.ok(raw.length >= 200 && raw.length <= 1000, `zoomed to ${raw.length} logged steps (${JSON.stringify(range)})`);
  const zoomed = await charted();
  const drawn = inRange(zoomed);
  assert.deepEqual(
    drawn.map((p) => p[0]),
    raw.map((p) => p[0]),
    'every logged step in the range is drawn',
  );
  // with its value (Chromium's Math.cos may differ from Node's in the last bit)
  drawn.forEach((p, i) => assert.ok(Math.abs((p[1] as number) - (raw[i][1] as number)) < 1e-12, `step ${p[0]}: ${p[1]} vs ${raw[i][1]}`));
  assert.ok(inRange(full).length * 10 < raw.length, `the full-range buckets drew ${inRange(full).length} of them`);
  assert.ok(zoomed.length <= raw.length + 2, 'and only one point past each edge');
  // back to everything: the series' own display points again
  await canvas.dblclick();
  await idle();
  assert.deepEqual(await charted(), full);
  await assertClean(page, log);
  await page.close();
});

test('smoothing slider: the smoothed loss is TensorBoard’s EMA of the recorded losses, and the choice is kept in the state', async () => {
  const { page, log } = await openDashboard(browser, server);
  await send(page, messagesOf(softmax));
  const losses = stepsOf(softmax).map((s) => s.loss!);
  const ema = (w: number) => {
    const s = new EmaSmoother(w);
    return losses.map((y) => s.next(y)).at(-1)!;
  };
  assert.ok(Math.abs((await latest(page)).values['loss.total.smoothed']! - ema(0.6)) < 1e-12, 'default 0.6');
  await page.locator('[data-role="smoothing"]').fill('0.9');
  await page.waitForFunction(() => !(window.__rlensDashboard!.state() as { renderPending: boolean }).renderPending);
  assert.equal((await state(page)).smoothing, 0.9);
  assert.ok(Math.abs((await latest(page)).values['loss.total.smoothed']! - ema(0.9)) < 1e-12);
  await page.locator('[data-role="smoothing"]').fill('0');
  await page.waitForFunction(() => !(window.__rlensDashboard!.state() as { renderPending: boolean }).renderPending);
  assert.equal((await latest(page)).values['loss.total.smoothed'], losses.at(-1));
  assert.match(await page.locator('[data-chart="loss"] .chart-sub').innerText(), /EMA 0\.00/);
  await page.locator('[data-role="smoothing"]').fill('0.75');
  await page.waitForFunction(
    () => (window as unknown as { __stateSaves: number }).__stateSaves > 0 && JSON.parse(sessionStorage.getItem('__rlensTestState')!).smoothing === 0.75,
  );
  await page.reload();
  await page.waitForFunction(() => window.__rlensDashboard !== undefined);
  assert.equal((await state(page)).smoothing, 0.75);
  assert.equal(await page.locator('[data-role="smoothing"]').inputValue(), '0.75');
  await assertClean(page, log);
  await page.close();
});

test('theme: chart colours come from the VS Code variables and follow theme switches (dark → light → high contrast); screenshots', async () => {
  const { page, log } = await openDashboard(browser, server, { theme: 'dark', viewport: { width: 360, height: 2100 } });
  await send(page, messagesOf(softmax));
  let t = (await state(page)).theme;
  assert.equal(t.kind, 'dark');
  assert.equal(t.blue, 'rgb(55, 148, 255)');
  assert.equal(t.red, 'rgb(241, 76, 76)');
  await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-sidebar-dark.png'), fullPage: true });
  await switchTheme(page, 'light');
  await page.waitForFunction(() => (window.__rlensDashboard!.state() as { theme: { kind: string } }).theme.kind === 'light');
  t = (await state(page)).theme;
  assert.equal(t.blue, 'rgb(26, 133, 255)');
  assert.equal(t.foreground, 'rgb(59, 59, 59)');
  assert.equal(await page.locator('[data-role="run-name"]').evaluate((e) => getComputedStyle(e).color), 'rgb(59, 59, 59)');
  await page.waitForFunction(() => !(window.__rlensDashboard!.state() as { renderPending: boolean }).renderPending);
  await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-sidebar-light.png'), fullPage: true });
  await switchTheme(page, 'high-contrast');
  await page.waitForFunction(() => (window.__rlensDashboard!.state() as { theme: { kind: string } }).theme.kind === 'high-contrast');
  t = (await state(page)).theme;
  assert.equal(t.grid, 'rgb(111, 195, 223)', 'high contrast: grid lines in the contrast border colour');
  assert.equal(t.foreground, 'rgb(255, 255, 255)');
  await page.waitForFunction(() => !(window.__rlensDashboard!.state() as { renderPending: boolean }).renderPending);
  await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-sidebar-high-contrast.png'), fullPage: true });
  await assertClean(page, log);
  await page.close();

  // the editor panel: wide, charts in columns; a collapsed run mid-way (running, warning/collapsed badge)
  const wide = await openDashboard(browser, server, { theme: 'light', viewport: { width: 1280, height: 1100 } });
  await send(wide.page, messagesOf(margin).slice(0, 8));
  await wide.page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-editor-light.png'), fullPage: true });
  await assertClean(wide.page, wide.log);
  await wide.page.close();
  const dark = await openDashboard(browser, server, { theme: 'dark', viewport: { width: 1280, height: 1100 } });
  await send(dark.page, messagesOf(softmax).slice(0, 14));
  await dark.page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-editor-dark.png'), fullPage: true });
  await assertClean(dark.page, dark.log);
  await dark.page.close();
});
