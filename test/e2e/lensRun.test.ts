/**
 * End-to-end, in a real VS Code: a run written by ANOTHER process — `retrieval_lens.Lens` in a custom PyTorch
 * loop (test/fixtures/lens/collapsingLoop.py, Debian's /usr/bin/python3 with torch) logging embeddings that
 * collapse — appears in the Runs tree, is followed live in the dashboard, and raises the collapse notification.
 * The run names no config file, so the notification offers no config edit and says what to change in code (the
 * loss module's arguments), and no Stop Run (another process trains it); interrupted, the run ends "stopped".
 *
 *   node --import tsx --test test/e2e/lensRun.test.ts
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'child_process';
import * as path from 'path';
import { readEvents, readRun, type StepEvent } from '../../src/core/runs';
import { torchSkip, TORCH_PYTHON } from '../helpers/torch';
import { REPO } from './support/codeServer';
import { killProcessGroup } from './support/e2eWorkspace';
import { activityItem, dashboardFrame, treeRow, waitFor, stepOf } from './support/workbench';
import { useE2EWorkbench } from './support/e2eSession';

let loop: ChildProcess | undefined;

// The workspace's experiment config puts its runs in runs/: the loop writes its run there, as a user's would.
const e2e = useE2EWorkbench({
  workspace: { prefix: 'rlens-e2e-lens-' },
  prefix: 'lens',
  expectFile: 'shop.rlens.json',
  skip: torchSkip,
  cleanup: () => killProcessGroup(loop),
});

test('a retrieval_lens.Lens run of a custom loop: followed live, its collapse alert says what to change in code', { skip: torchSkip }, async () => {
  const { page } = e2e.wb;
  const dash = dashboardFrame(page);
  await activityItem(page).waitFor({ timeout: 60_000 });
  await activityItem(page).click();
  await dash.locator('[data-role="empty"]').waitFor({ state: 'attached', timeout: 60_000 });

  loop = spawn(TORCH_PYTHON, [path.join(REPO, 'test/fixtures/lens/collapsingLoop.py'), e2e.ws.runs], {
    cwd: e2e.ws.dir,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PYTHONPATH: path.join(REPO, 'python'), OMP_NUM_THREADS: '1' },
  });
  let output = '';
  loop.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  loop.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) => loop!.once('exit', (code, signal) => resolve(signal ?? code)));
  const runDir = (await waitFor(
    'the loop’s run folder',
    async () => /^run (.+)$/m.exec(output)?.[1] ?? null,
    (d) => d !== null,
    60_000,
  ))!;

  // The run appears in the Runs tree and the dashboard follows it while it grows.
  await treeRow(page, 'Runs', 'lens-loop').first().waitFor({ timeout: 60_000 });
  await dash.locator('[data-role="run-status"]', { hasText: 'running' }).waitFor({ timeout: 60_000 });
  const step = dash.locator('[data-role="run-step"]');
  const first = await waitFor(
    'a step of the loop in the dashboard',
    async () => stepOf(await step.textContent()),
    (s) => s > 0,
    60_000,
  );
  await waitFor(
    'a later step (followed live)',
    async () => stepOf(await step.textContent()),
    (s) => s > first,
    60_000,
  );

  // The collapse notification names the run; the run has no config file, so it says what to change in the loop.
  const alert = page.locator('.notifications-toasts .notification-toast', {
    hasText: /Retrieval Lens · run \S+-lens-loop: training has collapsed at step \d+/,
  });
  await alert.first().waitFor({ timeout: 90_000 });
  await e2e.wb.shot('1-collapse-alert');
  const text = (await alert.first().textContent()) ?? '';
  assert.match(text, /change it in your training code: pass stop_gradient=True, symmetric=True to the loss module/);
  const buttons = (await alert.first().locator('.monaco-button').allInnerTexts()).map((b) => b.trim()).filter(Boolean);
  assert.deepEqual(buttons, ['Show Dashboard'], 'no config edit (the run names no config) and no Stop Run (another process trains it)');
  // The step it names is a logged step of the run whose verdict is "collapsed".
  const named = Number(/collapsed at step (\d+)/.exec(text)![1]);
  const logged = readEvents(path.join(runDir, 'events.jsonl')).events.find((e): e is StepEvent => e.type === 'step' && e.step === named);
  assert.equal(logged?.verdict.state, 'collapsed', `step ${named} of events.jsonl: ${JSON.stringify(logged?.verdict)}`);
  assert.equal(readRun(runDir).meta?.configPath, null, 'the run names no config file');

  // Interrupted like Ctrl+C: the run ends stopped and the dashboard says so.
  process.kill(-loop.pid!, 'SIGINT');
  // Python ends an uncaught KeyboardInterrupt by SIGINT, as a shell's Ctrl+C expects; the Lens ended the run first.
  assert.equal(await exited, 'SIGINT', `the loop ended by its Ctrl+C: ${output.slice(-2000)}`);
  assert.equal(readRun(runDir).status, 'stopped');
  await dash.locator('[data-role="run-status"]', { hasText: 'stopped' }).waitFor({ timeout: 60_000 });
  await e2e.wb.shot('2-stopped');
});
