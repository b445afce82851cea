/**
 * What the extension shows of a data audit (src/extension/audit/auditNodes.ts), from real audits of the fixtures
 * in test/fixtures/audit/: planted (one of each problem, on known lines) and clean. The data lens's count line, and
 * the Data Audit view's nodes: one per finding with its lines, each opening its data file at that line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { loadConfig } from '../../src/core/config/loadConfig';
import { auditTrainingData } from '../../src/core/data/audit/auditData';
import { auditLensTitle, auditNodes, auditProgressText, auditRootLabel } from '../../src/extension/audit/auditNodes';

const FIXTURES = path.join(__dirname, '../fixtures/audit');
const configOf = (name: string) => path.join(FIXTURES, name, 'audit.rlens.json');

test('planted: the lens counts the findings; the view lists each with the lines behind it, each line opening its file', async () => {
  const config = configOf('planted');
  const report = await auditTrainingData(loadConfig(config));
  assert.equal(
    auditLensTitle(report),
    '$(checklist) audit of 13 pairs: 9 findings · 1 duplicate pairs, 1 positives shared by many pairs, 1 positive texts under several ids, …',
  );
  assert.match(auditRootLabel(config, report).description, /^13 pairs · 9 findings · \d+\.\d s$/);
  const nodes = auditNodes(config, report);
  assert.deepEqual(
    nodes.map((n) => [n.label, n.children?.map((c) => c.label)]),
    [
      ['1 duplicate pairs (same normalised query and positive id)', ['train.jsonl:3']],
      ['1 positives shared by many pairs', ['train.jsonl:6']],
      ['1 positive texts under several ids', ['train.jsonl:4']],
      ['1 positive ids with several texts', ['train.jsonl:5']],
      ['2 texts with no word for the featurizer', ['train.jsonl:13', 'train.jsonl:13']],
      ['1 queries longer than model.maxQueryTokens words', ['train.jsonl:12']],
      ['1 positives longer than model.maxItemTokens words', ['train.jsonl:12']],
      ['1 training queries that are test queries (normalised text)', ['train.jsonl:11']],
      ['2 positives whose corpus item has another text', ['train.jsonl:2', 'train.jsonl:11']],
    ],
  );
  assert.equal(nodes[8].description, '1 are the corpus text without its title');
  // Every line node opens the training file at the line the audit names, and that line is the one it describes.
  const train = path.join(FIXTURES, 'planted', 'train.jsonl');
  const lines = fs.readFileSync(train, 'utf8').split('\n');
  for (const n of nodes)
    for (const c of n.children ?? []) {
      assert.equal(c.location?.file, train);
      assert.equal(`train.jsonl:${c.location.line}`, c.label);
    }
  const leak = nodes[7].children![0];
  assert.match(leak.description!, /is the test query of .*test\.jsonl:1$/);
  assert.equal((JSON.parse(lines[leak.location!.line - 1]) as { query: string }).query, 'what is the capital of france');
  const dup = nodes[0].children![0];
  assert.equal((JSON.parse(lines[dup.location!.line - 1]) as { query: string }).query, 'Red  SHOES');
});

test('clean: "nothing found" in the lens and the view', async () => {
  const config = configOf('clean');
  const report = await auditTrainingData(loadConfig(config));
  assert.equal(auditLensTitle(report), '$(pass) audit of 3 pairs: nothing found');
  assert.deepEqual(auditNodes(config, report), [{ label: 'nothing found', description: '3 pairs' }]);
});

test('bad lines are listed under the findings, each at its line', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rlens-audit-view-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  for (const f of ['test.jsonl', 'corpus.jsonl', 'audit.rlens.json']) fs.copyFileSync(path.join(FIXTURES, 'clean', f), path.join(dir, f));
  fs.writeFileSync(
    path.join(dir, 'train.jsonl'),
    fs.readFileSync(path.join(FIXTURES, 'clean', 'train.jsonl'), 'utf8') + '{"query": "", "positive": "x", "positive_id": "p7"}\nnot json\n',
  );
  const report = await auditTrainingData(loadConfig(path.join(dir, 'audit.rlens.json')));
  const bad = auditNodes(path.join(dir, 'audit.rlens.json'), report).at(-1)!;
  assert.equal(bad.label, '2 bad lines');
  assert.deepEqual(
    bad.children!.map((c) => [c.label, c.location]),
    [
      ['train.jsonl:4', { file: path.join(dir, 'train.jsonl'), line: 4 }],
      ['train.jsonl:5', { file: path.join(dir, 'train.jsonl'), line: 5 }],
    ],
  );
});

test('the progress notification counts the lines read of each part, the last count being all the lines', async () => {
  const shown: string[] = [];
  const report = await auditTrainingData(loadConfig(configOf('planted')), { onProgress: (p) => shown.push(auditProgressText(p)) });
  const corpusLines = fs
    .readFileSync(path.join(FIXTURES, 'planted', 'corpus.jsonl'), 'utf8')
    .trimEnd()
    .split('\n').length;
  assert.deepEqual(shown, [
    '0 corpus lines read',
    `${corpusLines} corpus lines read`,
    '0 test lines read',
    `${report.testQueries} test lines read`,
    '0 training lines read',
    `${report.linesRead} training lines read`,
  ]);
  assert.equal(auditProgressText({ part: 'train', linesRead: 120_832 }), '120,832 training lines read');
});
