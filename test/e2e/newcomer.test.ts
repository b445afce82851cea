/**
 * End-to-end, the newcomer's path in a real VS Code (code-server + headless Chromium) on a BEIR folder the
 * project has never seen (made in a temp workspace from the bundled shop data): New Experiment… from the
 * palette — pick the folder, "the same BEIR folder" as test data, the steps and the name, never touching
 * JSON — then Start Training from the notification, Evaluate Run (the only evaluable run: no question),
 * and a click on a failing query that opens queries.jsonl at the query's line.
 *
 *   node --import tsx --test test/e2e/newcomer.test.ts   (after bash scripts/setup-code-server.sh)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { Locator, Page } from 'playwright-core';
import { readMeta } from '../../src/core/runs/meta';
import { activityItem, clickToastButton, commandOpening, cursorPosition, runCommand, treeRow, waitFor } from './support/workbench';
import { useE2EWorkbench } from './support/e2eSession';
import { shopBeirFolder } from '../helpers/shopBeir';
import { flattenGroups, groupFailures } from '../../src/extension/failures/failureGroups';
import { parseFailures } from '../../src/extension/failures/failureRecords';

const e2e = useE2EWorkbench({
  folder: () => fs.mkdtempSync(path.join(os.tmpdir(), 'rlens-e2e-newcomer-')),
  setup: (ws) => {
    shopBeirFolder(ws.dir, { train: 2000, test: 80 });
  },
  prefix: 'newcomer',
  expectFile: 'shop-beir',
});

/** The quick input whose title contains `title`. */
function titled(page: Page, title: string): Locator {
  return page.locator('.quick-input-widget .quick-input-title', { hasText: title });
}

/** The quick input's text box with a placeholder containing `text`. */
function placeholder(page: Page, text: string): Locator {
  return page.locator(`.quick-input-widget .quick-input-box input[placeholder*="${text}"]`);
}

/** In the open quick input whose title contains `title`: type `value`, wait for the row with `rowText`, Enter. */
async function answer(page: Page, title: string, value: string, rowText?: string): Promise<void> {
  const widget = page.locator('.quick-input-widget');
  await widget.locator('.quick-input-title', { hasText: title }).waitFor({ timeout: 60_000 });
  const input = widget.locator('.quick-input-box input');
  await input.fill(value);
  if (rowText) await widget.locator('.monaco-list-row', { hasText: rowText }).first().waitFor({ timeout: 20_000 });
  await input.press('Enter');
  await widget.locator('.quick-input-title', { hasText: title }).waitFor({ state: 'hidden', timeout: 30_000 });
}

