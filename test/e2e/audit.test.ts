/**
 * End-to-end, in a real VS Code: the data audit (issue 25) of a workspace holding the planted audit fixture
 * (test/fixtures/audit/planted: one of each problem on known lines). A click on the data lens "Audit training
 * data" above data.train audits it; the lens then counts the findings, the Data Audit view lists each finding with
 * its lines, and a click on a line opens train.jsonl at that line. The palette command audits it again, with a pair appended since.
 * The audit runs in a trainer process: Cancel on its progress notification (which counts the lines read) ends that
 * process, the lens offers the audit again and nothing is kept.
 *
 *   node --import tsx --test test/e2e/audit.test.ts
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { REPO } from './support/codeServer';
import { activityItem, clickToastButton, codeLens, cursorPosition, quickOpen, runCommand, treeRow, waitFor, waitForLens } from './support/workbench';
import { useE2EWorkbench } from './support/e2eSession';

const e2e = useE2EWorkbench({
  workspace: { withConfig: false, prefix: 'rlens-e2e-audit-' },
  setup: (ws) => {
    const planted = path.join(REPO, 'test/fixtures/audit/planted');
    for (const f of fs.readdirSync(planted)) fs.copyFileSync(path.join(planted, f), path.join(ws.dir, f));
  },
  prefix: 'audit',
  expectFile: 'audit.rlens.json',
});

test('the data lens audits the training data; the Data Audit view lists the findings and a line opens its file there', async () => {
  const { page } = e2e.wb;
  await activityItem(page).waitFor({ timeout: 60_000 });
  await quickOpen(page, 'audit.rlens.json');
  await page.locator('.editor-instance .monaco-editor .view-lines', { hasText: '"train"' }).waitFor({ timeout: 20_000 });
  // The lenses above data.train share one decoration (its counts, then the audit's action): the action's link.
  await page.locator('.monaco-editor .codelens-decoration a', { hasText: 'Audit training data' }).first().click({ timeout: 60_000 });

  // The lens counts what the audit found; the view lists every finding (the Dashboard collapsed to give it room).
  await waitForLens(page, 'audit of 13 pairs: 9 findings', 60_000);
  await page.locator('.pane-header[aria-label^="Dashboard"]').first().click();
  const leak = treeRow(page, 'Data Audit', /^1 training queries that are test queries/).first();
  await leak.waitFor({ timeout: 30_000 });
  for (const finding of [/^1 duplicate pairs/, /^1 positives shared by many pairs/, /^2 positives whose corpus item has another text/])
    await treeRow(page, 'Data Audit', finding).first().waitFor({ timeout: 10_000 });
  await e2e.wb.shot('1-audit-view');

  // The leakage finding's line: train.jsonl:11, the query that is also a test query (a finding opens on a click).
  await leak.click();
  const line = treeRow(page, 'Data Audit', /^train\.jsonl:11query is the test query/).first();
  await line.click({ timeout: 10_000 });
  await page.locator('.tabs-container .tab.active', { hasText: 'train.jsonl' }).first().waitFor({ timeout: 30_000 });
  await waitFor(
    'the cursor on line 11',
    () => cursorPosition(page),
    (p) => p?.line === 11,
    30_000,
  );
  assert.match(fs.readFileSync(path.join(e2e.ws.dir, 'train.jsonl'), 'utf8').split('\n')[10], /what is the capital of france/);
  await e2e.wb.shot('2-audit-line');

  // The palette command audits the active config again (the editor of audit.rlens.json): a pair appended since
  // (line 1 again) is counted, and its duplicate listed.
  const train = path.join(e2e.ws.dir, 'train.jsonl');
  fs.appendFileSync(train, fs.readFileSync(train, 'utf8').split('\n')[0] + '\n');
  await quickOpen(page, 'audit.rlens.json');
  await runCommand(page, 'Retrieval Lens: Audit Training Data');
  await waitForLens(page, 'audit of 14 pairs: 9 findings · 2 duplicate pairs', 60_000);
  await treeRow(page, 'Data Audit', /^2 duplicate pairs/)
    .first()
    .click({ timeout: 10_000 });
  await treeRow(page, 'Data Audit', /^train\.jsonl:14repeats the pair of/)
    .first()
    .waitFor({ timeout: 10_000 });
  assert.deepEqual(
    e2e.wb.errors.filter((e) => /audit|rlens/i.test(e)),
    [],
  );
});

/** The trainer processes of this test's code-server: their script lies in its extensions folder. */
function serverTrainers(): number[] {
  const pids: number[] = [];
  for (const pid of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const args = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if (args.some((a) => a.startsWith(e2e.server.root) && a.endsWith('trainer.js'))) pids.push(Number(pid));
    } catch {
      // ended meanwhile
    }
  }
  return pids;
}

test('Cancel on the progress notification ends the audit process; the lens offers the audit again and nothing is kept', async () => {
  const { page } = e2e.wb;
  // 1M distinct pairs (≈ 90 MB): their audit reads for seconds, long enough to cancel it midway.
  const fd = fs.openSync(path.join(e2e.ws.dir, 'big.jsonl'), 'w');
  for (let chunk = 0; chunk < 100; chunk++) {
    const lines: string[] = [];
    for (let i = chunk * 10_000; i < (chunk + 1) * 10_000; i++)
      lines.push(JSON.stringify({ query: `query ${i} about ${i % 997}`, positive: `item ${i} with words ${i % 13} ${i % 31}`, positive_id: `p${i}` }));
    fs.writeSync(fd, lines.join('\n') + '\n');
  }
  fs.closeSync(fd);
  fs.writeFileSync(path.join(e2e.ws.dir, 'big.rlens.json'), JSON.stringify({ name: 'audit-big', data: { train: 'big.jsonl' } }, null, 2));
  assert.deepEqual(serverTrainers(), [], 'no trainer process before the audit');

  await quickOpen(page, 'big.rlens.json');
  await page.locator('.editor-instance .monaco-editor .view-lines', { hasText: 'big.jsonl' }).waitFor({ timeout: 20_000 });
  await page.locator('.monaco-editor .codelens-decoration a', { hasText: 'Audit training data' }).first().click({ timeout: 60_000 });
  const toast = page.locator('.notifications-toasts .notification-toast', { hasText: /auditing the training data: [\d,]+ training lines read/ }).first();
  await toast.waitFor({ timeout: 60_000 });
  await waitForLens(page, 'auditing the training data', 10_000);
  const trainers = serverTrainers();
  assert.equal(trainers.length, 1, 'the audit runs in one trainer process');
  await e2e.wb.shot('3-audit-progress');
  await clickToastButton(toast, 'Cancel');

  await waitFor(
    'the audit process ended',
    async () => trainers.filter((pid) => fs.existsSync(`/proc/${pid}/cmdline`) && fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8') !== ''),
    (alive) => alive.length === 0,
    30_000,
  );
  await waitForLens(page, 'Audit training data', 30_000);
  assert.equal(await codeLens(page, /audit of [\d,]+ pairs|auditing the training data/).count(), 0, 'no audit shown for big.rlens.json');
  await treeRow(page, 'Data Audit', /^audit\.rlens\.json/)
    .first()
    .waitFor({ timeout: 10_000 }); // the view shows its audits: the planted one
  assert.equal(await treeRow(page, 'Data Audit', /^big\.rlens\.json/).count(), 0, 'nothing kept in the Data Audit view');
  await e2e.wb.shot('4-audit-cancelled');
});
