/**
 * End-to-end, in a real VS Code: the collapse notification of a run is ONE notification that the
 * extension rewrites in place (warning → collapsing → collapsed) and closes when the run ends; its
 * action links act on that run's config; and the sidebar's three views share the height so that the
 * dashboard stays usable (the sizes are printed). Waits on states only: a notification's text, an
 * editor's text, a toast detached.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { useCodeServer, type CodeServer } from './support/codeServer';
import { makeWorkspace, type E2EWorkspace } from './support/e2eWorkspace';
import { ensureVsix } from './support/extensionPackage';
import { activityItem, clickLinkUntil, dashboardFrame, openWorkbench, quickOpen, runCommand, type Workbench } from './support/workbench';

let ws: E2EWorkspace;
let server: CodeServer | undefined;
let wb: Workbench | undefined;

before(async () => {
  const vsix = ensureVsix();
  ws = makeWorkspace({ prefix: 'rlens-e2e-alert-' });
  server = await useCodeServer({ vsix, workspace: ws.dir });
  wb = await openWorkbench(server.url, ws.dir, { prefix: 'alert', expectFile: 'shop.rlens.json' });
});

after(async () => {
  await wb?.shot('zz-last').catch(() => undefined);
  await wb?.close();
  await server?.stop();
  ws?.dispose();
});

// The paper's collapse: adaptive margin without stop-gradient and without the symmetric term.
const COLLAPSE_CONFIG = `{
  "name": "collapse",
  "data": { "train": "data/train.jsonl" },
  "model": { "vocabBuckets": 4096, "embeddingDim": 32, "hiddenDim": 64, "outputDim": 32 },
  "loss": { "type": "margin", "adaptive": true, "stopGradient": false, "symmetric": false },
  "training": { "batchSize": 64, "learningRate": 0.002, "steps": 100000, "logEvery": 5 },
  "backend": "wasm"
}
`;

test('a collapsing run: one notification rewritten in place, its link fixes that run’s config, closed when the run ends', async (t) => {
  const { page } = wb!;
  const dash = dashboardFrame(page);

  await t.test('the sidebar: Dashboard, Runs and Failing Queries all open; the dashboard’s share of the height', async () => {
    await activityItem(page).waitFor({ timeout: 60_000 });
    await activityItem(page).click();
    await dash.locator('[data-role="empty"]').waitFor({ state: 'attached', timeout: 60_000 });
    const heights: Record<string, number> = {};
    for (const title of ['Dashboard', 'Runs', 'Failing Queries']) {
      const pane = page.locator(`.pane:has(.pane-header[aria-label^="${title}"])`).first();
      await pane.waitFor({ timeout: 20_000 });
      heights[title] = Math.round((await pane.boundingBox())?.height ?? -1);
    }
    const sidebar = Math.round((await page.locator('.part.sidebar').first().boundingBox())?.height ?? -1);
    console.log(
      `[e2e] sidebar ${sidebar}px: ${Object.entries(heights)
        .map(([k, v]) => `${k} ${v}px`)
        .join(', ')}`,
    );
    assert.ok(heights.Dashboard >= sidebar / 2 - 40, `the dashboard gets about 6/9 of the sidebar: ${JSON.stringify(heights)} of ${sidebar}px`);
    await wb!.shot('1-sidebar');
  });

  const collapse = path.join(ws.dir, 'collapse.rlens.json');
  fs.writeFileSync(collapse, COLLAPSE_CONFIG);
  const alerts = page.locator('.notifications-toasts .notification-toast', { hasText: /Retrieval Lens · run \S+-collapse: / });

  await t.test('the run’s alert is one notification whose text follows the verdict to "collapsed"', async () => {
    await quickOpen(page, 'collapse.rlens.json');
    await page.locator('.tabs-container .tab.active', { hasText: 'collapse.rlens.json' }).waitFor({ timeout: 20_000 });
    await runCommand(page, 'Retrieval Lens: Start Training');
    await alerts.first().waitFor({ timeout: 90_000 });
    await alerts
      .filter({ hasText: /training has collapsed at step \d+/ })
      .first()
      .waitFor({ timeout: 90_000 });
    assert.equal(await alerts.count(), 1, 'no second notification for the same run');
    await wb!.shot('2-collapse-alert');
  });

  await t.test('its "Enable stop-gradient and symmetric loss" link edits that run’s config (one undoable edit)', async () => {
    const editor = page.locator('.editor-instance .view-lines');
    await clickLinkUntil(alerts.first(), 'Enable stop-gradient and symmetric loss', editor.filter({ hasText: '"stopGradient": true' }).first());
    await editor.filter({ hasText: '"symmetric": true' }).first().waitFor({ timeout: 5000 });
    assert.ok(fs.readFileSync(collapse, 'utf8').includes('"stopGradient": false'), 'the file on disk is unchanged until saved');
    await wb!.shot('3-link-fixed');
  });

  await t.test('the run ends: its notification closes', async () => {
    await runCommand(page, 'Retrieval Lens: Stop Training');
    await dash.locator('[data-role="run-status"]', { hasText: 'stopped' }).waitFor({ timeout: 60_000 });
    await alerts.first().waitFor({ state: 'detached', timeout: 30_000 });
    await wb!.shot('4-closed');
  });
});
