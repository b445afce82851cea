import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadExamples, DataError } from '../../src/core/data/load';
import { textItemId } from '../../src/core/data/itemId';
import { itemTextFromLine, lineParserOf } from '../../src/core/data/itemText';
import { recordParser } from '../../src/core/data/formats';
import { LineFault } from '../../src/core/data/lineFields';
import { initBackend } from '../../src/core/backend';
import { parseConfigText } from '../../src/core/config';
import { runTraining } from '../../src/core/training/trainLoop';

/** Writes `lines` into a new temp folder and returns the file path (the folder is removed by `done`). */
function tempFile(name: string, lines: string[]): { file: string; done: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'rl-formats-'));
  const file = join(dir, name);
  writeFileSync(file, lines.join('\n') + '\n');
  return { file, done: () => rmSync(dir, { recursive: true, force: true }) };
}

const j = (o: unknown) => JSON.stringify(o);

test('BGE JSONL: two positives give two pairs, each with the negatives attached; the shape is detected and said', async () => {
  const { file, done } = tempFile('bge.jsonl', [
    j({ query: 'red running shoe', pos: ['Acme Red Runner', 'Zoom red trainer'], neg: ['Blue Hat', 'Green Sock'], pos_scores: [1, 1], prompt: 'x' }),
    j({ query: 'wool hat', pos: ['Wool Beanie'], neg: [] }),
    j({ query: 'no positives', pos: [], neg: ['Blue Hat'] }),
    j({ query: 'self negative', pos: ['Same'], neg: ['same'] }),
  ]);
  try {
    const { examples, report } = await loadExamples({ path: file, maxBadLineShare: 1 });
    assert.equal(report.format, 'jsonl');
    assert.deepEqual(report.shape, { shape: 'bge', how: 'detected at bge.jsonl:1', name: 'FlagEmbedding/BGE query+pos+neg' });
    assert.deepEqual(
      examples.map((e) => [e.queryId, e.query, e.positive.text, e.negatives.map((n) => n.text)]),
      [
        ['bge.jsonl:1', 'red running shoe', 'Acme Red Runner', ['Blue Hat', 'Green Sock']],
        ['bge.jsonl:1', 'red running shoe', 'Zoom red trainer', ['Blue Hat', 'Green Sock']],
        ['bge.jsonl:2', 'wool hat', 'Wool Beanie', []],
      ],
    );
    assert.equal(examples[0].negatives[0].id, textItemId('Blue Hat'));
    assert.deepEqual(examples[1].source, { file, line: 1 });
    assert.equal(report.examples, 3, 'examples, not lines');
    assert.equal(report.linesRead, 4);
    assert.deepEqual(
      report.badLines.map((b) => [b.line, b.reason]),
      [
        [3, 'field "pos" holds no positive'],
        [4, `neg[0] is the positive item itself (id "${textItemId('same')}")`],
      ],
    );
    // The failure view reads an item's text back from its line, whatever the shape.
    const line1 = j({ query: 'red running shoe', pos: ['Acme Red Runner', 'Zoom red trainer'], neg: ['Blue Hat', 'Green Sock'] });
    assert.equal(itemTextFromLine(line1, file, 1, textItemId('zoom red trainer')), 'Zoom red trainer');
    assert.equal(itemTextFromLine(line1, file, 1, textItemId('green sock')), 'Green Sock');
  } finally {
    done();
  }
});

test('sentence-transformers JSONL: anchor / positive / negative (or negative_1..n) columns', async () => {
  const { file, done } = tempFile('st.jsonl', [
    j({ anchor: 'how to boil an egg', positive: 'Boil eggs for nine minutes', negative: 'Fry an egg in butter' }),
    j({ anchor: 'capital of france', positive: 'Paris is the capital of France' }),
    j({ anchor: 'fast laptop', positive: 'Laptop with an M3 chip', negative_1: 'A slow laptop', negative_2: 'A laptop bag' }),
    j({ anchor: 'no positive here' }),
  ]);
  try {
    const { examples, report } = await loadExamples({ path: file, maxBadLineShare: 1 });
    assert.equal(report.shape?.shape, 'sentence-transformers');
    assert.deepEqual(
      examples.map((e) => [e.query, e.positive.text, e.negatives.map((n) => n.text)]),
      [
        ['how to boil an egg', 'Boil eggs for nine minutes', ['Fry an egg in butter']],
        ['capital of france', 'Paris is the capital of France', []],
        ['fast laptop', 'Laptop with an M3 chip', ['A slow laptop', 'A laptop bag']],
      ],
    );
    assert.deepEqual(report.badLines, [{ file, line: 4, reason: 'missing field "positive"' }]);
  } finally {
    done();
  }
});

