/**
 * End-to-end, in a real VS Code: two runs of the workspace's experiment (trained and evaluated here: adaptive
 * softmax and fixed margin δ 0.3) are selected together in the Runs tree (Ctrl+click) and compared from the
 * context menu's "Compare Selected Runs": the comparison panel shows the config keys that differ and both
 * runs' curves (read through the webview's debug hook, checked against events.jsonl), and a click on a
 * failing query of the diff opens the test data at that query's line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import type { Frame, Locator } from 'playwright-core';
import { initBackend } from '../../src/core/backend';
import { parseConfigText } from '../../src/core/config';
import { evaluateRun } from '../../src/core/eval/evaluateRun';
import { diffRunFailures } from '../../src/core/experiments/failureDiff';
import { readEvents } from '../../src/core/runs/eventLog';
import { runTraining } from '../../src/core/training/trainLoop';
import { smallShopConfig } from './support/e2eWorkspace';
import { activityItem, cursorPosition, EXTENSION_ID, runCommand, treeRow, waitFor, type Workbench } from './support/workbench';
import { useE2EWorkbench } from './support/e2eSession';

const runDirs: string[] = [];

const e2e = useE2EWorkbench({
  workspace: { prefix: 'rlens-e2e-compare-' },
  setup: async (ws) => {
    // Two short runs of the workspace's config (as if trained earlier), each evaluated with an exact index.
    const backend = await initBackend('wasm');
    const base = smallShopConfig()
      .replace('"steps": 200000', '"steps": 30')
      .replace('"backend": "wasm"', '"evaluation": { "index": { "type": "Flat" } },\n  "backend": "wasm"');
    const margin = base
      .replace('"name": "e2e-shop"', '"name": "e2e-margin"')
      .replace('"type": "softmax",\n    "adaptive": true', '"type": "margin",\n    "adaptive": false, "margin": 0.3');
    assert.notEqual(margin, base);
    for (const text of [base, margin]) {
      const { runDir } = await runTraining({ loaded: parseConfigText(text, ws.config), backend, runsRoot: ws.runs });
      await evaluateRun({ runDir });
      runDirs.push(runDir);
    }
  },
  prefix: 'compare',
  expectFile: 'shop.rlens.json',
});

/** The frame of the Experiments webview (the one holding #rlens-experiments). */
async function experimentsFrame(page: Workbench['page'], timeoutMs = 60_000): Promise<Frame> {
  return waitFor(
    'the comparison panel',
    async () => {
      for (const f of page.frames())
        if (f.url().includes(EXTENSION_ID) || f.parentFrame()?.url().includes(EXTENSION_ID))
          if (await f.$('#rlens-experiments [data-role="config"]').catch(() => null)) return f;
      return null;
    },
    (f) => f !== null,
    timeoutMs,
  ) as Promise<Frame>;
}

