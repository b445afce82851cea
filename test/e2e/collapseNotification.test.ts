/**
 * End-to-end, in a real VS Code: a collapsed run raises one notification with the error icon and the
 * buttons fix · Stop Run · Show Dashboard; the fix edits that run's config and clears the verdict's
 * squiggle on the fixed block; Stop Run stops the run; and the sidebar's three views share the height so
 * that the dashboard stays usable (the sizes are printed). Waits on states only: a notification's text,
 * an editor's text, a toast detached, the status bar's step.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { readRun } from '../../src/core/runs/readRun';
import { activityItem, clickToastButton, dashboardFrame, quickOpen, runCommand, waitFor } from './support/workbench';
import { useE2EWorkbench } from './support/e2eSession';

const e2e = useE2EWorkbench({ workspace: { prefix: 'rlens-e2e-alert-' }, prefix: 'alert', expectFile: 'shop.rlens.json' });

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

test('a collapsed run: an error notification with fix · Stop Run · Show Dashboard; the fix clears the squiggle, Stop Run stops the run', async (t) => {
  const { page } = e2e.wb;
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
    await e2e.wb.shot('1-sidebar');
  });

  const collapse = path.join(e2e.ws.dir, 'collapse.rlens.json');
  fs.writeFileSync(collapse, COLLAPSE_CONFIG);
  const alerts = page.locator('.notifications-toasts .notification-toast', { hasText: /Retrieval Lens · run \S+-collapse: / });
  const collapsed = alerts.filter({ hasText: /training has collapsed at step \d+/ });
  // The verdict's squiggle on the config's `loss` block (the config has no other problem).
  const squiggles = page.locator('.editor-instance .view-overlays [class*="squiggly-"]');

  await t.test('the run’s "collapsed" alert: one notification with the error icon and the buttons fix · Stop Run · Show Dashboard', async () => {
    await quickOpen(page, 'collapse.rlens.json');
    await page.locator('.tabs-container .tab.active', { hasText: 'collapse.rlens.json' }).waitFor({ timeout: 20_000 });
    await runCommand(page, 'Retrieval Lens: Start Training');
    await collapsed.first().waitFor({ timeout: 180_000 });
    assert.equal(await collapsed.count(), 1, 'no second notification for the same level of the same run');
    const alert = collapsed.first();
    assert.equal(await alert.locator('.codicon-error').count(), 1, 'an error icon, not an info icon');
    assert.equal(await alert.locator('.codicon-info').count(), 0);
    const buttons = (await alert.locator('.monaco-button').allInnerTexts()).map((b) => b.trim()).filter(Boolean);
    assert.deepEqual(buttons, ['Apply Fix', 'Stop Run', 'Show Dashboard']);
    assert.match(await alert.innerText(), /Apply Fix: enable stop-gradient and symmetric loss in its config/, 'the message names the fix');
    // none of the buttons is cut to "…" (VS Code shrinks buttons that do not fit: "Stop …" beside a long fix label)
    const widths = await alert
      .locator('.monaco-button')
      .evaluateAll((els) => els.map((e) => ({ text: (e as HTMLElement).innerText.trim(), scroll: e.scrollWidth, client: e.clientWidth })));
    console.log(`[e2e] alert buttons (text px / shown px): ${widths.map((w) => `${w.text} ${w.scroll}/${w.client}`).join(', ')}`);
    for (const w of widths) assert.ok(w.scroll <= w.client, `"${w.text}" is shown whole: ${w.scroll} px of text in ${w.client} px`);
    await squiggles.first().waitFor({ state: 'attached', timeout: 30_000 });
    await e2e.wb.shot('2-collapse-alert');
  });

  await t.test('its fix edits that run’s config (one undoable edit) and the squiggle on the fixed `loss` block goes', async () => {
    await clickToastButton(collapsed.first(), 'Apply Fix');
    const editor = page.locator('.editor-instance .view-lines');
    await editor.filter({ hasText: '"stopGradient": true' }).first().waitFor({ timeout: 20_000 });
    await editor.filter({ hasText: '"symmetric": true' }).first().waitFor({ timeout: 5000 });
    assert.ok(fs.readFileSync(collapse, 'utf8').includes('"stopGradient": false'), 'the file on disk is unchanged until saved');
    // The run keeps logging collapsed steps: the squiggle stays gone (it was re-set at every step before).
    await squiggles.first().waitFor({ state: 'detached', timeout: 30_000 });
    // The run's last logged step, read from its folder.
    const runsDir = path.join(e2e.ws.dir, 'runs');
    const stepNow = async () => {
      const dir = fs
        .readdirSync(runsDir)
        .filter((d) => d.endsWith('-collapse'))
        .sort()
        .pop();
      return dir ? readRun(path.join(runsDir, dir)).step : 0;
    };
    const from = await stepNow();
    await waitFor('more steps logged', stepNow, (s) => s >= from + 20, 60_000);
    assert.equal(await squiggles.count(), 0, 'no squiggle on the fixed config while the run keeps collapsing');
    await e2e.wb.shot('3-fixed-no-squiggle');
  });

  await t.test('"Stop Run" (offered with the fix, as on the alert) stops the collapsed run', async () => {
    const confirm = page.locator('.notifications-toasts .notification-toast', { hasText: 'The collapsed run keeps training until stopped' }).first();
    await clickToastButton(confirm, 'Stop Run');
    await dash.locator('[data-role="run-status"]', { hasText: 'stopped' }).waitFor({ timeout: 60_000 });
    await e2e.wb.shot('4-stopped');
  });
});