test('MS MARCO triples TSV: detected from column 3 holding text (or a header, or data.format msmarco); item-id TSV unchanged', async () => {
  const triples = tempFile('triples.train.small.tsv', [
    'a malformed first line decides nothing',
    'what is a dog\tA dog is a domesticated mammal.\tCats purr when content.',
    'rust borrow checker\tThe borrow checker enforces ownership rules.\tRust is an iron oxide.',
    'broken line\tonly two columns',
  ]);
  const headed = tempFile('headed.tsv', ['query\tpositive\tnegative', 'dog\tA dog barks\tA cat']);
  const ids = tempFile('ids.tsv', ['red shoe\tRed Shoe 42\tp9', 'blue hat\tBlue Hat\tp10']);
  try {
    const t = await loadExamples({ path: triples.file, maxBadLineShare: 1 });
    assert.equal(t.report.format, 'tsv');
    assert.deepEqual(t.report.shape, {
      shape: 'msmarco-triples',
      how: 'detected at triples.train.small.tsv:2 (column 3 holds text)',
      name: 'MS MARCO triples TSV query, positive, negative',
    });
    assert.deepEqual(
      t.examples.map((e) => [e.query, e.positive.text, e.negatives.map((n) => [n.id, n.text])]),
      [
        ['what is a dog', 'A dog is a domesticated mammal.', [[textItemId('Cats purr when content.'), 'Cats purr when content.']]],
        ['rust borrow checker', 'The borrow checker enforces ownership rules.', [[textItemId('rust is an iron oxide.'), 'Rust is an iron oxide.']]],
      ],
    );
    assert.deepEqual(t.report.badLines, [
      { file: triples.file, line: 1, reason: 'expected 2 or 3 tab-separated columns (query, positive[, positive id]), got 1' },
      { file: triples.file, line: 4, reason: 'expected 3 tab-separated columns (query, positive, negative), got 2' },
    ]);
    assert.equal(itemTextFromLine('dog\tA dog barks\tA cat', headed.file, 2, textItemId('a cat')), 'A cat');

    const h = await loadExamples({ path: headed.file });
    assert.equal(h.report.shape?.how, 'detected from the header line');
    assert.deepEqual(
      h.examples[0].negatives.map((n) => n.text),
      ['A cat'],
    );
    assert.equal(h.report.linesRead, 1, 'the header is not counted');

    const forced = await loadExamples({ path: ids.file, format: 'msmarco' });
    assert.equal(forced.report.shape?.how, 'data.format "msmarco"');
    assert.deepEqual(
      forced.examples[0].negatives.map((n) => n.text),
      ['p9'],
      'msmarco reads column 3 as a negative text',
    );

    const pairs = await loadExamples({ path: ids.file });
    assert.equal(pairs.report.shape?.shape, 'tsv-pairs');
    assert.equal(pairs.report.shape?.how, 'detected at ids.tsv:1 (column 3 holds an id)');
    assert.deepEqual(
      pairs.examples.map((e) => [e.positive.id, e.negatives.length]),
      [
        ['p9', 0],
        ['p10', 0],
      ],
    );
  } finally {
    triples.done();
    headed.done();
    ids.done();
  }
});

test('data.fields maps any JSONL record: the positive keeps its id from positive_id, negatives and query id too', async () => {
  const { file, done } = tempFile('custom.jsonl', [
    j({ q: 'red shoe', doc: 'Acme Red Shoe', positive_id: 'sku-1', hard: ['Blue Hat'], qid: 'Q1' }),
    j({ q: 'red shoe', doc: 'Zoom Red Shoe', positive_id: 77, qid: 'Q1' }),
    j({ q: 'hat', doc: 'Wool Hat' }),
    j({ q: 'hat', document: 'typo in the field name', positive_id: 'sku-3' }),
  ]);
  try {
    const fields = { query: 'q', positive: 'doc', itemId: 'positive_id', negatives: 'hard', queryId: 'qid' };
    const { examples, report } = await loadExamples({ path: file, fields, maxBadLineShare: 1 });
    assert.deepEqual(report.shape, { shape: 'fields', how: 'data.fields', name: 'data.fields mapping' });
    assert.deepEqual(
      examples.map((e) => [e.queryId, e.query, e.positive.id, e.positive.text, e.negatives.map((n) => n.text)]),
      [
        ['Q1', 'red shoe', 'sku-1', 'Acme Red Shoe', ['Blue Hat']],
        ['Q1', 'red shoe', '77', 'Zoom Red Shoe', []],
        ['custom.jsonl:3', 'hat', textItemId('wool hat'), 'Wool Hat', []],
      ],
    );
    assert.deepEqual(report.badLines, [{ file, line: 4, reason: 'missing field "doc" (data.fields.positive)' }]);
    const line1 = j({ q: 'red shoe', doc: 'Acme Red Shoe', positive_id: 'sku-1' });
    assert.equal(itemTextFromLine(line1, file, 1, 'sku-1', lineParserOf(file, { text: line1, line: 1 }, { fields })), 'Acme Red Shoe');
    // Without the mapping, the same file is no known shape, and says so with the fields it saw.
    await assert.rejects(loadExamples({ path: file }), (err: unknown) => {
      assert.ok(err instanceof DataError);
      assert.equal(err.line, 1);
      assert.equal(
        err.message,
        `${file}:1: no known shape: saw fields q, doc, positive_id, hard, qid; expected query+positive (pairs), query+pos (BGE), anchor+positive (sentence-transformers), or set data.fields`,
      );
      return true;
    });
  } finally {
    done();
  }
});

