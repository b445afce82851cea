import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadCorpus, loadExamples, collectQrels, DataError } from '../../src/core/data/load';
import { readLines } from '../../src/core/data/lineReader';
import type { Example } from '../../src/core/data/types';

const FIXTURES = resolve(__dirname, '../fixtures/data');
const ROOT = resolve(__dirname, '../..');
const SHOP = join(ROOT, 'examples/shop');

/** Text-derived item id computed independently of the implementation. */
function expectedTextId(normalised: string): string {
  return 't:' + createHash('sha256').update(normalised).digest('hex').slice(0, 16);
}

/** The message JSON.parse gives for a text (the reader must quote it). */
function jsonParseMessage(text: string): string {
  try {
    JSON.parse(text);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('expected invalid JSON');
}

/** Runs `fn` with a fresh temp folder that is removed afterwards. */
async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'rlens-data-'));
  try {
    return await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Asserts that `promise` rejects with a DataError and returns it. */
async function dataError(promise: Promise<unknown>): Promise<DataError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof DataError, `expected DataError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a DataError');
}

test('JSONL pairs: exact lines, ids, negatives and specific bad-line reasons', async () => {
  const file = join(FIXTURES, 'pairs.jsonl');
  const { examples, report } = await loadExamples({ path: 'pairs.jsonl', baseDir: FIXTURES, maxBadLineShare: 1 });

  assert.deepEqual(
    examples.map((e) => [e.source.line, e.queryId, e.query, e.positive.id, e.positive.text]),
    [
      [1, 'q1', 'red shoes', 'i1', 'Acme Runner Red'],
      [3, 'pairs.jsonl:3', 'blue phone', 'i2', 'Acme Phone Blue'],
      [9, 'pairs.jsonl:9', 'text only', expectedTextId('acme phone blue'), '  acme   PHONE blue '],
      [14, 'pairs.jsonl:14', 'again', '7', 'Acme Phone Blue'],
    ],
  );
  for (const e of examples) {
    assert.equal(e.source.file, file);
    assert.deepEqual(e.positive.source, e.source);
  }
  assert.deepEqual(
    examples[1].negatives.map((n) => [n.id, n.text, n.source.line]),
    [
      [expectedTextId('acme phone red'), 'Acme Phone Red', 3],
      ['i3', 'Acme Phone Green', 3],
    ],
  );
  assert.deepEqual(examples[0].negatives, []);

  assert.equal(report.path, file);
  assert.equal(report.format, 'jsonl');
  assert.equal(report.examples, 4);
  assert.equal(report.linesRead, 12, 'blank and whitespace-only lines are not counted');
  assert.equal(report.badCount, 8);
  assert.deepEqual(report.badLines, [
    { file, line: 4, reason: `invalid JSON: ${jsonParseMessage('{"query": "broken", ')}` },
    { file, line: 5, reason: 'missing field "query"' },
    { file, line: 6, reason: 'field "positive" must be a string or an object with "text"' },
    { file, line: 7, reason: 'empty query' },
    { file, line: 10, reason: 'expected a JSON object, got array' },
    { file, line: 11, reason: 'field "negatives" must be an array' },
    { file, line: 12, reason: 'field "item_id" ("i8") differs from positive.id ("i9")' },
    { file, line: 13, reason: `negatives[0] is the positive item itself (id "${expectedTextId('same item')}")` },
  ]);
});

test('item ids: identical normalised texts share an id, different texts do not', async () => {
  await withTempDir(async (dir) => {
    const file = join(dir, 'dedupe.jsonl');
    writeFileSync(
      file,
      [
        { query: 'a', positive: 'Acme  Phone\tBlue' },
        { query: 'b', positive: { text: ' acme phone blue ' } },
        { query: 'c', positive: 'Acme Phone Blue 2' },
        { query: 'd', positive: 'ACME PHONE BLUE', negatives: ['Acme Phone Blue 2'] },
      ]
        .map((o) => JSON.stringify(o))
        .join('\n'),
    );
    const { examples } = await loadExamples({ path: file });
    const ids = examples.map((e) => e.positive.id);
    assert.equal(ids[0], expectedTextId('acme phone blue'));
    assert.equal(ids[1], ids[0]);
    assert.equal(ids[3], ids[0]);
    assert.notEqual(ids[2], ids[0]);
    assert.equal(examples[3].negatives[0].id, ids[2]);
    // Each occurrence keeps its own location even when ids are equal.
    assert.deepEqual(
      examples.map((e) => e.positive.source.line),
      [1, 2, 3, 4],
    );
    const qrels = collectQrels(examples);
    assert.deepEqual([...qrels.keys()], ['dedupe.jsonl:1', 'dedupe.jsonl:2', 'dedupe.jsonl:3', 'dedupe.jsonl:4']);
  });
});

test('TSV pairs: header skipped, exact lines, bad columns and empty fields', async () => {
  const file = join(FIXTURES, 'pairs.tsv');
  const { examples, report } = await loadExamples({ path: file, maxBadLineShare: 1 });
  assert.equal(report.format, 'tsv');
  assert.deepEqual(
    examples.map((e) => [e.source.line, e.queryId, e.query, e.positive.id, e.positive.text]),
    [
      [2, 'pairs.tsv:2', 'red shoes', 'i1', 'Acme Runner Red'],
      [4, 'pairs.tsv:4', 'blue phone', expectedTextId('acme phone blue'), 'Acme Phone Blue'],
      [10, 'pairs.tsv:10', 'last', expectedTextId('last item'), 'Last Item'],
    ],
  );
  assert.ok(examples.every((e) => e.source.file === file && e.positive.source.line === e.source.line));
  assert.equal(report.linesRead, 8, 'the header and the blank line are not counted');
  assert.deepEqual(report.badLines, [
    { file, line: 5, reason: 'expected 2 or 3 tab-separated columns (query, positive[, positive id]), got 1' },
    { file, line: 6, reason: 'empty query' },
    { file, line: 7, reason: 'empty positive' },
    { file, line: 8, reason: 'expected 2 or 3 tab-separated columns (query, positive[, positive id]), got 4' },
    { file, line: 9, reason: 'empty positive id (column 3)' },
  ]);
});

test('lines are numbered like an editor: CRLF endings, a byte-order mark, blank lines', async () => {
  await withTempDir(async (dir) => {
    const file = join(dir, 'crlf.tsv');
    writeFileSync(file, '\ufeffquery\tpositive\r\n\r\nred shoes\tAcme Runner Red\r\n{bad\r\nblue phone\tAcme Phone Blue');
    const lines = [];
    for await (const l of readLines(file)) lines.push(l);
    assert.deepEqual(lines, [
      { text: 'query\tpositive', line: 1 },
      { text: '', line: 2 },
      { text: 'red shoes\tAcme Runner Red', line: 3 },
      { text: '{bad', line: 4 },
      { text: 'blue phone\tAcme Phone Blue', line: 5 },
    ]);
    const { examples, report } = await loadExamples({ path: file, maxBadLineShare: 0.5 });
    assert.deepEqual(
      examples.map((e) => [e.source.line, e.positive.text]),
      [
        [3, 'Acme Runner Red'],
        [5, 'Acme Phone Blue'],
      ],
    );
    assert.deepEqual(
      report.badLines.map((b) => b.line),
      [4],
    );
  });
});

test('BEIR folder: several relevant items per query, unknown ids, per-file locations', async () => {
  const folder = join(FIXTURES, 'beir');
  const corpus = join(folder, 'corpus.jsonl');
  const queries = join(folder, 'queries.jsonl');
  const qrels = join(folder, 'qrels', 'test.tsv');
  const { examples, report } = await loadExamples({ path: 'beir', baseDir: FIXTURES, split: 'test', maxBadLineShare: 0.5 });

  assert.equal(report.format, 'beir');
  assert.equal(report.path, folder);
  const rows = (list: Example[]) =>
    list.map((e) => [e.queryId, e.query, e.source.file, e.source.line, e.positive.id, e.positive.text, e.positive.source.file, e.positive.source.line]);
  assert.deepEqual(rows(examples), [
    ['q1', 'acme phone 128gb', queries, 1, 'd1', 'Acme Phone A phone with 128GB.', corpus, 1],
    ['q1', 'acme phone 128gb', queries, 1, 'd3', 'Stride Runner 5 red running shoes', corpus, 4],
    ['q2', 'green tee', queries, 2, 'd2', 'Loom Tee in green.', corpus, 2],
    ['q4', 'red shoes', queries, 4, 'd3', 'Stride Runner 5 red running shoes', corpus, 4],
  ]);
  assert.deepEqual(report.badLines, [
    { file: corpus, line: 5, reason: `invalid JSON: ${jsonParseMessage('{"_id": "d4", "title": "Broken"')}` },
    { file: corpus, line: 7, reason: 'missing field "_id" (or "id")' },
    { file: queries, line: 3, reason: 'empty text' },
    { file: qrels, line: 5, reason: 'unknown corpus-id "d9" (not in corpus.jsonl)' },
    { file: qrels, line: 6, reason: 'unknown query-id "q7" (not in queries.jsonl)' },
    { file: qrels, line: 8, reason: 'repeats the pair of line 4' },
  ]);
  // corpus: 6 non-blank lines, queries: 4, qrels: 8 rows after the header.
  assert.equal(report.linesRead, 18);
  assert.equal(report.badCount, 6);

  const relevance = collectQrels(examples);
  assert.deepEqual(
    [...relevance].map(([q, items]) => [q, [...items].sort()]),
    [
      ['q1', ['d1', 'd3']],
      ['q2', ['d2']],
      ['q4', ['d3']],
    ],
  );
});

test('BEIR split: required when qrels holds several, missing split names the file', async () => {
  const folder = join(FIXTURES, 'beir');
  const several = await dataError(loadExamples({ path: folder, maxBadLineShare: 1, label: 'data.test' }));
  assert.equal(several.message, `${folder} has several qrels splits (test, train); set split (data.test)`);

  const missing = await dataError(loadExamples({ path: folder, split: 'dev', maxBadLineShare: 1 }));
  const devFile = join(folder, 'qrels', 'dev.tsv');
  assert.equal(missing.message, `data file not found: ${devFile} (qrels splits: test, train)`);
  assert.equal(missing.file, devFile);

  const train = await loadExamples({ path: folder, split: 'train', maxBadLineShare: 1 });
  assert.deepEqual(
    train.examples.map((e) => [e.queryId, e.positive.id]),
    [['q2', 'd2']],
  );
});

test('the bad-line share: over the limit fails with the first bad line, at the limit passes', async () => {
  await withTempDir(async (dir) => {
    const file = join(dir, 'train.jsonl');
    const good = (i: number) => JSON.stringify({ query: `query ${i}`, positive: `item ${i}` });
    const broken = '{"query": "oops"';
    const badAt = new Set([3, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 100]);
    const lines = Array.from({ length: 100 }, (_, i) => (badAt.has(i + 1) ? broken : good(i + 1)));
    writeFileSync(file, lines.join('\n') + '\n');

    const err = await dataError(loadExamples({ path: file }));
    assert.equal(
      err.message,
      `12 of 100 lines (12.0%) in ${file} are malformed, more than data.maxBadLineShare 5%; ` + `first: line 3: invalid JSON: ${jsonParseMessage(broken)}`,
    );
    assert.equal(err.file, file);
    assert.equal(err.line, 3);

    const loose = await loadExamples({ path: file, maxBadLineShare: 0.12 });
    assert.equal(loose.report.badCount, 12);
    assert.equal(loose.examples.length, 88);

    const strict = await dataError(loadExamples({ path: file, maxBadLineShare: 0.025 }));
    assert.match(strict.message, /more than data\.maxBadLineShare 2\.5%; first: line 3: /);

    // Exactly 5 of 100 is not more than 5%.
    const five = lines.map((l, i) => (badAt.has(i + 1) && i + 1 > 40 ? good(i + 1) : l));
    writeFileSync(file, five.join('\n'));
    const ok = await loadExamples({ path: file });
    assert.equal(ok.report.badCount, 5);
    assert.equal(ok.examples.length, 95);
  });
});

test('bad lines: the first 100 are kept, all are counted', async () => {
  await withTempDir(async (dir) => {
    const file = join(dir, 'mostly-bad.tsv');
    const lines = Array.from({ length: 160 }, (_, i) => (i < 150 ? `no tab ${i}` : `query ${i}\titem ${i}`));
    writeFileSync(file, lines.join('\n'));
    const { examples, report } = await loadExamples({ path: file, maxBadLineShare: 1 });
    assert.equal(examples.length, 10);
    assert.equal(report.badCount, 150);
    assert.equal(report.badLines.length, 100);
    assert.deepEqual(
      report.badLines.map((b) => b.line),
      Array.from({ length: 100 }, (_, i) => i + 1),
    );
  });
});

test('missing paths, wrong kinds of path and empty data raise DataError', async () => {
  const missing = join(FIXTURES, 'nope.jsonl');
  const err = await dataError(loadExamples({ path: 'nope.jsonl', baseDir: FIXTURES, label: 'data.train' }));
  assert.equal(err.message, `data file not found: ${missing} (data.train)`);
  assert.equal(err.file, missing);
  assert.equal(err.line, undefined);

  const noLabel = await dataError(loadCorpus({ path: missing }));
  assert.equal(noLabel.message, `data file not found: ${missing}`);

  const notBeir = await dataError(loadExamples({ path: join(FIXTURES, 'not-beir') }));
  assert.match(notBeir.message, /is a folder without corpus\.jsonl/);
  const fileAsBeir = await dataError(loadExamples({ path: join(FIXTURES, 'pairs.tsv'), format: 'beir' }));
  assert.match(fileAsBeir.message, /needs a folder with corpus\.jsonl/);

  await withTempDir(async (dir) => {
    const empty = join(dir, 'empty.jsonl');
    writeFileSync(empty, '\n\n');
    const none = await dataError(loadExamples({ path: empty }));
    assert.equal(none.message, `no examples in ${empty}: it holds no data lines`);
  });
});

test('format auto-detection and explicit format', async () => {
  const beir = await loadExamples({ path: join(FIXTURES, 'beir'), split: 'train', maxBadLineShare: 1 });
  assert.equal(beir.report.format, 'beir');
  const tsv = await loadExamples({ path: join(FIXTURES, 'pairs.tsv'), maxBadLineShare: 1 });
  assert.equal(tsv.report.format, 'tsv');
  const jsonl = await loadExamples({ path: join(FIXTURES, 'pairs.jsonl'), maxBadLineShare: 1 });
  assert.equal(jsonl.report.format, 'jsonl');
  // A .txt file is read as JSONL unless told otherwise: every TSV line is then invalid JSON.
  const txt = join(FIXTURES, 'pairs-tsv.txt');
  const asJsonl = await dataError(loadExamples({ path: txt }));
  assert.match(asJsonl.message, /^2 of 2 lines \(100\.0%\) .* first: line 1: invalid JSON: /);
  const asTsv = await loadExamples({ path: txt, format: 'tsv' });
  assert.equal(asTsv.report.format, 'tsv');
  assert.deepEqual(
    asTsv.examples.map((e) => e.query),
    ['red shoes', 'blue phone'],
  );
});

test('loadCorpus: JSONL corpus and BEIR corpus, deduped by id with the first location', async () => {
  const file = join(FIXTURES, 'corpus.jsonl');
  const { items, report } = await loadCorpus({ path: 'corpus.jsonl', baseDir: FIXTURES, maxBadLineShare: 0.5 });
  assert.deepEqual(
    items.map((i) => [i.id, i.text, i.source.file, i.source.line]),
    [
      ['c1', 'Acme Phone X12 128GB Black', file, 1],
      ['c2', 'Loom Tee Green, size M', file, 2],
      ['c4', 'Stride Runner 5 Red', file, 6],
    ],
  );
  assert.equal(report.items, 3);
  assert.equal(report.linesRead, 5);
  assert.deepEqual(report.badLines, [{ file, line: 5, reason: 'empty text' }]);

  const folder = join(FIXTURES, 'beir');
  const beir = await loadCorpus({ path: folder, maxBadLineShare: 0.5 });
  assert.equal(beir.report.format, 'beir');
  assert.deepEqual(
    beir.items.map((i) => [i.id, i.source.line]),
    [
      ['d1', 1],
      ['d2', 2],
      ['d3', 4],
    ],
  );
  assert.equal(beir.items[0].text, 'Acme Phone A phone with 128GB.');
  assert.equal(beir.report.badCount, 2);

  const tsv = await dataError(loadCorpus({ path: join(FIXTURES, 'pairs.tsv') }));
  assert.match(tsv.message, /a corpus must be a JSONL file/);
});

test('shop example: the generator is deterministic, matches the bundled data and loads cleanly', async () => {
  await withTempDir(async (dir) => {
    const runs = [join(dir, 'a'), join(dir, 'b')];
    for (const out of runs) {
      execFileSync(process.execPath, [join(SHOP, 'generate.mjs'), '--out', out], { stdio: 'pipe' });
    }
    const names = ['corpus.jsonl', 'train.jsonl', 'test.jsonl'];
    let total = 0;
    for (const name of names) {
      const a = readFileSync(join(runs[0], name));
      assert.ok(a.equals(readFileSync(join(runs[1], name))), `${name} differs between two runs`);
      assert.ok(a.equals(readFileSync(join(SHOP, 'data', name))), `bundled ${name} is stale: run node examples/shop/generate.mjs`);
      total += statSync(join(runs[0], name)).size;
    }
    assert.ok(total < 5_000_000, `data set is ${total} bytes`);
  });

  const data = join(SHOP, 'data');
  const corpus = await loadCorpus({ path: join(data, 'corpus.jsonl'), maxBadLineShare: 0 });
  const train = await loadExamples({ path: join(data, 'train.jsonl'), maxBadLineShare: 0 });
  const testSet = await loadExamples({ path: join(data, 'test.jsonl'), maxBadLineShare: 0 });
  for (const r of [corpus.report, train.report, testSet.report]) assert.equal(r.badCount, 0);
  assert.equal(corpus.report.items, corpus.report.linesRead, 'corpus ids are unique');
  assert.ok(corpus.items.length >= 5000 && corpus.items.length <= 8000, `corpus: ${corpus.items.length}`);
  assert.ok(train.examples.length >= 25000 && train.examples.length <= 40000, `train: ${train.examples.length}`);
  const testQueries = collectQrels(testSet.examples);
  assert.ok(testQueries.size >= 1000 && testQueries.size <= 2000, `test queries: ${testQueries.size}`);

  // Every positive and negative is a corpus item with the same text.
  const byId = new Map(corpus.items.map((i) => [i.id, i.text]));
  for (const e of [...train.examples, ...testSet.examples]) {
    assert.equal(byId.get(e.positive.id), e.positive.text, `line ${e.source.line}`);
    for (const n of e.negatives) {
      assert.equal(byId.get(n.id), n.text);
      assert.notEqual(n.id, e.positive.id);
    }
  }
  const withNegatives = train.examples.filter((e) => e.negatives.length > 0);
  assert.ok(withNegatives.length > 1000 && withNegatives.every((e) => e.negatives.length <= 3));

  // Split by query: no test query text occurs in train, and query ids are disjoint.
  const norm = (q: string) => q.toLowerCase().replace(/\s+/g, ' ').trim();
  const trainQueries = new Set(train.examples.map((e) => norm(e.query)));
  assert.ok(testSet.examples.every((e) => !trainQueries.has(norm(e.query))));
  const trainIds = new Set(train.examples.map((e) => e.queryId));
  assert.ok([...testQueries.keys()].every((id) => !trainIds.has(id)));
});
