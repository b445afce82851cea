/**
 * The duplicate groups report (src/core/data/duplicateGroups.ts, src/extension/dashboard/pairTexts.ts
 * runDuplicateGroups): planted same-text items under several ids are found with their lines, a clean file gives none.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { renderDuplicateGroups } from '../../src/core/data/duplicateGroups';
import { runDuplicateGroups } from '../../src/extension/dashboard/pairTexts';

function runWith(lines: object[]): { run: string; train: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rlens-dups-'));
  const train = path.join(dir, 'train.jsonl');
  fs.writeFileSync(train, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  const run = path.join(dir, 'run');
  fs.mkdirSync(run);
  fs.writeFileSync(path.join(run, 'config.json'), JSON.stringify({ name: 'x', data: { train }, training: { batchSize: 2 } }));
  return { run, train };
}

test('duplicate groups: planted same-text items under several ids are listed with their lines, largest first; a clean file has none', async () => {
  const planted = runWith([
    { query: 'a', positive: { id: 'p1', text: 'Red shirt' }, negatives: [{ id: 'n1', text: 'blue  jeans' }] },
    { query: 'b', positive: { id: 'p2', text: 'red SHIRT' } },
    { query: 'c', positive: { id: 'p3', text: 'Blue jeans' } },
    { query: 'd', positive: { id: 'p4', text: 'red shirt' } },
    { query: 'e', positive: { id: 'p1', text: 'Red shirt' } },
    { query: 'f', positive: { id: 'p5', text: 'green hat' } },
  ]);
  const { report, source } = await runDuplicateGroups(planted.run);
  assert.equal(source, planted.train);
  assert.equal(report.items, 7);
  assert.equal(report.texts, 3);
  // ids per group, largest first; each member at a line that holds it (the pass reads in the training order)
  assert.deepEqual(
    report.groups.map((g) => [g.ids, g.members.map((m) => m.id).sort()]),
    [
      [3, ['p1', 'p2', 'p4']],
      [2, ['n1', 'p3']],
    ],
  );
  const lines = fs.readFileSync(planted.train, 'utf8').split('\n');
  for (const m of report.groups.flatMap((g) => g.members)) assert.ok(lines[m.line - 1].includes(`"id":"${m.id}"`), `${m.id} at line ${m.line}`);
  const md = renderDuplicateGroups(report, source);
  assert.match(md, /\*\*2 texts under two or more ids\*\*/);
  assert.ok(md.includes(`- \`p4\` ${planted.train}:4`), md);
  const clean = runWith([
    { query: 'a', positive: { id: 'p1', text: 'red shirt' } },
    { query: 'b', positive: { id: 'p2', text: 'blue jeans' } },
  ]);
  assert.deepEqual((await runDuplicateGroups(clean.run)).report.groups, []);
});
