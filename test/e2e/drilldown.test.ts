/**
 * End-to-end, in a real VS Code: from a chart of the dashboard to the training pairs behind it and on to their
 * lines (issue 25). A short run of the workspace's experiment (trained here, with step samples, the default) is
 * shown from the Runs tree; a real click on a point of the R / violation-rate chart lists that step's sampled
 * pairs with their texts read from the training file, and a click on a pair's query location opens train.jsonl
 * at that line. A click on a bin of the δ/τ histogram lists the newest step's pairs in that bin.
 *
 *   node --import tsx --test test/e2e/drilldown.test.ts
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import type { FrameLocator } from 'playwright-core';
import { initBackend } from '../../src/core/backend';
import { parseConfigText } from '../../src/core/config';
import { readEvents, type StepEvent } from '../../src/core/runs';
import { runTraining } from '../../src/core/training/trainLoop';
import { smallShopConfig } from './support/e2eWorkspace';
import { activityItem, cursorPosition, dashboardFrame, treeRow, waitFor } from './support/workbench';
import { useE2EWorkbench } from './support/e2eSession';

let steps: StepEvent[] = [];

const e2e = useE2EWorkbench({
  workspace: { prefix: 'rlens-e2e-drill-' },
  setup: async (ws) => {
    const backend = await initBackend('wasm');
    const text = smallShopConfig().replace('"steps": 200000', '"steps": 40');
    const { runDir } = await runTraining({ loaded: parseConfigText(text, ws.config), backend, runsRoot: ws.runs });
    steps = readEvents(path.join(runDir, 'events.jsonl')).events.filter((e): e is StepEvent => e.type === 'step');
    assert.ok(steps.length >= 4 && steps.every((s) => (s.samples?.rows.length ?? 0) > 0), 'every logged step has its sample');
  },
  prefix: 'drilldown',
  expectFile: 'shop.rlens.json',
});

type ChartId = 'hyperHist' | 'hyperBands' | 'ratio';

/** A real mouse click on chart `chart` at data point (x, y): the debug hook gives its pixel, the click is the user's. */
async function clickChart(dash: FrameLocator, chart: ChartId, x: number, y: number): Promise<void> {
  const canvas = dash.locator(`[data-chart="${chart}"] canvas`).first();
  await canvas.scrollIntoViewIfNeeded();
  const at = await canvas.evaluate(
    (c, [id, xx, yy]) => {
      const p = window.__rlensDashboard!.drilldownPixel(id as never, xx as number, yy as number);
      const r = c.getBoundingClientRect();
      return p ? { x: p.x - r.left, y: p.y - r.top } : null;
    },
    [chart, x, y] as const,
  );
  assert.ok(at, `${chart} is listened to`);
  await canvas.click({ position: at });
}

/** The text of a training line's "query" field. */
function queryOfLine(file: string, line: number): string {
  return (JSON.parse(fs.readFileSync(file, 'utf8').split('\n')[line - 1]) as { query: string }).query;
}

test('a click on an R point lists that step’s pairs with their texts; a click on a query location opens its training line', async () => {
  const { page } = e2e.wb;
  const dash = dashboardFrame(page);
  await activityItem(page).waitFor({ timeout: 60_000 });
  await activityItem(page).click();
  const row = treeRow(page, 'Runs', /shop/).first();
  await row.waitFor({ timeout: 60_000 });
  await row.click();
  const last = steps[steps.length - 1];
  await dash.locator('[data-role="run-step"]', { hasText: String(last.step) }).waitFor({ timeout: 60_000 });

  const mid = steps[Math.floor(steps.length / 2)];
  // The chart may still be receiving the run's steps: wait until it holds them all.
  await waitFor(
    'the R chart holding every logged step',
    () =>
      dash
        .locator('body')
        .evaluate(() => (window.__rlensDashboard!.pointCounts() as Record<string, { charted: number | null }>)['collapse.ratio']?.charted ?? 0),
    (n) => n >= steps.length,
    30_000,
  );
  await clickChart(dash, 'ratio', mid.step, mid.diagnostics.collapse.ratio as number);
  const title = dash.locator('[data-role="drilldown-title"]');
  await title.waitFor({ timeout: 20_000 });
  assert.equal(await title.innerText(), `sampled pairs at step ${mid.step} (violations first)`);
  const pairs = dash.locator('[data-role="drilldown"] li.pair');
  assert.equal(await pairs.count(), mid.samples!.rows.length);

  // The texts come from the training lines the sample refers to (read by the extension on demand).
  const first = pairs.first();
  const qRef = await first.locator('[data-role="query-loc"]').getAttribute('title');
  const m = /^Open (.+):(\d+)$/.exec(qRef ?? '');
  assert.ok(m, `a query location: ${qRef}`);
  const [file, line] = [m[1], Number(m[2])];
  assert.equal(path.resolve(file), path.join(e2e.ws.dir, 'data', 'train.jsonl'));
  const queryText = first.locator('[data-role="query-text"]');
  await waitFor(
    'the query text read from its line',
    () => queryText.innerText(),
    (t) => t !== '…',
    20_000,
  );
  assert.equal(await queryText.innerText(), queryOfLine(file, line));
  await e2e.wb.shot('1-pairs-at-step');

  // One more click: the training line in the editor.
  await first.locator('[data-role="query-loc"]').click();
  await page.locator('.tabs-container .tab.active', { hasText: 'train.jsonl' }).first().waitFor({ timeout: 30_000 });
  await waitFor(
    'the cursor on the training line',
    () => cursorPosition(page),
    (p) => p?.line === line,
    30_000,
  );
  await e2e.wb.shot('2-training-line');
});

test('a click on a δ/τ histogram bin lists the newest step’s sampled pairs in that bin', async () => {
  const { page } = e2e.wb;
  const dash = dashboardFrame(page);
  const last = steps[steps.length - 1];
  const dist = last.diagnostics.dist.tau ?? last.diagnostics.dist.delta;
  assert.ok(dist, 'the run logs a δ or τ distribution');
  const { lo, hi, counts } = dist.hist;
  const w = (hi - lo) / counts.length;
  const sampled = last.samples!.rows.find((r) => r.hyper !== null && r.hyper > lo && r.hyper < hi);
  assert.ok(sampled, 'a sampled pair inside the histogram range');
  const k = Math.min(counts.length - 1, Math.floor((sampled.hyper! - lo) / w));
  await clickChart(dash, 'hyperHist', lo + (k + 0.5) * w, Math.max(...counts) / 2);
  const title = dash.locator('[data-role="drilldown-title"]');
  await waitFor(
    'the bin’s pairs',
    () => title.innerText(),
    (t) => new RegExp(`^[δτ] ∈ \\[.*\\) at step ${last.step}$`).test(t),
    20_000,
  );
  const inBin = last.samples!.rows.filter((r) => r.hyper! >= lo + k * w && r.hyper! < lo + (k + 1) * w);
  assert.equal(await dash.locator('[data-role="drilldown"] li.pair').count(), inBin.length);
  await e2e.wb.shot('3-histogram-bin');
});