test('a newcomer trains, evaluates and jumps to a failing query of their own BEIR folder without editing JSON', async (t) => {
  const { page } = e2e.wb;
  const config = path.join(e2e.ws.dir, 'my-beir.rlens.json');

  await t.test('the Runs view offers New Experiment…; it detects the BEIR folder and writes a config', async () => {
    await activityItem(page).waitFor({ timeout: 60_000 });
    await activityItem(page).click();
    await page.locator('.pane:has(.pane-header[aria-label^="Runs"]) .monaco-button', { hasText: 'New Experiment…' }).first().waitFor({ timeout: 30_000 });
    await commandOpening(page, 'Retrieval Lens: New Experiment…', titled(page, 'training data'));
    await answer(page, 'training data', 'shop-beir', 'BEIR folder');
    // The next step's title says what was found in the training data.
    await page.locator('.quick-input-title', { hasText: 'train: BEIR folder (corpus.jsonl, queries.jsonl, qrels/train.tsv' }).waitFor({ timeout: 30_000 });
    await answer(page, 'test data', 'same', 'The same BEIR folder');
    await answer(page, 'training steps', '40');
    await answer(page, 'name', 'my-beir');
    const toast = page.locator('.notifications-toasts .notification-toast', { hasText: 'created my-beir.rlens.json' }).first();
    await toast.waitFor({ timeout: 30_000 });
    const text = fs.readFileSync(config, 'utf8');
    assert.match(text, /"train": "shop-beir"/);
    assert.match(text, /"test": "shop-beir"/);
    assert.match(text, /"steps": 40/);
    await e2e.wb.shot('1-created');
    await clickToastButton(toast, 'Start Training');
  });

  let runDir = '';
  await t.test('the config trains as it is', async () => {
    const runs = path.join(e2e.ws.dir, 'runs');
    runDir = await waitFor(
      'a completed run',
      async () => {
        const names = fs.existsSync(runs) ? fs.readdirSync(runs).filter((n) => !n.startsWith('.')) : [];
        const m = names.length === 1 ? readMeta(path.join(runs, names[0])) : null;
        return m?.ok && m.meta.status !== 'running' ? path.join(runs, names[0]) : '';
      },
      (d) => d !== '',
      600_000,
      1000,
    );
    const m = readMeta(runDir);
    assert.ok(m.ok && m.meta.status === 'completed', JSON.stringify(m));
    assert.equal(m.ok && m.meta.configPath, config);
    await treeRow(page, 'Runs', 'my-beir').first().waitFor({ timeout: 30_000 });
    await e2e.wb.shot('2-trained');
  });

  await t.test('Evaluate Run evaluates the only evaluable run and lists failing queries; a click opens queries.jsonl at the line', async () => {
    await runCommand(page, 'Retrieval Lens: Evaluate Run');
    const rows = page.locator('.pane:has(.pane-header[aria-label^="Failing Queries"]) .monaco-list-row', { hasText: /rank [>\d]/ });
    await rows.first().waitFor({ timeout: 300_000 });
    assert.ok(fs.existsSync(path.join(runDir, 'eval', 'failures.jsonl')));
    const records = parseFailures(fs.readFileSync(path.join(runDir, 'eval', 'failures.jsonl'), 'utf8')).records;
    const first = flattenGroups(groupFailures(records))[0];
    await rows.first().click();
    await page.locator('.tabs-container .tab.active', { hasText: 'queries.jsonl' }).first().waitFor({ timeout: 20_000 });
    await waitFor(
      'the cursor on the query line',
      () => cursorPosition(page),
      (p) => p?.line === first.source.line,
      20_000,
    );
    await e2e.wb.shot('3-jump');
  });
  let second = '';
  const failureRows = () => page.locator('.pane:has(.pane-header[aria-label^="Failing Queries"]) .monaco-list-row', { hasText: /rank [>\d]/ });
  await t.test('a second training moves the dashboard to an unevaluated run; the Failing Queries list the user chose stays', async () => {
    await runCommand(page, 'Retrieval Lens: Start Training');
    const runs = path.join(e2e.ws.dir, 'runs');
    second = await waitFor(
      'a second run, completed',
      async () => {
        const other = fs.readdirSync(runs).filter((n) => !n.startsWith('.') && path.join(runs, n) !== runDir);
        const m = other.length === 1 ? readMeta(path.join(runs, other[0])) : null;
        return m?.ok && m.meta.status !== 'running' ? path.join(runs, other[0]) : '';
      },
      (d) => d !== '',
      600_000,
      1000,
    );
    assert.equal(fs.existsSync(path.join(second, 'eval', 'failures.jsonl')), false);
    // The dashboard shows the new run (◉ on its row); the failing queries of the first are still listed.
    await treeRow(page, 'Runs', '◉').filter({ hasText: 'completed' }).first().waitFor({ timeout: 30_000 });
    await failureRows().first().waitFor({ timeout: 10_000 });
    // The two runs share the name "my-beir": their rows read differently (the start time is added).
    const labels = await treeRow(page, 'Runs', 'my-beir').locator('.label-name').allTextContents();
    assert.equal(labels.length, 2, labels.join(' | '));
    assert.notEqual(labels[0], labels[1]);
    await e2e.wb.shot('4-second-run');
  });

  await t.test('Evaluate Run from the palette asks which run when two fit (it does not pick the dashboard’s silently)', async () => {
    const input = placeholder(page, 'Evaluate which run');
    await commandOpening(page, 'Retrieval Lens: Evaluate Run', input);
    await page.locator('.quick-input-widget .monaco-list-row', { hasText: 'in the dashboard' }).first().waitFor({ timeout: 10_000 });
    await input.press('Escape');
    await input.waitFor({ state: 'hidden', timeout: 10_000 });
    assert.equal(fs.existsSync(path.join(second, 'eval', 'failures.jsonl')), false, 'nothing was evaluated');
  });

  await t.test('tags from the palette are stored in user.json and shown; the filter keeps the tagged run; Archive moves a run after asking', async () => {
    const pick = placeholder(page, 'Tags of which run');
    await commandOpening(page, 'Retrieval Lens: Edit Run Tags…', pick);
    await page.locator('.quick-input-widget .monaco-list-row', { hasText: 'in the dashboard' }).first().waitFor({ timeout: 10_000 });
    await pick.press('Enter');
    await answer(page, 'Tags of', 'second, try');
    await waitFor(
      'user.json with the tags',
      async () => (fs.existsSync(path.join(second, 'user.json')) ? fs.readFileSync(path.join(second, 'user.json'), 'utf8') : ''),
      (t) => t.includes('"second"') && t.includes('"try"'),
      20_000,
    );
    await treeRow(page, 'Runs', '#second').first().waitFor({ timeout: 20_000 });
    await commandOpening(page, 'Retrieval Lens: Filter Runs…', titled(page, 'Filter Runs'));
    await answer(page, 'Filter Runs', 'tag:second');
    await waitFor(
      'only the tagged run listed',
      () => treeRow(page, 'Runs', 'my-beir').count(),
      (n) => n === 1,
      20_000,
    );
    await runCommand(page, 'Retrieval Lens: Clear Runs Filter');
    await waitFor(
      'both runs listed again',
      () => treeRow(page, 'Runs', 'my-beir').count(),
      (n) => n === 2,
      20_000,
    );
    const which = placeholder(page, 'Archive which run');
    await commandOpening(page, 'Retrieval Lens: Archive Run…', which);
    await page.locator('.quick-input-widget .monaco-list-row', { hasText: '#second' }).first().waitFor({ timeout: 10_000 });
    await which.fill('#second');
    await which.press('Enter');
    const dialog = page.locator('.monaco-dialog-box');
    await dialog.waitFor({ timeout: 20_000 });
    assert.match((await dialog.textContent()) ?? '', /Archive .*my-beir\?/);
    await dialog.locator('.monaco-button', { hasText: 'Archive' }).first().click();
    const archived = path.join(e2e.ws.dir, 'runs', '.archive', path.basename(second));
    await waitFor(
      'the run in runs/.archive',
      async () => fs.existsSync(archived),
      (x) => x,
      20_000,
    );
    assert.equal(fs.existsSync(second), false);
    await waitFor(
      'one run listed',
      () => treeRow(page, 'Runs', 'my-beir').count(),
      (n) => n === 1,
      20_000,
    );
    await e2e.wb.shot('5-archived');
  });
});
