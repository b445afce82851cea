/**
 * Reading the dashboard's charts (issue 19 "Reading charts", issue 20's scalars): the logged series that were
 * not drawn (gradient norm, learning rate, steps/s, effective rank), the user's own scalars, log scale, x axis
 * step / wall time, zoom and pan, export as PNG and CSV, the layout rule of threshold labels and the loss
 * chart's w. The real bundle (media/dashboard.js, `npm run build`) in headless Chromium, fed with the recorded
 * softmax run (test/fixtures/dashboard).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { cspViolations, loadRecording, posted, send, useDashboardPages, type PageLog } from '../fixtures/dashboard/harness';
import { parseToDashboard, type RunHeader, type StepEvent, type ToDashboard } from '../../src/webview/dashboard/protocol';

const softmax = loadRecording('softmax');
const messages = (): ToDashboard[] => softmax.messages.map((m) => m.message);
const steps: StepEvent[] = softmax.messages.flatMap((m) => (m.message.type === 'steps' ? m.message.steps : []));
const header: RunHeader = softmax.messages
  .filter((m) => m.message.type === 'status' || m.message.type === 'reset')
  .map((m) => (m.message as { run: RunHeader }).run)
  .pop()!;

const dashboard = useDashboardPages();

async function assertClean(page: Page, log: PageLog): Promise<void> {
  assert.deepEqual(await cspViolations(page), []);
  assert.deepEqual(log.errors, []);
}

const idle = (page: Page) => page.waitForFunction(() => !(window.__rlensDashboard!.state() as { renderPending: boolean }).renderPending);

/** Scrolls a chart into view and waits until it is drawn. */
async function showChart(page: Page, chart: string): Promise<void> {
  await page.locator(`[data-chart="${chart}"]`).scrollIntoViewIfNeeded();
  await idle(page);
}

interface Counts {
  [id: string]: { logged: number; displayed: number; charted: number | null };
}

test('gradient norm, learning rate, steps/s and effective rank are charted: every logged step, the newest values as recorded', async () => {
  const { page, log } = await dashboard.open({ viewport: { width: 900, height: 3200 } });
  await send(page, messages());
  const last = steps[steps.length - 1];
  const latest = (await page.evaluate(() => window.__rlensDashboard!.latest())) as { values: Record<string, number | null> };
  assert.equal(latest.values['train.gradNorm'], last.gradNorm);
  assert.equal(latest.values['train.lr'], last.lr);
  assert.equal(latest.values['train.stepsPerSec'], 1000 / last.stepMs!);
  assert.equal(latest.values['collapse.effectiveRank'], last.diagnostics.collapse.effectiveRank);
  for (const [chart, id] of [
    ['gradNorm', 'train.gradNorm'],
    ['lr', 'train.lr'],
    ['stepsPerSec', 'train.stepsPerSec'],
    ['effectiveRank', 'collapse.effectiveRank'],
  ]) {
    await showChart(page, chart);
    // drawn once the view reports the chart visible
    await page.waitForFunction((i) => {
      const c = (window.__rlensDashboard!.pointCounts() as unknown as Record<string, { displayed: number; charted: number | null }>)[i];
      return c.charted === c.displayed;
    }, id);
  }
  const counts = (await page.evaluate(() => window.__rlensDashboard!.pointCounts())) as unknown as Counts;
  for (const id of ['train.gradNorm', 'train.lr', 'train.stepsPerSec', 'collapse.effectiveRank']) {
    assert.equal(counts[id].logged, steps.length, id);
    assert.equal(counts[id].charted, counts[id].displayed, `${id}: Chart.js holds every display point`);
  }
  // effective rank is computed on some steps only: gaps elsewhere, its values where logged
  const rank = (await page.evaluate(() => window.__rlensDashboard!.displayPoints('collapse.effectiveRank' as never))) as { x: number; y: number | null }[];
  const logged = steps.filter((e) => e.diagnostics.collapse.effectiveRank !== null);
  assert.ok(logged.length > 3 && logged.length < steps.length);
  assert.deepEqual(
    rank.filter((p) => p.y !== null).map((p) => [p.x, p.y]),
    logged.map((e) => [e.step, e.diagnostics.collapse.effectiveRank]),
  );
  await assertClean(page, log);
  await page.close();
});

