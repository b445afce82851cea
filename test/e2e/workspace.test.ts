/**
 * End-to-end, in a real VS Code with workspace trust on: a workspace without an experiment shows the
 * welcome, "New Experiment from Example" creates one; in restricted mode training is disabled with an
 * explanation until the folder is trusted; config errors and bad data lines appear in Problems at
 * their exact places; a run started elsewhere (the CLI) is followed live from its events.jsonl and
 * stopped from the dashboard; the dashboard opens in an editor; a collapsing run offers the
 * "Enable stop-gradient and symmetric loss" fix, which edits the config as one undoable edit.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { ConfigError } from '../../src/core/config/configError';
import { parseConfigText } from '../../src/core/config/loadConfig';
import { readRun } from '../../src/core/runs';
import { REPO } from './support/codeServer';
import { killProcessGroup } from './support/e2eWorkspace';
import {
  activityItem,
  clickToastButton,
  pressKey,
  codeLens,
  dashboardFrame,
  EXTENSION_ID,
  quickOpen,
  runCommand,
  treeRow,
  waitFor,
  type Workbench,
  stepOf,
  waitForLens,
} from './support/workbench';
import { useE2EWorkbench } from './support/e2eSession';

let cli: ChildProcess | undefined;

// Workspace trust prompts on (another user setting): this file starts a code-server of its own.
const e2e = useE2EWorkbench({
  workspace: { withConfig: false, prefix: 'rlens-e2e-empty-' },
  server: { trust: false, settings: { 'security.workspace.trust.enabled': true } },
  prefix: 'workspace',
  expectFile: 'NOTES.md',
  cleanup: () => killProcessGroup(cli),
});

const toast = (page: Workbench['page'], text: string | RegExp) => page.locator('.notifications-toasts .notification-toast', { hasText: text });

/** Replace the text of a file on disk (as another tool would) and wait until VS Code's editor shows it. */
async function writeExternally(page: Workbench['page'], file: string, text: string, visible: string): Promise<void> {
  fs.writeFileSync(file, text);
  await page.locator('.editor-instance .view-lines', { hasText: visible }).first().waitFor({ timeout: 20_000 });
}