test('Compare Selected Runs: differing config keys, both runs’ curves, and a failing query opens its data line', async () => {
  const { page } = e2e.wb;
  await activityItem(page).waitFor({ timeout: 60_000 });
  await activityItem(page).click();
  // The Runs tree labels the two runs by what tells them apart (their shared name prefix "e2e-" dropped); a row's text
  // is its label followed by its description ("shopcompleted · 30/30 · …").
  const rowA = treeRow(page, 'Runs', /^shop/).first();
  const rowB = treeRow(page, 'Runs', /^margin/).first();
  await rowA.waitFor({ timeout: 60_000 });
  await rowB.waitFor({ timeout: 60_000 });
  // A redraw of the tree (a run's files changing after its evaluation) between the selection and the context
  // menu can leave one run selected, and the command then has one run to compare: no panel. Selection, menu and
  // panel are tried together, up to 3 times.
  let frame: Frame | null = null;
  for (let round = 1; frame === null; round++) {
    // Clicking a run shows it (the tree redraws with its marker), and a redraw between the two clicks can leave one
    // row selected: the selection is read from the rows (aria-selected) and made again until both are selected.
    const selected = async (row: Locator) => (await row.getAttribute('aria-selected').catch(() => null)) === 'true';
    for (let attempt = 1; ; attempt++) {
      if (!(await selected(rowA))) await rowA.click();
      await waitFor(
        'e2e-shop selected',
        () => selected(rowA),
        (v) => v,
        10_000,
      );
      if (!(await selected(rowB))) await rowB.click({ modifiers: ['Control'] });
      const both = await waitFor(
        'both runs selected',
        async () => (await selected(rowA)) && (await selected(rowB)),
        (v) => v,
        5_000,
      ).catch(() => false);
      if (both) break;
      if (attempt >= 5) throw new Error(`the two runs were not selected together after ${attempt} attempts`);
    }
    // The context menu's item: a click that did not reach it (the menu was still being laid out) leaves the
    // menu open, and is made again; one that did closes the menu (the command runs once per closing click).
    for (let attempt = 1; ; attempt++) {
      if (!(await page.locator('.context-view .monaco-menu').isVisible())) await rowB.click({ button: 'right' });
      await page.locator('.context-view .action-label', { hasText: 'Compare Selected Runs' }).first().click({ timeout: 20_000 });
      try {
        await page.locator('.context-view .monaco-menu').waitFor({ state: 'hidden', timeout: 5_000 });
        break;
      } catch (e) {
        if (attempt >= 5) throw new Error(`the context menu stayed open after ${attempt} clicks on "Compare Selected Runs"`, { cause: e });
      }
    }
    frame = await experimentsFrame(page, 20_000).catch((e: unknown) => {
      if (round >= 3) throw e;
      return null;
    });
  }
  await e2e.wb.shot('1-compare');

  // The config keys that differ, each run's value in the order of the runs compared.
  const rows = await frame.$$eval('[data-role="config"] tbody tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')));
  const byKey = new Map(rows.map((r) => [r[0], r.slice(1)]));
  const order = await frame.$$eval('[data-role="runs"] li .link', (as) => as.map((a) => a.textContent));
  const shopFirst = order[0] === 'e2e-shop';
  const pairOf = (a: string, b: string) => (shopFirst ? [a, b] : [b, a]);
  assert.deepEqual(byKey.get('name'), pairOf('e2e-shop', 'e2e-margin'));
  assert.deepEqual(byKey.get('loss.type'), pairOf('softmax', 'margin'));
  assert.deepEqual(byKey.get('loss.margin'), pairOf('0.1', '0.3'));

  // Both runs' curves: the R chart holds each run's logged R values.
  const charts = (await frame.evaluate(() => window.__rlensExperiments!.compareCharts())) as Record<
    string,
    { lines: { run: number; points: { x: number; y: number | null }[] }[] }
  >;
  const dirs = shopFirst ? runDirs : [...runDirs].reverse();
  dirs.forEach((dir, r) => {
    const steps = readEvents(path.join(dir, 'events.jsonl')).events.flatMap((e) => (e.type === 'step' ? [e] : []));
    assert.deepEqual(
      charts.ratio.lines.find((l) => l.run === r)!.points,
      steps.map((e) => ({ x: e.step, y: e.diagnostics.collapse.ratio })),
    );
  });

  // A failing query of the diff opens the test data at its line.
  const diff = diffRunFailures(dirs);
  assert.ok(diff.rows.length > 0);
  const row = diff.rows[0];
  await frame.locator(`[data-role="failures"] tr[data-query="${row.queryId}"] button.link`).click();
  await waitFor(
    'the cursor on the query line',
    () => cursorPosition(page),
    (p) => p?.line === row.line,
    30_000,
  );
  await page.locator('.tabs-container .tab.active', { hasText: 'test.jsonl' }).first().waitFor({ timeout: 10_000 });
  assert.ok(fs.readFileSync(row.file, 'utf8').split('\n')[row.line - 1].includes(row.queryId));
  await e2e.wb.shot('2-failure-opened');
  assert.deepEqual(
    e2e.wb.errors.filter((e) => /experiments|rlens/i.test(e)),
    [],
  );
});

test('the comparison follows its runs live (no refresh) and comes back after "Developer: Reload Window"', async () => {
  const { page } = e2e.wb;
  // The previous test ended on a data line opened in the panel's editor group: its tab brings the comparison back.
  await page.locator('.tabs-container .tab', { hasText: 'Compare: ' }).first().click();
  let frame = await experimentsFrame(page);
  const ratioPoints = async (f: Frame) =>
    ((await f.evaluate(() => window.__rlensExperiments!.compareCharts())) as Record<string, { lines: { run: number; points: unknown[] }[] }>).ratio.lines.map(
      (l) => l.points.length,
    );
  const before = await ratioPoints(frame);
  const sum = (n: number[]) => n.reduce((a, b) => a + b, 0);
  // The runs are complete (a step past their last would be refused as beyond training.steps), so one run's log is
  // taken back to before its last step and then written again, as its trainer wrote it: the panel follows both.
  const events = path.join(runDirs[0], 'events.jsonl');
  const full = fs.readFileSync(events, 'utf8');
  const lines = full.split('\n');
  const isStep = lines.map((l) => l.startsWith('{') && (JSON.parse(l) as { type: string }).type === 'step');
  const lastStep = isStep.lastIndexOf(true);
  fs.writeFileSync(events, lines.slice(0, lastStep).join('\n') + '\n');
  await waitFor(
    'the comparison redrawn without the last step',
    () => ratioPoints(frame),
    (n) => sum(n) === sum(before) - 1,
    30_000,
  );
  fs.writeFileSync(events, full);
  const after = await waitFor(
    'the comparison redrawn with the step written again',
    () => ratioPoints(frame),
    (n) => sum(n) === sum(before),
    30_000,
  );
  assert.equal(after.length, 2);
  await e2e.wb.shot('3-compare-live');
  await runCommand(page, 'Developer: Reload Window');
  frame = await experimentsFrame(page, 120_000);
  assert.deepEqual(await ratioPoints(frame), after, 'the same runs, with every step, after the reload');
  await e2e.wb.shot('4-compare-after-reload');
});