test('the loss chart says the symmetric part is drawn unweighted and the total weighs it by w', async () => {
  const { page, log } = await dashboard.open({ viewport: { width: 900, height: 2400 } });
  await send(page, messages());
  await showChart(page, 'loss');
  const legend = await page.evaluate(() => ({
    describe: document.querySelector('[data-chart="loss"] figcaption')!.getAttribute('title'),
    sub: document.querySelector('[data-chart="loss"] .chart-sub')!.textContent,
  }));
  assert.match(legend.describe!, /w · symmetric/);
  assert.match(legend.sub!, /symmetric part drawn unweighted/);
  const csv = await exportCsv(page, 'loss');
  assert.match(csv.split('\n')[0], /total = query \+ w·symmetric/);
  assert.match(csv.split('\n')[0], /symmetric part \(before × w\)/);
  await assertClean(page, log);
  await page.close();
});

/** Clicks a chart's CSV button and returns the text it posted. */
async function exportCsv(page: Page, chart: string): Promise<string> {
  const before = (await posted(page)).length;
  await page.locator(`[data-chart="${chart}"] [data-role="export-csv"]`).click();
  const out = (await posted(page)).slice(before);
  assert.equal(out.length, 1);
  const m = out[0];
  assert.ok(m.type === 'exportChart' && m.format === 'csv', JSON.stringify(m).slice(0, 200));
  return m.data;
}

test('export: PNG of the canvas and the exact data as CSV, posted over the validated channel', async () => {
  const { page, log } = await dashboard.open({ viewport: { width: 900, height: 2400 } });
  await send(page, messages());
  await showChart(page, 'gradNorm');
  await page.locator('[data-chart="gradNorm"] [data-role="export-png"]').click();
  const png = (await posted(page)).at(-1)!;
  assert.ok(png.type === 'exportChart' && png.format === 'png');
  assert.match(png.name, /gradNorm$/);
  assert.ok(png.data.startsWith('data:image/png;base64,'));
  const bytes = Buffer.from(png.data.slice('data:image/png;base64,'.length), 'base64');
  assert.deepEqual([...bytes.subarray(1, 4)], [...Buffer.from('PNG')]);
  assert.ok(bytes.length > 2000, `a drawn chart, ${bytes.length} bytes`);
  const csv = (await exportCsv(page, 'gradNorm')).trimEnd().split('\n');
  assert.equal(csv[0], 'step,time,gradient norm');
  assert.equal(csv.length, steps.length + 1, 'one row per logged step, not the decimated points');
  steps.forEach((e, i) => assert.equal(csv[i + 1], `${e.step},${new Date(e.time).toISOString()},${e.gradNorm ?? ''}`));
  await assertClean(page, log);
  await page.close();
});

test('log scale: per chart, only while its values are positive (refused with the reason otherwise)', async () => {
  const { page, log } = await dashboard.open({ viewport: { width: 900, height: 2400 } });
  const withNegative = messages().map((m) =>
    m.type === 'reset'
      ? {
          ...m,
          scalars: [
            { step: 2, values: { offset: -0.5 } },
            { step: 4, values: { offset: 0.25 } },
          ],
        }
      : m,
  );
  await send(page, withNegative);
  await showChart(page, 'gradNorm');
  assert.equal(await page.evaluate(() => window.__rlensDashboard!.logScale('gradNorm')), false);
  await page.locator('[data-chart="gradNorm"] [data-role="log-scale"]').click();
  await idle(page);
  assert.equal(await page.evaluate(() => window.__rlensDashboard!.logScale('gradNorm')), true);
  assert.equal(await page.locator('[data-chart="gradNorm"] [data-role="log-scale"]').getAttribute('aria-pressed'), 'true');
  assert.equal(await page.evaluate(() => window.__rlensDashboard!.logScale('lr')), false, 'the other charts keep theirs');
  await showChart(page, 'scalars');
  const button = page.locator('[data-chart="scalars"] [data-role="log-scale"]');
  await button.click();
  await idle(page);
  assert.equal(await page.evaluate(() => window.__rlensDashboard!.logScale('scalars')), false);
  assert.equal(await button.getAttribute('data-refused'), 'true');
  assert.match((await button.getAttribute('title'))!, /positive values: this chart shows -0\.5/);
  await assertClean(page, log);
  await page.close();
});