test('pairs: a common id field (positive_id, qid, …) is used without data.fields, and the run log says which', async () => {
  const { file, done } = tempFile('ids.jsonl', [
    j({ query: 'red shoe', positive: 'Acme Red Shoe', positive_id: 'sku-1', qid: 'Q1' }),
    j({ query: 'red shoe', positive: 'Zoom Red Shoe', positive_id: 77, qid: 'Q1' }),
    j({ query: 'hat', positive: { id: 'sku-3', text: 'Wool Hat' }, positive_id: 'sku-9' }),
  ]);
  const plain = tempFile('plain.jsonl', [j({ query: 'hat', positive: 'Wool Hat' })]);
  try {
    const { examples, report } = await loadExamples({ path: file, maxBadLineShare: 1 });
    assert.deepEqual(report.shape, {
      shape: 'pairs',
      how: 'detected at ids.jsonl:1 (item ids from "positive_id"; query ids from "qid")',
      name: 'query+positive pairs',
    });
    assert.deepEqual(
      examples.map((e) => [e.queryId, e.positive.id]),
      [
        ['Q1', 'sku-1'],
        ['Q1', '77'],
      ],
    );
    assert.deepEqual(report.badLines, [{ file, line: 3, reason: 'field "positive_id" ("sku-9") differs from positive.id ("sku-3")' }]);
    const plainReport = (await loadExamples({ path: plain.file })).report;
    assert.match(
      plainReport.shape!.how,
      /no item-id field \(item_id, positive_id, pos_id, …\): items are keyed by their text; data\.fields\.itemId names another field/,
    );
  } finally {
    done();
    plain.done();
  }
});

test('unknown shape: the first JSON object decides, after bad lines; it names the fields it saw with file:line', async () => {
  const { file, done } = tempFile('x.jsonl', ['{not json', j({ text: 'a review', label: 1 }), j({ query: 'q', positive: 'p' })]);
  try {
    await assert.rejects(
      loadExamples({ path: file, maxBadLineShare: 1 }),
      new RegExp(
        `^DataError: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2: no known shape: saw fields text, label; expected query\\+positive \\(pairs\\), query\\+pos \\(BGE\\), anchor\\+positive \\(sentence-transformers\\), or set data.fields$`,
      ),
    );
  } finally {
    done();
  }
  // A record that names a known field but lacks its partner is a bad line, not an unknown file.
  const parser = recordParser('jsonl');
  assert.throws(
    () => parser.parse(j({ query: 'q' }), { file: '/t.jsonl', line: 1 }),
    (e: unknown) => e instanceof LineFault && /missing field "positive" \(or "pos" for BGE\)/.test(e.message),
  );
  assert.equal(parser.shape, null, 'nothing decided yet');
  assert.equal(parser.parse(j({ query: 'q', pos: 'p' }), { file: '/t.jsonl', line: 2 }).length, 1);
  assert.equal(parser.shape, 'bge');
  assert.equal(parser.how, 'detected at t.jsonl:2');
  // A TSV file cannot take data.fields.
  const tsv = tempFile('p.tsv', ['a\tb']);
  try {
    await assert.rejects(
      loadExamples({ path: tsv.file, fields: { query: 'q', positive: 'p' }, label: 'data.train' }),
      /data\.fields maps JSONL fields; this is a TSV file \(data\.train\)/,
    );
  } finally {
    tsv.done();
  }
});

test('training says which shape it found in its log (the CLI and the run log print it)', async () => {
  const { file, done } = tempFile(
    'bge.jsonl',
    Array.from({ length: 40 }, (_, i) => j({ query: `query ${i}`, pos: [`item ${i}`, `item ${i} b`], neg: [`other ${i}`] })),
  );
  const runsRoot = mkdtempSync(join(tmpdir(), 'rl-formats-runs-'));
  try {
    const backend = await initBackend('wasm');
    const config = j({
      data: { train: file },
      model: { vocabBuckets: 1024, embeddingDim: 8, hiddenDim: 8, outputDim: 8 },
      training: { steps: 1, batchSize: 8, logEvery: 1, checkpointEvery: 1 },
      evaluation: { lexicalBaseline: false },
    });
    const logs: string[] = [];
    await runTraining({ loaded: parseConfigText(config, join(runsRoot, 'x.rlens.json')), backend, runsRoot, hooks: { onLog: (_l, m) => logs.push(m) } });
    const line = logs.find((m) => m.includes('training examples from'));
    assert.ok(line, logs.join('\n'));
    assert.match(line, /^80 training examples from .*bge\.jsonl \(jsonl: FlagEmbedding\/BGE query\+pos\+neg, detected at bge\.jsonl:1\), 0 bad lines/);
  } finally {
    done();
    rmSync(runsRoot, { recursive: true, force: true });
  }
});
