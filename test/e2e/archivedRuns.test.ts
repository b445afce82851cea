/**
 * End-to-end, in a real VS Code: a run archived from the terminal (`retrieval-lens runs archive`) leaves the Runs
 * view; "Show Archived Runs" lists it under "Archived runs"; "Restore Run…" from the palette (a quick pick of the
 * archived runs) moves it back, and the view lists it with the others again. Waits on states only.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { RunWriter } from '../../src/core/runs/runWriter';
import { ARCHIVE_DIR } from '../../src/core/runs/runArchive';
import { activityItem, commandOpening, runCommand, treeRow, waitFor } from './support/workbench';
import { useE2EWorkbench } from './support/e2eSession';

const REPO = path.resolve(__dirname, '../..');
let oldRun = '';

const e2e = useE2EWorkbench({
  workspace: { prefix: 'rlens-e2e-archive-' },
  setup: async (ws) => {
    for (const [name, time] of [
      ['kept', '2026-12-06T10:00:00Z'],
      ['old', '2026-12-06T09:00:00Z'],
    ]) {
      const w = await RunWriter.create(ws.runs, name, { name }, { configPath: ws.config }, { now: () => new Date(time) });
      w.finish('completed');
      if (name === 'old') oldRun = w.dir;
    }
    const cli = spawnSync(process.execPath, [path.join(REPO, 'bin/retrieval-lens.js'), 'runs', 'archive', path.basename(oldRun), '--dir', ws.runs], {
      encoding: 'utf8',
    });
    assert.equal(cli.status, 0, cli.stderr);
  },
  prefix: 'archive',
  expectFile: 'shop.rlens.json',
});

test('Show Archived Runs lists a run archived by the CLI; Restore Run… brings it back into the Runs view', async () => {
  const { page } = e2e.wb;
  const archived = path.join(e2e.ws.runs, ARCHIVE_DIR, path.basename(oldRun));
  assert.ok(fs.existsSync(archived) && !fs.existsSync(oldRun), 'archived by the CLI');
  await activityItem(page).waitFor({ timeout: 60_000 });
  await activityItem(page).click();
  await treeRow(page, 'Runs', /completed/)
    .first()
    .waitFor({ timeout: 60_000 });
  const archiveNode = treeRow(page, 'Runs', 'Archived runs');
  const archivedRow = treeRow(page, 'Runs', /archived · completed/);
  assert.equal(await treeRow(page, 'Runs', /completed/).count(), 1, 'only the run that was kept');
  assert.equal(await archiveNode.count(), 0);

  await runCommand(page, 'Retrieval Lens: Show Archived Runs');
  await archiveNode.filter({ hasText: '1 run' }).first().waitFor({ timeout: 30_000 });
  await archivedRow.first().waitFor({ timeout: 10_000 });
  await e2e.wb.shot('1-archived-shown');

  // the command opens its own quick pick at once (runCommand would wait for the palette to close)
  const widget = page.locator('.quick-input-widget');
  await commandOpening(page, 'Retrieval Lens: Restore Run…', widget.locator('.quick-input-box input[placeholder="Restore which archived run?"]'));
  await widget.locator('.monaco-list-row', { hasText: 'old' }).first().waitFor({ timeout: 20_000 });
  await widget.locator('.quick-input-box input').press('Enter');
  await waitFor(
    'the run folder moved back',
    async () => fs.existsSync(oldRun) && !fs.existsSync(archived),
    (ok) => ok,
    20_000,
  );
  await archiveNode.filter({ hasText: '0 runs' }).first().waitFor({ timeout: 30_000 });
  await waitFor(
    'both runs listed again',
    () => treeRow(page, 'Runs', /^(?!.*archived ·).*completed/).count(),
    (n) => n === 2,
    30_000,
  );
  await e2e.wb.shot('2-restored');

  await runCommand(page, 'Retrieval Lens: Hide Archived Runs');
  await archiveNode.first().waitFor({ state: 'detached', timeout: 20_000 });
});