test('scalars events: one chart with a selector per name, live, validated', async () => {
  const { page, log } = await dashboard.open({ viewport: { width: 900, height: 3200 } });
  const scalars = steps.map((e) => ({ step: e.step, values: { 'my/lr': 0.001 * e.step, temperature: e.step % 3 === 0 ? null : 1 / e.step } }));
  const half = Math.floor(scalars.length / 2);
  await send(page, [{ ...messages()[0], scalars: scalars.slice(0, half) }, ...messages().slice(1)]);
  await showChart(page, 'scalars');
  let s = (await page.evaluate(() => window.__rlensDashboard!.scalars())) as { names: string[]; shown: string | null; charted: number };
  assert.deepEqual(s, { names: ['my/lr', 'temperature'], shown: 'my/lr', charted: half });
  await send(page, [{ type: 'scalars', points: scalars.slice(half) }]);
  s = (await page.evaluate(() => window.__rlensDashboard!.scalars())) as typeof s;
  assert.equal(s.charted, scalars.length, 'the live message appends');
  await page.locator('[data-role="scalar-name"]').selectOption('temperature');
  await idle(page);
  s = (await page.evaluate(() => window.__rlensDashboard!.scalars())) as typeof s;
  assert.equal(s.shown, 'temperature');
  const csv = (await exportCsv(page, 'scalars')).trimEnd().split('\n');
  assert.equal(csv[0], 'step,temperature');
  assert.deepEqual(
    csv.slice(1),
    scalars.map((p) => `${p.step},${p.values.temperature ?? ''}`),
  );
  // a malformed scalars message is refused with its path, the chart unchanged
  const bad = parseToDashboard({ type: 'scalars', points: [{ step: 1, values: { lr: 'high' } }] });
  assert.ok(!bad.ok && /scalars\.points\[0\]\.values/.test(bad.reason), JSON.stringify(bad));
  await send(page, [{ type: 'scalars', points: [{ step: -1, values: { x: 1 } }] }]);
  const state = (await page.evaluate(() => window.__rlensDashboard!.state())) as { malformed: { count: number; lastReason: string } };
  assert.equal(state.malformed.count, 1);
  assert.match(state.malformed.lastReason, /scalars\.points\[0\]\.step/);
  await assertClean(page, log);
  await page.close();
});

test('x axis: steps or wall time (seconds since the first logged step) on every step chart', async () => {
  const { page, log } = await dashboard.open({ viewport: { width: 900, height: 2400 } });
  await send(page, messages());
  await showChart(page, 'loss');
  let v = (await page.evaluate(() => window.__rlensDashboard!.xView('loss'))) as { mode: string; drawn: { min: number; max: number } };
  assert.deepEqual([v.mode, v.drawn.min, v.drawn.max], ['step', steps[0].step, steps[steps.length - 1].step]);
  await page.locator('[data-role="x-axis"]').selectOption('time');
  await idle(page);
  v = (await page.evaluate(() => window.__rlensDashboard!.xView('loss'))) as typeof v;
  const seconds = (Date.parse(steps[steps.length - 1].time) - Date.parse(steps[0].time)) / 1000;
  assert.equal(v.mode, 'time');
  assert.equal(v.drawn.min, 0);
  assert.ok(Math.abs(v.drawn.max - seconds) < 1e-9, `${v.drawn.max} vs ${seconds}`);
  await assertClean(page, log);
  await page.close();
});

