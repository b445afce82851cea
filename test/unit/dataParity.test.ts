/**
 * Data parity, TypeScript half: test/fixtures/data-parity/expected.json holds what the TypeScript reader made of
 * every case of cases.json (every record shape, shards, gzip, BEIR, bad lines, the errors); this test reads them
 * again with the current code, so a change to the reader's rules fails here until expected.json is regenerated
 * (generate.ts) — and python/tests/test_data_parity.py then requires the Python reader to follow.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { DATA_PARITY_DIR, tsDataCase, type DataParityCase } from '../fixtures/data-parity/tsSide';

const { cases } = JSON.parse(fs.readFileSync(path.join(DATA_PARITY_DIR, 'cases.json'), 'utf8')) as { cases: DataParityCase[] };
const expected = JSON.parse(fs.readFileSync(path.join(DATA_PARITY_DIR, 'expected.json'), 'utf8')) as Record<string, unknown>;

test('data parity fixtures: the TypeScript reader still gives expected.json for every case', async () => {
  assert.deepEqual(Object.keys(expected).sort(), cases.map((c) => c.name).sort());
  for (const c of cases) assert.deepEqual(await tsDataCase(c), expected[c.name], c.name);
});

test('data parity fixtures cover every record shape, shards, gzip, BEIR and the located errors', () => {
  const shapes = new Set(Object.values(expected).map((v) => (v as { shape?: { shape: string } | null }).shape?.shape));
  for (const s of ['pairs', 'bge', 'sentence-transformers', 'fields', 'tsv-pairs', 'msmarco-triples']) assert.ok(shapes.has(s), s);
  const errors = Object.values(expected).filter((v) => 'error' in (v as object)).length;
  assert.ok(errors >= 6, `${errors} error cases`);
});
