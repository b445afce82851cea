/**
 * The drill-down's texts (src/extension/dashboard/pairTexts.ts) from real files: a JSONL pair line's query,
 * positive and negative, a BEIR queries.jsonl / corpus.jsonl line, a line that no longer holds the id, and a file
 * outside the run's data folders (never read, null).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { isRunDataFile, PairTextReader, runDataFolders } from '../../src/extension/dashboard/pairTexts';

function fixture(): { run: string; data: string; beir: string; other: string } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'rlens-pairs-'));
  const data = path.join(root, 'data');
  const beir = path.join(root, 'beir');
  const other = path.join(root, 'elsewhere');
  for (const d of [data, beir, other]) fs.mkdirSync(d);
  fs.writeFileSync(
    path.join(data, 'train.jsonl'),
    [
      JSON.stringify({ query: 'red shirt', positive: { id: 'p1', text: 'Red cotton shirt' }, negatives: [{ id: 'n1', text: 'blue jeans' }], query_id: 'q1' }),
      JSON.stringify({ query: 'kettle', positive: { id: 'p2', text: 'steel kettle' }, query_id: 'q2' }),
    ].join('\n') + '\n',
  );
  fs.writeFileSync(path.join(beir, 'queries.jsonl'), JSON.stringify({ _id: 'bq1', text: 'how to sort a list' }) + '\n');
  fs.writeFileSync(path.join(beir, 'corpus.jsonl'), JSON.stringify({ _id: 'd1', title: 'sort', text: 'def sort(xs): return sorted(xs)' }) + '\n');
  fs.writeFileSync(path.join(other, 'secret.jsonl'), JSON.stringify({ query: 'x', positive: { id: 'p9', text: 'secret' } }) + '\n');
  const run = path.join(root, 'run');
  fs.mkdirSync(run);
  fs.writeFileSync(path.join(run, 'config.json'), JSON.stringify({ data: { train: path.join(data, '*.jsonl'), test: beir } }));
  return { run, data, beir, other };
}

test('pair texts: query, positive and negative of a pairs line and BEIR lines are read; a changed line or a file outside the data folders gives null', async () => {
  const f = fixture();
  assert.deepEqual(runDataFolders(f.run).sort(), [f.data, f.beir].sort());
  const train = path.join(f.data, 'train.jsonl');
  const texts = await new PairTextReader().texts(f.run, [
    { kind: 'query', id: 'q1', file: train, line: 1 },
    { kind: 'item', id: 'p1', file: train, line: 1 },
    { kind: 'item', id: 'n1', file: train, line: 1 },
    { kind: 'query', id: 'q2', file: train, line: 2 },
    { kind: 'item', id: 'p1', file: train, line: 2 },
    { kind: 'query', id: 'bq1', file: path.join(f.beir, 'queries.jsonl'), line: 1 },
    { kind: 'item', id: 'd1', file: path.join(f.beir, 'corpus.jsonl'), line: 1 },
    { kind: 'item', id: 'p9', file: path.join(f.other, 'secret.jsonl'), line: 1 },
    { kind: 'item', id: 'p1', file: path.join(f.data, '..', 'elsewhere', 'secret.jsonl'), line: 1 },
  ]);
  assert.deepEqual(texts, [
    'red shirt',
    'Red cotton shirt',
    'blue jeans',
    'kettle',
    null,
    'how to sort a list',
    'sort def sort(xs): return sorted(xs)',
    null,
    null,
  ]);
  assert.equal(isRunDataFile(f.run, train), true);
  assert.equal(isRunDataFile(f.run, path.join(f.other, 'secret.jsonl')), false);
});