test("wall time: the evaluation chart follows the x axis, each evaluation at its own time (else its step's)", async () => {
  const { page, log } = await dashboard.open({ viewport: { width: 900, height: 2400 } });
  const t0 = Date.parse(steps[0].time);
  const stepSeconds = (step: number) => (Date.parse(steps.filter((e) => e.step <= step).at(-1)!.time) - t0) / 1000;
  // the recording's evaluations; the last one written 0.75 s after its step (an evaluation takes time)
  const evalMessages = messages().filter((m) => m.type === 'eval');
  const lastEval = evalMessages.at(-1) as Extract<ToDashboard, { type: 'eval' }>;
  const timed = {
    ...lastEval,
    point: { ...lastEval.point, time: new Date(Date.parse(steps.find((e) => e.step >= lastEval.point.step)!.time) + 750).toISOString() },
  };
  await send(page, [...messages().filter((m) => m.type !== 'eval'), ...evalMessages.slice(0, -1), timed]);
  await showChart(page, 'eval');
  const evalSteps = evalMessages.map((m) => (m as Extract<ToDashboard, { type: 'eval' }>).point.step);
  const exact = async () => ((await page.evaluate(() => window.__rlensDashboard!.evalChart())) as { lines: { label: string; xs: number[] }[] }).lines[0];
  assert.deepEqual((await exact()).xs, evalSteps, 'on steps: at their steps');
  await page.locator('[data-role="x-axis"]').selectOption('time');
  await showChart(page, 'eval');
  const onTime = await exact();
  const want = evalSteps.map((s, i) => (i === evalSteps.length - 1 ? (Date.parse(timed.point.time) - t0) / 1000 : stepSeconds(s)));
  assert.equal(onTime.xs.length, want.length);
  onTime.xs.forEach((x, i) => assert.ok(Math.abs(x - want[i]) < 1e-9, `evaluation ${i}: x ${x} s, want ${want[i]} s`));
  const v = (await page.evaluate(() => window.__rlensDashboard!.xView('eval'))) as { drawn: { min: number; max: number } };
  const loss = (await page.evaluate(() => window.__rlensDashboard!.xView('loss'))) as { drawn: { min: number; max: number } };
  assert.deepEqual(v.drawn, loss.drawn, 'the same x range as the step charts (seconds)');
  // zoomed on wall time: the evaluation chart zooms with them
  await showChart(page, 'loss');
  const box = (await page.locator('[data-chart="loss"] canvas').boundingBox())!;
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.wheel(0, -300);
  await idle(page);
  await showChart(page, 'eval');
  const zoomed = (await page.evaluate(() => window.__rlensDashboard!.xView('eval'))) as {
    range: { min: number; max: number };
    drawn: { min: number; max: number };
  };
  assert.ok(zoomed.range, 'zoomed');
  assert.deepEqual(zoomed.drawn, zoomed.range);
  await page.locator('[data-role="x-axis"]').selectOption('step');
  await showChart(page, 'eval');
  assert.deepEqual((await exact()).xs, evalSteps, 'back on steps');
  await assertClean(page, log);
  await page.close();
});

