/**
 * End-to-end, in a real VS Code (code-server + headless Chromium): the tower presets of issue 21 train and
 * evaluate from the extension as they do from the CLI (test/integration/cli.mgdspr.test.ts). For each preset a
 * config is written into the workspace — a copy of the bundled example's shop.rlens.json with `model.preset`
 * set (and `model.queryHeads: 2` for "dpsr"), tiny towers, 60 steps — then trained with its ▷ Train lens,
 * waited on until its run is completed, evaluated with its "Evaluate last run" lens (real Faiss), and the
 * Failing Queries view must list that run's failures; the run's checkpoint model.json records the preset.
 *
 *   node --import tsx --test test/e2e/towerPresets.test.ts   (after bash scripts/setup-code-server.sh)
 *
 * RLENS_E2E_PRESETS=mgdspr (a comma-separated subset of the presets below) runs only those presets, e.g. on a
 * build that has not got all of them yet; by default every preset runs, and an unknown name is an error.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { applyEdits, modify } from 'jsonc-parser';
import { readMeta } from '../../src/core/runs/meta';
import type { EvalMetricsFile } from '../../src/core/eval/types';
import { groupDescription, groupFailures } from '../../src/extension/failures/failureGroups';
import { parseFailures } from '../../src/extension/failures/failureRecords';
import { retrievalLensErrors, REPO } from './support/codeServer';
import { activityItem, codeLens, quickOpen, treeRow, waitFor } from './support/workbench';
import { useE2EWorkbench } from './support/e2eSession';

/** The presets of issue 21 and what each needs besides `model.preset`. */
const PRESETS: Record<string, Record<string, unknown>> = {
  mgdspr: {},
  dpsr: { queryHeads: 2 },
};

/** The presets this run tests: all, or the subset named by RLENS_E2E_PRESETS. */
function selectedPresets(): string[] {
  const given = process.env.RLENS_E2E_PRESETS?.trim();
  if (!given) return Object.keys(PRESETS);
  const names = given.split(',').map((s) => s.trim());
  const unknown = names.filter((n) => !(n in PRESETS));
  if (unknown.length > 0) throw new Error(`RLENS_E2E_PRESETS: unknown preset ${unknown.join(', ')} (known: ${Object.keys(PRESETS).join(', ')})`);
  return names;
}

/** The bundled example's config (comments kept) with `preset`, tiny towers, few steps and a small index. */
function presetConfig(preset: string): string {
  let text = fs.readFileSync(path.join(REPO, 'examples/shop/shop.rlens.json'), 'utf8');
  const set = (p: (string | number)[], value: unknown) => {
    text = applyEdits(text, modify(text, p, value, { formattingOptions: { insertSpaces: true, tabSize: 2 } }));
  };
  set(['$schema'], undefined);
  set(['name'], `e2e-${preset}`);
  set(['model'], { vocabBuckets: 4096, embeddingDim: 16, hiddenDim: 32, outputDim: 16, preset, ...PRESETS[preset] });
  set(['training'], { batchSize: 64, learningRate: 0.01, steps: 60, logEvery: 10, checkpointEvery: 30 });
  set(['evaluation'], { every: 0, lexicalBaseline: false, index: { type: 'IVF-PQ', nlist: 32, m: 8, nbits: 6, nprobe: 8 } });
  set(['backend'], 'wasm');
  return text;
}

const presets = selectedPresets();
const e2e = useE2EWorkbench({
  workspace: { prefix: 'rlens-e2e-presets-' },
  setup: (ws) => {
    for (const preset of presets) fs.writeFileSync(path.join(ws.dir, `${preset}.rlens.json`), presetConfig(preset));
  },
  prefix: 'presets',
  expectFile: `${presets[0]}.rlens.json`,
});

/** The run folder of `config`, once its meta.json says it is no longer running ('' until then). */
function finishedRunOf(config: string): string {
  const names = fs.existsSync(e2e.ws.runs) ? fs.readdirSync(e2e.ws.runs).filter((n) => !n.startsWith('.')) : [];
  for (const name of names) {
    const m = readMeta(path.join(e2e.ws.runs, name));
    if (m.ok && m.meta.configPath === config && m.meta.status !== 'running') return path.join(e2e.ws.runs, name);
  }
  return '';
}

