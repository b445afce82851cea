/**
 * Full item texts of the failure detail, read from their source lines without reading whole files:
 * the line index's block for plain files, a sequential read for gzip, small LRU caches.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { gzipSync } from 'zlib';
import { BLOCK_LINES } from '../../src/core/data/lineIndex';
import { LineLookup } from '../../src/core/data/lineLookup';
import type { FailureRecord } from '../../src/core/eval/types';
import { ItemTextReader, runDataReading } from '../../src/extension/failures/itemTexts';
import type { DataReading } from '../../src/core/data/itemText';
import { loadExamples } from '../../src/core/data/load';

/** 100,000 corpus lines of ≈ 230 bytes: a 23 MB file, read whole by the old reader. */
const LINES = 100_000;
const textOf = (i: number, edition = '') => `Item ${i}${edition} ${'lorem ipsum dolor sit amet '.repeat(8)}${i}`;
const corpusLine = (i: number, edition = '') => JSON.stringify({ id: `d${i}`, text: textOf(i, edition) });

function tempDir(): { dir: string; done: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rlens-itemtexts-'));
  return { dir, done: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

function writeCorpus(file: string, edit?: { line: number; edition: string }): void {
  const lines: string[] = [];
  for (let i = 1; i <= LINES; i++) lines.push(corpusLine(i, edit?.line === i ? edit.edition : ''));
  const text = lines.join('\n') + '\n';
  fs.writeFileSync(file, file.endsWith('.gz') ? gzipSync(text) : text);
}

/** A failure record whose positive and top-k items are snippets of the given corpus lines. */
function recordOf(file: string, lines: number[]): FailureRecord {
  const item = (line: number) => ({ itemId: `d${line}`, text: `${textOf(line).slice(0, 59)}…`, snippet: true, source: { file, line } });
  const [first, ...rest] = lines;
  return {
    v: 1,
    step: 10,
    queryId: 'q1',
    query: 'item',
    source: { file: '/data/test.jsonl', line: 1 },
    rank: null,
    rankCutoff: 100,
    positives: [{ ...item(first), rank: null, score: null }],
    topK: rest.map((l) => ({ ...item(l), score: 0.5, simToPositive: 0.4, relevant: false })),
    label: 'ranked-low',
    labelReason: 'test',
    severity: 1,
  };
}

test('full texts of a 23 MB plain file come from the blocks of their lines only, cached, and re-read when the file changes', async () => {
  const { dir, done } = tempDir();
  try {
    const file = path.join(dir, 'corpus.jsonl');
    writeCorpus(file);
    const size = fs.statSync(file).size;
    // Lines in five different blocks: the first line, the last of block 0, the first of block 1, one deep inside, the last line.
    const wanted = [1, BLOCK_LINES, BLOCK_LINES + 1, 77_777, LINES];
    const reader = new ItemTextReader();
    const full = await reader.withFullTexts(recordOf(file, wanted));
    assert.deepEqual(
      [...full.positives, ...full.topK].map((it) => [it.source.line, it.text, it.snippet]),
      wanted.map((l) => [l, textOf(l), false]),
    );
    const blocks = new Set(wanted.map((l) => Math.floor((l - 1) / BLOCK_LINES))).size;
    assert.equal(blocks, 4);
    assert.equal(reader.lookup.stats.blockReads, blocks, 'one read per block holding a wanted line');
    assert.ok(reader.lookup.stats.blockBytes < size / 100, `${reader.lookup.stats.blockBytes} of ${size} bytes read`);
    // The same lines again: from the block cache, no read.
    await reader.withFullTexts(recordOf(file, wanted));
    assert.equal(reader.lookup.stats.blockReads, blocks);
    assert.equal(reader.lookup.stats.indexes, 1);

    // The file changes (line 77,777 rewritten, so size and mtime differ): indexed and read again, the new text shown.
    writeCorpus(file, { line: 77_777, edition: ' (2nd edition)' });
    const again = await reader.withFullTexts(recordOf(file, [77_777, 3]));
    assert.deepEqual(
      [...again.positives, ...again.topK].map((it) => it.text),
      [textOf(77_777, ' (2nd edition)'), textOf(3)],
    );
    assert.equal(reader.lookup.stats.indexes, 2);
    assert.equal(reader.lookup.stats.blockReads, blocks + 2);

    // A line past the end and an item no longer on its line keep their snippets; a missing file too.
    const gone = recordOf(file, [LINES + 5, 10]);
    gone.topK[0].itemId = 'd11';
    const kept = await reader.withFullTexts(gone);
    assert.ok([...kept.positives, ...kept.topK].every((it) => it.snippet));
    assert.equal(await reader.text(path.join(dir, 'missing.jsonl'), 1, 'd1'), null);
  } finally {
    done();
  }
});

test('the block cache keeps at most maxBlocks blocks; lines and the first data line of a plain file', async () => {
  const { dir, done } = tempDir();
  try {
    const file = path.join(dir, 'corpus.jsonl');
    writeCorpus(file);
    const lookup = new LineLookup({ maxBlocks: 2 });
    const wanted = [5, 3_000, 30_000, 60_000, 99_999];
    const lines = await lookup.lines(file, wanted);
    assert.deepEqual(
      wanted.map((l) => lines.get(l)),
      wanted.map((l) => corpusLine(l)),
    );
    assert.equal(lookup.cachedBlocks, 2);
    assert.equal(await lookup.line(file, LINES + 1), null);

    const blankFirst = path.join(dir, 'blank-first.tsv');
    fs.writeFileSync(blankFirst, '\ufeff\n  \r\nquery\tpositive\r\nred shoe\tRed Shoe\r\n');
    assert.deepEqual(await lookup.firstDataLine(blankFirst), { text: 'query\tpositive', line: 3 });
    assert.equal(await lookup.line(blankFirst, 4), 'red shoe\tRed Shoe', 'the \\r of a CRLF line is removed');
  } finally {
    done();
  }
});

test('a gzip file is read sequentially up to the last wanted line, and nothing of it is kept', async () => {
  const { dir, done } = tempDir();
  try {
    const file = path.join(dir, 'corpus.jsonl.gz');
    writeCorpus(file);
    const reader = new ItemTextReader();
    const wanted = [2, 40_000, 12];
    const full = await reader.withFullTexts(recordOf(file, wanted));
    assert.deepEqual(
      [...full.positives, ...full.topK].map((it) => [it.text, it.snippet]),
      wanted.map((l) => [textOf(l), false]),
    );
    assert.equal(reader.lookup.stats.gzipReads, 2, "one pass for all lines of the record, one for the first line (the file's record parser)");
    assert.equal(reader.lookup.stats.blockReads, 0);
    assert.equal(reader.lookup.cachedBlocks, 0);
    assert.deepEqual(await reader.lookup.firstDataLine(file), { text: corpusLine(1), line: 1 });
    writeCorpus(file, { line: 12, edition: ' (gz edit)' });
    assert.equal(await reader.text(file, 12, 'd12'), textOf(12, ' (gz edit)'));
  } finally {
    done();
  }
});

/** Every item (positive and negatives) of every example the loader reads from `file`, with its expected text. */
async function loadedItems(file: string, reading: DataReading): Promise<{ id: string; text: string; source: { file: string; line: number } }[]> {
  const { examples } = await loadExamples({ path: file, ...reading });
  return examples.flatMap((e) => [e.positive, ...e.negatives]);
}

test("full texts of every supported shape are read back through the run's record parser (data.format, data.fields)", async () => {
  const { dir, done } = tempDir();
  try {
    const j = (o: unknown) => JSON.stringify(o);
    const long = (s: string) => `${s} ${'with a description longer than a snippet '.repeat(3)}`;
    const cases: { name: string; lines: string[]; reading: DataReading; gzip?: boolean }[] = [
      {
        name: 'custom.jsonl',
        reading: { fields: { query: 'q', positive: 'doc', itemId: 'positive_id', negatives: 'hard' } },
        lines: [
          j({ q: 'red shoe', doc: long('Acme Red Shoe'), positive_id: 'sku-1', hard: [long('Blue Hat'), { id: 'n2', text: long('Green Sock') }] }),
          '',
          j({ q: 'wool hat', doc: { id: 'sku-9', text: long('Wool Beanie') } }),
        ],
      },
      {
        name: 'triples.tsv.gz',
        gzip: true,
        reading: {},
        lines: ['query\tpositive\tnegative', `red shoe\t${long('Acme Red Shoe')}\t${long('Blue Hat')}`, `dog\t${long('A dog barks')}\tCat`],
      },
      {
        name: 'triples.tsv',
        reading: { format: 'msmarco' },
        lines: [`dog\t${long('A dog barks')}\tCat`, `red shoe\t${long('Acme Red Shoe')}\t${long('Blue Hat')}`],
      },
      {
        name: 'bge.jsonl',
        reading: {},
        lines: [j({ query: 'shoe', pos: [long('Acme Runner'), long('Zoom Trainer')], neg: [long('Sock')] })],
      },
      {
        name: 'st.jsonl',
        reading: { format: 'sentence-transformers' },
        lines: [j({ anchor: 'egg', positive: long('Boil eggs'), negative_1: long('Fry an egg'), negative_2: long('Egg cup') })],
      },
    ];
    for (const c of cases) {
      const file = path.join(dir, c.name);
      const text = c.lines.join('\n') + '\n';
      fs.writeFileSync(file, c.gzip ? gzipSync(text) : text);
      const items = await loadedItems(file, c.reading);
      assert.ok(items.length >= 3, `${c.name}: ${items.length} items`);
      const reader = new ItemTextReader();
      for (const it of items) {
        assert.equal(await reader.text(file, it.source.line, it.id, c.reading), it.text, `${c.name}:${it.source.line} ${it.id}`);
      }
      // The detail of a failure whose items are these snippets gets their full texts.
      const snippet = (it: (typeof items)[number]) => ({ itemId: it.id, text: it.text.slice(0, 20) + '…', snippet: true, source: it.source });
      const r = recordOf(file, [1]);
      r.positives = [{ ...snippet(items[0]), rank: null, score: null }];
      r.topK = items.slice(1).map((it) => ({ ...snippet(it), score: 0.5, simToPositive: 0.4, relevant: false }));
      const full = await reader.withFullTexts(r, c.reading);
      assert.deepEqual(
        [...full.positives, ...full.topK].map((it) => [it.text, it.snippet]),
        items.map((it) => [it.text, false]),
        c.name,
      );
    }
    // Without the run's reading, a data.fields file and an MS MARCO file whose negative is one word show snippets:
    // the mapping is unknown, and "Cat" in column 3 reads as an item id.
    const reader = new ItemTextReader();
    const custom = await loadedItems(path.join(dir, 'custom.jsonl'), cases[0].reading);
    assert.equal(await reader.text(path.join(dir, 'custom.jsonl'), 1, 'sku-1'), null);
    assert.equal(custom[0].id, 'sku-1');
    const triples = await loadedItems(path.join(dir, 'triples.tsv'), { format: 'msmarco' });
    assert.equal(await reader.text(path.join(dir, 'triples.tsv'), 1, triples[1].id), null);
  } finally {
    done();
  }
});

test("a run's data reading comes from its config.json: data.format and data.fields, {} when unreadable", () => {
  const { dir, done } = tempDir();
  try {
    assert.deepEqual(runDataReading(dir), {});
    const fields = { query: 'q', positive: 'doc', itemId: 'positive_id' };
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ name: 'x', data: { train: 't.jsonl', format: 'jsonl', fields } }));
    assert.deepEqual(runDataReading(dir), { format: 'jsonl', fields });
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ data: { train: 't.tsv', format: 'msmarco' } }));
    assert.deepEqual(runDataReading(dir), { format: 'msmarco' });
    fs.writeFileSync(path.join(dir, 'config.json'), '{ not json');
    assert.deepEqual(runDataReading(dir), {});
  } finally {
    done();
  }
});