test('zoom and pan: the wheel zooms every step chart around the pointer, dragging pans, a double click shows all', async () => {
  const { page, log } = await dashboard.open({ viewport: { width: 900, height: 2400 } });
  await send(page, messages());
  await showChart(page, 'loss');
  const first = steps[0].step;
  const lastStep = steps[steps.length - 1].step;
  const box = (await page.locator('[data-chart="loss"] canvas').boundingBox())!;
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.wheel(0, -300);
  await idle(page);
  const zoomed = (await page.evaluate(() => window.__rlensDashboard!.xView('loss'))) as {
    range: { min: number; max: number };
    drawn: { min: number; max: number };
  };
  assert.ok(zoomed.range, 'zoomed');
  assert.ok(zoomed.range.max - zoomed.range.min < (lastStep - first) * 0.6, JSON.stringify(zoomed));
  assert.ok(zoomed.range.min > first && zoomed.range.max < lastStep);
  assert.deepEqual(zoomed.drawn, zoomed.range);
  await showChart(page, 'ratio');
  const ratio = (await page.evaluate(() => window.__rlensDashboard!.xView('ratio'))) as { drawn: { min: number; max: number } };
  assert.deepEqual(ratio.drawn, zoomed.range, 'the other step charts follow');
  assert.equal(await page.locator('[data-role="zoom-reset"]').isVisible(), true);
  await showChart(page, 'loss');
  const box2 = (await page.locator('[data-chart="loss"] canvas').boundingBox())!;
  await page.mouse.move(box2.x + box2.width / 2, box2.y + box2.height / 2);
  await page.mouse.down();
  await page.mouse.move(box2.x + box2.width / 2 - 60, box2.y + box2.height / 2, { steps: 4 });
  await page.mouse.up();
  await idle(page);
  const panned = (await page.evaluate(() => window.__rlensDashboard!.xView('loss'))) as { range: { min: number; max: number } };
  assert.ok(panned.range.min > zoomed.range.min, `dragging left shows later steps: ${JSON.stringify([zoomed.range, panned.range])}`);
  assert.ok(Math.abs(panned.range.max - panned.range.min - (zoomed.range.max - zoomed.range.min)) < 1e-6, 'same width');
  await page.locator('[data-chart="loss"] canvas').dblclick();
  await idle(page);
  const all = (await page.evaluate(() => window.__rlensDashboard!.xView('loss'))) as { range: unknown; drawn: { min: number; max: number } };
  assert.equal(all.range, null);
  assert.deepEqual(all.drawn, { min: first, max: lastStep });
  await assertClean(page, log);
  await page.close();
});

/**
 * Steps of the recorded run with R and the violation rate set so that the line R = 1 and the violation rate's
 * warning line land on the same pixel row: R spans [0, 4] (R = 1 at a quarter of the height) and the best
 * violation rate since separation is 0.05, so its warning level 0.05 + 0.2 sits at a quarter of [0, 1].
 */
function coincidingLines(): ToDashboard[] {
  const tuned = steps.map((e, i) => {
    const s = structuredClone(e);
    s.diagnostics.collapse.ratio = i === 0 ? 0 : i < 5 ? 0.5 : 4;
    s.diagnostics.collapse.violationRate = i < 5 ? 0.6 : 0.05;
    return s;
  });
  return [{ type: 'reset', run: { ...header, collapseThresholds: { separatedRatio: 2.5, violationRise: 0.2 } }, steps: tuned, evals: [] }];
}

function overlapping(boxes: { label: string; x: number; y: number; width: number; height: number }[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < boxes.length; i++)
    for (let j = i + 1; j < boxes.length; j++) {
      const a = boxes[i];
      const b = boxes[j];
      if (a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height) out.push(`"${a.label}" × "${b.label}"`);
    }
  return out;
}

test('threshold labels never overlap: measured label boxes of the ratio chart, sidebar and editor widths', async () => {
  for (const width of [300, 360, 500, 900]) {
    const { page, log } = await dashboard.open({ viewport: { width, height: 1400 } });
    await send(page, coincidingLines());
    await showChart(page, 'ratio');
    const lines = (await page.evaluate(() => window.__rlensDashboard!.thresholdLines('ratio'))) as { label: string; y: number }[];
    const r1 = lines.find((l) => l.label === 'R = 1')!;
    const warn = lines.find((l) => l.label.startsWith('violation rate warning'))!;
    assert.ok(r1 && warn, JSON.stringify(lines));
    assert.ok(Math.abs(r1.y - warn.y) < 3, `the case: both lines on one row (${r1.y} vs ${warn.y})`);
    const boxes = (await page.evaluate(() => window.__rlensDashboard!.labelBoxes('ratio')))!;
    assert.equal(boxes.length, 3);
    assert.deepEqual(overlapping(boxes), [], `width ${width}: ${JSON.stringify(boxes)}`);
    // the case is real in a sidebar: at their own places (the layout rule undone) the labels overlap there
    if (width <= 360) assert.notDeepEqual(overlapping(boxes.map((b) => ({ ...b, y: b.ownY }))), [], `width ${width}: overlap without the rule`);
    const area = await page.evaluate(() => {
      const c = document.querySelector('[data-chart="ratio"] canvas') as HTMLCanvasElement;
      return { h: c.clientHeight };
    });
    for (const b of boxes) assert.ok(b.y >= 0 && b.y + b.height <= area.h, `${b.label} inside the canvas`);
    await assertClean(page, log);
    await page.close();
  }
});

