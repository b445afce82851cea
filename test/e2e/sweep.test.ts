/**
 * End-to-end, in a real VS Code (code-server): a sweep started from the "Sweep…" CodeLens above
 * `loss.alpha` — the quick pick, the editable values, the seeds and steps (the config's as defaults), a
 * confirmation naming run count × steps whose Cancel starts nothing — runs its trainer processes from the extension
 * host, and its points appear in sweep.json (each the recall@10 of its run folder's evaluation) and in
 * the sweep result (the sweep view when `retrievalLens.showSweep` exists, else the "Retrieval Lens
 * Sweeps" output). Every wait is on a state.
 *
 *   node --import tsx --test test/e2e/sweep.test.ts
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import type { EvalMetricsFile } from '../../src/core/eval/types';
import type { SweepFile } from '../../src/core/experiments/sweepFile';
import { activityItem, codeLens, focusWorkbench, quickOpen, waitFor } from './support/workbench';
import { useE2EWorkbench } from './support/e2eSession';

/** A config with `alpha` written (the lens goes above it), few steps, a Flat index and no BM25: each run takes seconds. */
const CONFIG = `{
  "name": "e2e-sweep",
  "data": { "train": "data/train.jsonl", "test": "data/test.jsonl", "corpus": "data/corpus.jsonl" },
  "model": { "vocabBuckets": 4096, "embeddingDim": 16, "hiddenDim": 32, "outputDim": 16 },
  "loss": {
    "type": "softmax",
    "adaptive": true,
    "alpha": 0.5
  },
  "training": { "batchSize": 32, "learningRate": 0.01, "steps": 12, "logEvery": 4, "checkpointEvery": 1000 },
  "evaluation": { "index": { "type": "Flat" }, "lexicalBaseline": false },
  "backend": "wasm"
}
`;

const e2e = useE2EWorkbench({
  workspace: { prefix: 'rlens-e2e-sweep-' },
  setup: (ws) => fs.writeFileSync(ws.config, CONFIG),
  prefix: 'sweep',
  expectFile: 'shop.rlens.json',
});

/** The only sweep folder's sweep.json, or null before it exists. */
function sweepFile(): SweepFile | null {
  const root = path.join(e2e.ws.dir, 'sweeps');
  if (!fs.existsSync(root)) return null;
  const dirs = fs.readdirSync(root);
  assert.ok(dirs.length <= 1, `one sweep folder: ${dirs.join(', ')}`);
  const file = dirs.length === 1 ? path.join(root, dirs[0], 'sweep.json') : null;
  return file && fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as SweepFile) : null;
}

test('a sweep started from the "Sweep…" CodeLens: its points appear', async (t) => {
  const { page } = e2e.wb;
  const widget = page.locator('.quick-input-widget');
  const input = widget.locator('.quick-input-box input');

  const dialog = page.locator('.monaco-dialog-box');
  /** From the lens through values, seeds and steps to the confirmation (which names run count × steps). */
  const throughThePrompts = async () => {
    const lens = codeLens(page, 'Sweep…').first();
    await lens.waitFor({ timeout: 60_000 });
    await lens.locator('a', { hasText: 'Sweep…' }).first().click();
    await widget.locator('.monaco-list-row', { hasText: 'Edit the values' }).first().waitFor({ timeout: 20_000 });
    assert.ok(await widget.locator('.monaco-list-row', { hasText: 'Default values: 0.1, 0.3, 0.5, 0.7, 0.9' }).count(), 'the defaults of α are offered');
    await input.fill('Edit the values');
    await widget.locator('.monaco-list-row', { hasText: 'Edit the values' }).first().waitFor();
    await input.press('Enter');
    await waitFor(
      'the values input box',
      () => input.inputValue(),
      (v) => v === '0.1, 0.3, 0.5, 0.7, 0.9',
      20_000,
    );
    await input.fill('0.3, 0.7');
    await input.press('Enter');
    // Seeds per value, then steps of every run: the config's values shown as the defaults.
    await waitFor(
      'the seeds input box with the config’s sweep.seeds',
      () => input.inputValue(),
      (v) => v === '1',
      20_000,
    );
    await widget.locator('.quick-input-message', { hasText: "the config's sweep.seeds: 1" }).first().waitFor({ timeout: 5000 });
    await input.press('Enter');
    await waitFor(
      'the steps input box with the config’s training.steps',
      () => input.inputValue(),
      (v) => v === '12',
      20_000,
    );
    await input.fill('8');
    await input.press('Enter');
    await dialog.waitFor({ timeout: 20_000 });
    assert.match(await dialog.innerText(), /2 runs × 8 steps = 16 training steps \(2 values × 1 seed\)/);
  };

  await t.test('the confirmation names run count × steps; Cancel starts nothing', async () => {
    await activityItem(page).waitFor({ timeout: 60_000 });
    await quickOpen(page, 'shop.rlens.json');
    await throughThePrompts();
    await e2e.wb.shot('confirm');
    await dialog.locator('.monaco-button', { hasText: 'Cancel' }).click();
    await dialog.waitFor({ state: 'detached', timeout: 10_000 });
    assert.equal(sweepFile(), null, 'no sweep folder after Cancel');
  });

  await t.test('the lens above alpha opens the quick pick; edited values, seeds and steps start the sweep', async () => {
    await throughThePrompts();
    await dialog.locator('.monaco-button', { hasText: 'Start Sweep' }).click({ timeout: 20_000 });
    await widget.waitFor({ state: 'hidden', timeout: 20_000 });
    const started = await waitFor(
      'sweep.json',
      async () => sweepFile(),
      (f) => f !== null,
      60_000,
    );
    assert.equal(started!.param, 'loss.alpha');
    assert.deepEqual(started!.values, [0.3, 0.7]);
    assert.equal(started!.steps, 8, 'the steps asked for');
    assert.equal(started!.seeds.length, 1);
    await e2e.wb.shot('started');
  });

  await t.test('the points appear in sweep.json, each the recall@10 of its run folder', async () => {
    const done = await waitFor(
      'both points of the sweep',
      async () => sweepFile(),
      (f) => f !== null && f.summary.points.every((p) => p.n === 1) && f.state === 'finished',
      400_000,
      1000,
    );
    for (const [i, p] of done!.summary.points.entries()) {
      const run = done!.runs[i];
      const runDir = path.resolve(path.join(e2e.ws.dir, 'sweeps', fs.readdirSync(path.join(e2e.ws.dir, 'sweeps'))[0]), run.runDir!);
      assert.equal(path.dirname(runDir), e2e.ws.runs, "the sweep's runs are under the config's runsDir (the Runs tree lists them)");
      const evals = (JSON.parse(fs.readFileSync(path.join(runDir, 'eval', 'metrics.json'), 'utf8')) as EvalMetricsFile).evaluations;
      assert.equal(p.mean, evals[evals.length - 1].exact?.['recall@10'], `point ${p.value}`);
      assert.equal(JSON.parse(fs.readFileSync(path.join(runDir, 'config.json'), 'utf8')).loss.alpha, p.value);
    }
  });

  await t.test('the result is shown: the sweep view, or the summary in the "Retrieval Lens Sweeps" output', async () => {
    await focusWorkbench(page);
    const shown = await waitFor(
      'the sweep result',
      async () =>
        (await page.locator('.tab', { hasText: /sweep/i }).count()) +
        (await page.locator('.output-view, .panel', { hasText: 'recall@10 (%) against loss.alpha' }).count()),
      (n) => n > 0,
      60_000,
    );
    assert.ok(shown > 0);
    await e2e.wb.shot('result');
  });
});