test('a new workspace: example, trust, diagnostics, a run from the CLI, the editor dashboard and the collapse fix', async (t) => {
  const { page } = e2e.wb;
  const shop = path.join(e2e.ws.dir, 'shop');
  const config = path.join(shop, 'shop.rlens.json');

  await t.test('restricted mode: the welcome offers the example, and training is disabled with an explanation', async () => {
    await page.locator('.monaco-dialog-box .monaco-button', { hasText: "No, I don't trust the authors" }).click({ timeout: 30_000 });
    await activityItem(page).waitFor({ timeout: 60_000 });
    await activityItem(page).click();
    const runsPane = page.locator('.pane:has(.pane-header[aria-label^="Runs"])');
    await runsPane.getByText('This workspace has no Retrieval Lens experiment').waitFor({ timeout: 30_000 });
    await e2e.wb.shot('1-welcome');
    await runsPane.locator('.monaco-button', { hasText: 'New Experiment from Example' }).click();
    await page.locator('.tabs-container .tab.active', { hasText: 'shop.rlens.json' }).waitFor({ timeout: 30_000 });
    assert.ok(fs.existsSync(path.join(shop, 'data/train.jsonl')) && fs.existsSync(config));
    assert.doesNotThrow(() => parseConfigText(fs.readFileSync(config, 'utf8'), config), 'the copied example validates');
    await codeLens(page, 'Training disabled: workspace not trusted').first().waitFor({ timeout: 30_000 });
    await waitForLens(page, '25,110 examples · 0 bad lines', 30_000);
    await runCommand(page, 'Retrieval Lens: Start Training');
    // The command answered (its toast) without starting anything.
    await toast(page, /Training is disabled: .*untrusted workspace/)
      .first()
      .waitFor({ timeout: 15_000 });
    assert.ok(!fs.existsSync(path.join(shop, 'runs')), 'no run was started');
    await runsPane.getByText('Training is disabled in an untrusted workspace').waitFor({ timeout: 10_000 });
    await e2e.wb.shot('2-restricted');
  });

  await t.test('trusting the folder enables training at once (Train lens)', async () => {
    await runCommand(page, 'Workspaces: Manage Workspace Trust');
    await page
      .locator('.workspace-trust-editor .monaco-button', { hasText: /^Trust$/ })
      .first()
      .click({ timeout: 20_000 });
    await page.locator('.statusbar-item', { hasText: 'Restricted Mode' }).waitFor({ state: 'detached', timeout: 20_000 });
    await pressKey(page, 'Control+W'); // the Workspace Trust editor
    await quickOpen(page, 'shop.rlens.json');
    await page.locator('.tabs-container .tab.active', { hasText: 'shop.rlens.json' }).waitFor({ timeout: 10_000 });
    await codeLens(page, 'Train').first().waitFor({ timeout: 30_000 });
  });

  await t.test('config errors from the core validator appear in Problems at their exact line and column', async () => {
    const original = fs.readFileSync(config, 'utf8');
    const broken = original.replace('"batchSize": 256', '"batchSize": "big"').replace('"type": "softmax"', '"type": "softmaxx"');
    let problems: ConfigError['problems'] = [];
    try {
      parseConfigText(broken, config);
    } catch (e) {
      problems = (e as ConfigError).problems;
    }
    assert.equal(problems.length, 2);
    await writeExternally(page, config, broken, '"big"');
    await pressKey(page, 'Control+Shift+M');
    const rows = page.locator('.markers-panel .monaco-list-row');
    for (const p of problems) {
      const row = rows.filter({ hasText: p.message }).first();
      await row.waitFor({ timeout: 20_000 });
      const text = (await row.textContent()) ?? '';
      assert.ok(text.includes(`[Ln ${p.line}, Col ${p.column}]`), `"${text}" at ${p.line}:${p.column}`);
    }
    await e2e.wb.shot('3-config-problems');
    await writeExternally(page, config, original, '256');
    await rows.filter({ hasText: problems[0].message }).first().waitFor({ state: 'detached', timeout: 20_000 });
  });

  await t.test('bad lines of a data file appear as its diagnostics and in the data lens', async () => {
    const train = path.join(shop, 'data/train.jsonl');
    const lines = fs
      .readFileSync(train, 'utf8')
      .split('\n')
      .filter((l) => l !== '').length;
    fs.appendFileSync(train, '{"query": "no positive here"}\n{not json\n');
    await waitForLens(page, /25,110 examples · \s*2 bad lines/, 40_000);
    const rows = page.locator('.markers-panel .monaco-list-row', { hasText: 'Skipped by Retrieval Lens' });
    await rows.first().waitFor({ timeout: 20_000 });
    const texts = await rows.allTextContents();
    assert.ok(texts.some((x) => x.includes(`[Ln ${lines + 1}, Col 1]`)) && texts.some((x) => x.includes(`[Ln ${lines + 2}, Col 1]`)), texts.join('\n'));
    assert.ok(texts.every((x) => x.includes('2 bad lines in this load')));
    await e2e.wb.shot('4-bad-lines');
    await pressKey(page, 'Control+Shift+M'); // close the panel again
  });

  await t.test('a run started from the command line is followed live and can be stopped from the dashboard', async () => {
    const small = [
      'model.vocabBuckets=4096',
      'model.embeddingDim=16',
      'model.hiddenDim=32',
      'model.outputDim=16',
      'training.batchSize=32',
      'training.logEvery=5',
      'training.checkpointEvery=100000',
      'backend=wasm',
    ];
    cli = spawn(process.execPath, [path.join(REPO, 'bin/retrieval-lens.js'), 'train', config, '--steps', '200000', ...small.flatMap((s) => ['--set', s])], {
      cwd: e2e.ws.dir,
      detached: true,
      stdio: 'ignore',
    });
    const cliExit = new Promise<number | null>((resolve) => cli!.once('exit', (code) => resolve(code)));
    const dash = dashboardFrame(page);
    await dash.locator('[data-role="run-status"]', { hasText: 'running' }).waitFor({ timeout: 90_000 });
    const first = await waitFor(
      'CLI steps in the dashboard',
      async () => stepOf(await dash.locator('[data-role="run-step"]').textContent()),
      (s) => s > 0,
      60_000,
    );
    await waitFor(
      'the step counter to rise',
      async () => stepOf(await dash.locator('[data-role="run-step"]').textContent()),
      (s) => s > first + 20,
      30_000,
    );
    await treeRow(page, 'Runs', /running/)
      .first()
      .waitFor({ timeout: 20_000 });
    await page
      .locator('.statusbar-item', { hasText: /shop-adaptive-softmax \d+\/200000/ })
      .first()
      .waitFor({ timeout: 20_000 });
    await e2e.wb.shot('5-cli-run');
    await dash.locator('[data-role="stop"]').click();
    const explain = toast(page, /was started outside this window/).first();
    await explain.waitFor({ timeout: 15_000 });
    await clickToastButton(explain, 'Send Stop Signal');
    await dash.locator('[data-role="run-status"]', { hasText: 'stopped' }).waitFor({ timeout: 60_000 });
    assert.equal(await cliExit, 0, 'the CLI ended normally (stopped)');
    const runs = fs.readdirSync(path.join(shop, 'runs'));
    assert.equal(readRun(path.join(shop, 'runs', runs[0])).status, 'stopped');
  });

  await t.test('Open Dashboard in Editor shows the same app full size', async () => {
    await runCommand(page, 'Retrieval Lens: Open Dashboard in Editor');
    await page.locator('.tabs-container .tab', { hasText: 'Dashboard: shop-adaptive-softmax' }).waitFor({ timeout: 20_000 });
    const frames = page.frameLocator(`iframe.webview[src*="extensionId=${EXTENSION_ID}"]`);
    await waitFor(
      'two dashboards showing the run',
      async () => {
        let n = 0;
        for (let i = 0; i < 2; i++) {
          const name = await frames
            .nth(i)
            .frameLocator('iframe#active-frame')
            .locator('[data-role="run-name"]')
            .textContent({ timeout: 2000 })
            .catch(() => null);
          if (name === 'shop-adaptive-softmax') n++;
        }
        return n;
      },
      (n) => n === 2,
      30_000,
    );
    await e2e.wb.shot('6-editor-dashboard');
    await pressKey(page, 'Control+W');
  });

  await t.test('a collapsing run offers "Apply Fix" (enable stop-gradient and symmetric loss): one undoable edit of the config', async () => {
    const collapse = path.join(shop, 'collapse.rlens.json');
    fs.writeFileSync(
      collapse,
      `{
  // The paper's collapse: adaptive margin without stop-gradient and without the symmetric term.
  "name": "collapse",
  "data": { "train": "data/train.jsonl" },
  "model": { "vocabBuckets": 4096, "embeddingDim": 32, "hiddenDim": 64, "outputDim": 32 },
  "loss": {
    "type": "margin",
    "adaptive": true,
    "stopGradient": false,
    "symmetric": false
  },
  "training": { "batchSize": 64, "learningRate": 0.002, "steps": 100000, "logEvery": 5 },
  "backend": "wasm"
}
`,
    );
    await quickOpen(page, 'collapse.rlens.json');
    await page.locator('.tabs-container .tab.active', { hasText: 'collapse.rlens.json' }).waitFor({ timeout: 20_000 });
    await runCommand(page, 'Retrieval Lens: Start Training');
    const alert = toast(page, /training has collapsed at step \d+/).first();
    await alert.waitFor({ timeout: 90_000 });
    await e2e.wb.shot('7-collapse-alert');
    // The alert's buttons: the fix for that run's config, Stop Run, Show Dashboard.
    const editor = page.locator('.editor-instance .view-lines');
    await clickToastButton(alert, 'Apply Fix');
    await editor.filter({ hasText: '"stopGradient": true' }).first().waitFor({ timeout: 10_000 });
    await editor.filter({ hasText: '"symmetric": true' }).first().waitFor({ timeout: 5000 });
    await page.locator('.tabs-container .tab.active.dirty', { hasText: 'collapse.rlens.json' }).waitFor({ timeout: 5000 });
    assert.ok(fs.readFileSync(collapse, 'utf8').includes('"stopGradient": false'), 'the file on disk is unchanged until saved');
    await e2e.wb.shot('8-collapse-fixed');
    await page.locator('.editor-instance .view-lines').first().click();
    await pressKey(page, 'Control+Z');
    await editor.filter({ hasText: '"stopGradient": false' }).first().waitFor({ timeout: 10_000 });
    await editor.filter({ hasText: '"symmetric": false' }).first().waitFor({ timeout: 5000 });
    await runCommand(page, 'Retrieval Lens: Stop Training');
    await dashboardFrame(page).locator('[data-role="run-status"]', { hasText: 'stopped' }).waitFor({ timeout: 60_000 });
  });
});