test('overlay: up to 5 runs drawn on the per-step charts in their own colours, live; a sixth refused; removed on request', async () => {
  const { page, log } = await dashboard.open({ viewport: { width: 900, height: 2400 } });
  await send(page, messages());
  await page.locator('[data-role="overlay-pick"]').click();
  assert.deepEqual((await posted(page)).at(-1), { type: 'pickOverlay' });
  const half = Math.floor(steps.length / 2);
  const shifted = (k: number) => steps.map((e) => ({ ...structuredClone(e), loss: (e.loss ?? 0) + k }));
  const overlay = (k: number, reset: boolean, part: StepEvent[]): ToDashboard => ({
    type: 'overlay',
    runDir: `/runs/r${k}`,
    name: `run ${k}`,
    reset,
    steps: part,
  });
  await send(
    page,
    [1, 2, 3, 4, 5].map((k) => overlay(k, true, shifted(k).slice(0, half))),
  );
  await showChart(page, 'loss');
  type Ov = { runs: { runDir: string; name: string; logged: number }[]; charts: Record<string, { label: string; points: number; last: number | null }[]> };
  let ov = (await page.evaluate(() => window.__rlensDashboard!.overlays())) as Ov;
  assert.deepEqual(
    ov.runs.map((r) => [r.name, r.logged]),
    [1, 2, 3, 4, 5].map((k) => [`run ${k}`, half]),
  );
  assert.deepEqual(
    ov.charts.loss.map((c) => [c.label, c.points]),
    [1, 2, 3, 4, 5].map((k) => [`run ${k}`, half]),
  );
  assert.match(await page.locator('[data-role="overlaid-runs"]').innerText(), /overlaid: run 1, run 2, run 3, run 4, run 5/);
  // live: the rest of run 3 arrives
  await send(page, [overlay(3, false, shifted(3).slice(half))]);
  await showChart(page, 'loss');
  ov = (await page.evaluate(() => window.__rlensDashboard!.overlays())) as Ov;
  assert.equal(ov.charts.loss[2].points, steps.length);
  // each overlaid line is its run's own smoothed loss: runs 4 and 5 log the same losses + 4 and + 5, and the
  // (debiased) EMA of x + c is EMA(x) + c
  const last = (k: number) => ov.charts.loss.find((c) => c.label === `run ${k}`)!.last!;
  assert.ok(Math.abs(last(5) - last(4) - 1) < 1e-9, `${last(5)} − ${last(4)}`);
  // a sixth is refused, said and ignored
  await send(page, [overlay(6, true, steps.slice(0, 3))]);
  ov = (await page.evaluate(() => window.__rlensDashboard!.overlays())) as Ov;
  assert.equal(ov.runs.length, 5);
  const state = (await page.evaluate(() => window.__rlensDashboard!.state())) as { malformed: { count: number; lastReason: string } };
  assert.match(state.malformed.lastReason, /at most 5 runs/);
  await send(page, [{ type: 'overlayRemove', runDir: '/runs/r2' }]);
  await showChart(page, 'ratio');
  ov = (await page.evaluate(() => window.__rlensDashboard!.overlays())) as Ov;
  assert.deepEqual(
    ov.charts.ratio.map((c) => c.label),
    ['run 1', 'run 3', 'run 4', 'run 5'],
  );
  await showChart(page, 'lr');
  ov = (await page.evaluate(() => window.__rlensDashboard!.overlays())) as Ov;
  assert.equal(ov.charts.lr.length, 4, 'the new charts overlay too');
  await assertClean(page, log);
  await page.close();
});