test('the tower presets train with ▷ Train and evaluate with "Evaluate last run" in a real VS Code', async (t) => {
  const { page } = e2e.wb;
  await activityItem(page).waitFor({ timeout: 60_000 });
  await activityItem(page).click();
  await page.locator('.pane-header[aria-label^="Failing Queries"]').first().waitFor({ timeout: 60_000 });

  for (const preset of presets) {
    const file = `${preset}.rlens.json`;
    const config = path.join(e2e.ws.dir, file);
    await t.test(`${preset}: ▷ Train, the run completes and its checkpoint records the preset`, async () => {
      await quickOpen(page, file);
      await page.locator('.editor-instance .monaco-editor .view-lines', { hasText: `"preset": "${preset}"` }).waitFor({ timeout: 20_000 });
      const train = codeLens(page, 'Train').first();
      await train.waitFor({ timeout: 30_000 });
      await train.locator('a', { hasText: 'Train' }).first().click();
      // A config the build refuses ("fix it before training") or any other error toast ends the wait, with its text.
      const errorToast = page.locator('.notifications-toasts .notification-toast:has(.codicon-error)').first();
      const waited = await waitFor(
        'a finished run of ' + file,
        async () => ({ runDir: finishedRunOf(config), error: (await errorToast.count()) > 0 ? await errorToast.innerText() : '' }),
        (v) => v.runDir !== '' || v.error !== '',
        600_000,
        1000,
      );
      assert.equal(waited.error, '', `an error instead of a run of ${file}`);
      const runDir = waited.runDir;
      const m = readMeta(runDir);
      assert.ok(m.ok && m.meta.status === 'completed', JSON.stringify(m));
      const model = JSON.parse(fs.readFileSync(path.join(runDir, 'checkpoints', 'last', 'model.json'), 'utf8')) as {
        checkpoint: { model: Record<string, unknown> };
      };
      assert.equal(model.checkpoint.model.preset, preset);
      await treeRow(page, 'Runs', `e2e-${preset}`).filter({ hasText: 'completed' }).first().waitFor({ timeout: 30_000 });
      await e2e.wb.shot(`${preset}-1-trained`);
    });

    await t.test(`${preset}: Evaluate last run (real Faiss) fills the Failing Queries view with this run's failures`, async () => {
      const runDir = finishedRunOf(config);
      assert.ok(runDir, `a run of ${file}`);
      const evaluate = codeLens(page, 'Evaluate last run').first();
      await evaluate.waitFor({ timeout: 30_000 });
      await evaluate.locator('a', { hasText: 'Evaluate last run' }).first().click();
      // The view's message names the run it lists ("<run folder> · step 60 · exact · recall@10 … · n failing of m").
      const message = page.locator('.pane:has(.pane-header[aria-label^="Failing Queries"]) .message', { hasText: path.basename(runDir) });
      await message.first().waitFor({ timeout: 300_000 });
      const metrics = JSON.parse(fs.readFileSync(path.join(runDir, 'eval/metrics.json'), 'utf8')) as EvalMetricsFile;
      const entry = metrics.evaluations.at(-1)!;
      assert.equal(entry.checkpoint, 'checkpoints/last');
      const records = parseFailures(fs.readFileSync(path.join(runDir, 'eval/failures.jsonl'), 'utf8')).records;
      assert.equal(records.length, entry.failures.count);
      assert.ok(records.length > 0, 'a 60-step model of 6,120 items fails some of the test queries');
      // The largest group's row reads as the product formats this run's file, and its first query is listed.
      const groups = groupFailures(records);
      const description = groupDescription(groups[0].items.length, records.length);
      const groupRow = treeRow(page, 'Failing Queries', groups[0].title).filter({ hasText: description }).first();
      await groupRow.waitFor({ timeout: 30_000 });
      assert.equal(((await groupRow.textContent()) ?? '').replace(/\s+/g, ''), `${groups[0].title}${description}`.replace(/\s+/g, ''));
      await treeRow(page, 'Failing Queries', groups[0].items[0].query).first().waitFor({ timeout: 10_000 });
      const text = (await message.first().textContent()) ?? '';
      e2e.wb.log(`${preset}: ${text.trim()}`);
      assert.match(text, new RegExp(`${records.length} failing`));
      await e2e.wb.shot(`${preset}-2-failing-queries`);
    });
  }

  await t.test('the extension host logged no errors of Retrieval Lens', async () => {
    const { logs, errors } = retrievalLensErrors(e2e.server, e2e.logsBefore);
    assert.ok(logs > 0, 'extension host logs found');
    assert.deepEqual(errors, []);
  });
});
