/**
 * End-to-end, in a real VS Code: the status bar after "Developer: Reload Window" during a training shows the
 * run's live step (it stayed at "<name> 0" once), and ▷ Train on a config that is already training — here by
 * the CLI, a process this window did not start — asks first (start another, show the running one, cancel)
 * instead of starting a second training. Waits on states only.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { killProcessGroup } from './support/e2eWorkspace';
import { activityItem, codeLens, quickOpen, runCommand, waitFor } from './support/workbench';
import { useE2EWorkbench } from './support/e2eSession';
import { readRun } from '../../src/core/runs/readRun';

const REPO = path.resolve(__dirname, '../..');
let cli: ChildProcess | undefined;

const e2e = useE2EWorkbench({
  workspace: { prefix: 'rlens-e2e-again-' },
  prefix: 'again',
  expectFile: 'shop.rlens.json',
  cleanup: () => killProcessGroup(cli),
});

/** Run folders of the workspace's runs folder. */
const runFolders = () => (fs.existsSync(e2e.ws.runs) ? fs.readdirSync(e2e.ws.runs).filter((d) => !d.startsWith('.')) : []);

test('after Reload Window during training the status bar follows the run’s live step; ▷ Train of a config training elsewhere asks first', async (t) => {
  const { page } = e2e.wb;
  /** The step the status bar shows for the e2e run ("e2e-shop N/200000 · …"), -1 when it shows none. */
  const statusStep = async () => {
    // (-1 while the window reloads: its page navigates)
    const items = await page
      .locator('.statusbar-item', { hasText: /e2e-shop \d+\/200000/ })
      .allTextContents()
      .catch(() => [] as string[]);
    const m = items.map((s) => /e2e-shop (\d+)\/200000/.exec(s)).find((x) => x);
    return m ? Number(m[1]) : -1;
  };

  await t.test('the status bar after "Developer: Reload Window" shows the live step, not 0', async () => {
    await activityItem(page).waitFor({ timeout: 60_000 });
    await quickOpen(page, 'shop.rlens.json');
    await page.locator('.editor-instance .monaco-editor .view-lines', { hasText: '"loss"' }).waitFor({ timeout: 20_000 });
    await runCommand(page, 'Retrieval Lens: Start Training');
    const before = await waitFor('a logged step in the status bar', statusStep, (s) => s > 0, 90_000);
    const runDir = path.join(e2e.ws.runs, runFolders()[0]);
    await runCommand(page, 'Developer: Reload Window');
    // the reloaded window: the status bar shows the run again, at a step past the one before the reload …
    const after = await waitFor('the status bar after the reload', statusStep, (s) => s > before, 120_000);
    // … which is the run's logged step at that time (not 0, not frozen): it keeps rising with the run
    const logged = readRun(runDir).step;
    e2e.wb.log(`status bar step ${before} before the reload, ${after} after it; the run had logged ${logged}`);
    assert.ok(after <= logged, `the status bar shows a logged step (${after} ≤ ${logged})`);
    await waitFor('the status bar to keep following', statusStep, (s) => s > after, 60_000);
    await e2e.wb.shot('1-status-after-reload');
    await runCommand(page, 'Retrieval Lens: Stop Training');
    await waitFor(
      'the run stopped',
      async () => readRun(runDir).status,
      (s) => s === 'stopped',
      60_000,
    );
  });

  await t.test('▷ Train while the CLI trains the same config: a modal question; Cancel starts nothing', async () => {
    cli = spawn(process.execPath, [path.join(REPO, 'bin/retrieval-lens.js'), 'train', e2e.ws.config], { cwd: e2e.ws.dir, detached: true, stdio: 'ignore' });
    const runsBefore = runFolders().length;
    const cliRun = await waitFor(
      'the CLI run logging steps',
      async () =>
        runFolders()
          .map((d) => readRun(path.join(e2e.ws.runs, d)))
          .find((r) => r.status === 'running' && r.step > 0),
      (r) => r !== undefined,
      90_000,
    );
    await quickOpen(page, 'shop.rlens.json');
    const train = codeLens(page, 'Train').first();
    await train.waitFor({ timeout: 30_000 });
    await train.locator('a', { hasText: 'Train' }).first().click();
    const dialog = page.locator('.monaco-dialog-box');
    await dialog.waitFor({ timeout: 30_000 });
    const text = await dialog.innerText();
    assert.match(
      text,
      /shop\.rlens\.json is already training: e2e-shop \(step [\d,]+ of 200,000, not started from this window\)\. Start another training of it\?/,
    );
    const buttons = (await dialog.locator('.monaco-button').allInnerTexts()).map((b) => b.trim()).filter(Boolean);
    assert.deepEqual(buttons.slice().sort(), ['Cancel', 'Show the Running One', 'Start Another'].sort());
    await e2e.wb.shot('2-train-asks');
    await dialog.locator('.monaco-button', { hasText: 'Cancel' }).click();
    await dialog.waitFor({ state: 'detached', timeout: 10_000 });
    // nothing started: still the CLI's run and the stopped one only, and the CLI's run goes on
    const from = cliRun!.step;
    await waitFor(
      'the CLI run going on',
      async () => readRun(cliRun!.dir).step,
      (s) => s > from + 10,
      60_000,
    );
    assert.equal(runFolders().length, runsBefore + 1, `no second training: ${runFolders().join(', ')}`);
    process.kill(-cli.pid!, 'SIGINT');
    await waitFor(
      'the CLI run stopped',
      async () => readRun(cliRun!.dir).status,
      (s) => s === 'stopped',
      60_000,
    );
  });
});
