import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { gzipSync } from 'zlib';
import { initBackend, type BackendInfo } from '../../src/core/backend';
import { loadConfig } from '../../src/core/config';
import { DataError, loadExamples } from '../../src/core/data';
import { StreamedExamples } from '../../src/core/data/exampleStream';
import { indexCacheFiles, lineIndexOf } from '../../src/core/data/lineIndex';
import { resolveDataFiles } from '../../src/core/data/trainFiles';
import type { Example } from '../../src/core/data/types';
import { readEvents, type StepEvent } from '../../src/core/runs';
import { runTraining } from '../../src/core/training/trainLoop';
import { makeTrainData } from '../../bench/makeTrainData';
import { smallExperiment } from '../helpers/smallExperiment';

let backend: BackendInfo;
before(async () => {
  backend = await initBackend('wasm');
});

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'rlens-stream-'));
}

/** A stream over `files` (paths or globs) with the given seed and buffer. */
async function streamOf(files: string | string[], seed: number, shuffleBuffer: number, maxBadLineShare = 0.05): Promise<StreamedExamples> {
  const resolved = await resolveDataFiles(files, { label: 'data.train' });
  return StreamedExamples.open(resolved, { seed, shuffleBuffer, maxBadLineShare, describe: String(files) });
}

async function epochIds(stream: StreamedExamples, epoch: number): Promise<string[]> {
  const ids: string[] = [];
  for await (const e of stream.epoch(epoch)) ids.push(e.queryId);
  return ids;
}

async function epochExamples(stream: StreamedExamples, epoch: number): Promise<Example[]> {
  const out: Example[] = [];
  for await (const e of stream.epoch(epoch)) out.push(e);
  return out;
}

test('streamed data larger than the shuffle buffer: every example once per epoch, a new order each epoch, reproducible with the seed', async () => {
  const dir = tempDir();
  const [file] = await makeTrainData(3000, path.join(dir, 'train.jsonl'));
  const expected = fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => (JSON.parse(l) as { query_id: string }).query_id)
    .sort();
  const stream = await streamOf(file, 7, 500);
  const epochs = [await epochIds(stream, 0), await epochIds(stream, 1), await epochIds(stream, 2)];
  for (const ids of epochs) {
    assert.equal(ids.length, 3000);
    assert.deepEqual([...ids].sort(), expected, 'each example exactly once');
  }
  assert.notDeepEqual(epochs[0], epochs[1]);
  assert.notDeepEqual(epochs[1], epochs[2]);
  // Not the file order, and mixed beyond one block: the first 256 drawn come from many blocks.
  const fileOrder = expected.slice();
  assert.notDeepEqual(epochs[0], fileOrder);
  const lineOf = new Map(
    fs
      .readFileSync(file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l, i) => [(JSON.parse(l) as { query_id: string }).query_id, i] as const),
  );
  const blocks = new Set(epochs[0].slice(0, 256).map((id) => Math.floor(lineOf.get(id)! / 256)));
  assert.ok(blocks.size >= 2, `first 256 examples from ${blocks.size} blocks`);
  await stream.close();
  const again = await streamOf(file, 7, 500);
  assert.deepEqual(await epochIds(again, 0), epochs[0], 'same seed, same order');
  assert.deepEqual(await epochIds(again, 1), epochs[1]);
  await again.close();
  const other = await streamOf(file, 8, 500);
  assert.notDeepEqual(await epochIds(other, 0), epochs[0], 'another seed, another order');
  await other.close();
  assert.equal(stream.examples, 3000);
  assert.equal(stream.exact, true);
});

test('one file or the same lines in three shards: the same examples in the same order', async () => {
  const dir = tempDir();
  // A file name with glob syntax that exists is that file, not a pattern.
  const [single] = await makeTrainData(1000, path.join(dir, '[all].jsonl'));
  const shards = await makeTrainData(1000, path.join(dir, 'part.jsonl'), { shards: 3 });
  assert.equal(shards.length, 3);
  const a = await streamOf(single, 3, 200);
  const b = await streamOf(path.join(dir, 'part-*.jsonl'), 3, 200);
  for (const epoch of [0, 1]) {
    const ea = await epochExamples(a, epoch);
    const eb = await epochExamples(b, epoch);
    assert.deepEqual(
      eb.map((e) => e.queryId),
      ea.map((e) => e.queryId),
    );
    // Each example keeps its own file and line: line k of the single file is a line of shard ⌈k/334⌉.
    const k = ea[5].source.line;
    assert.equal(eb[5].source.file, shards[Math.floor((k - 1) / 334)]);
    assert.equal(eb[5].source.line, ((k - 1) % 334) + 1);
  }
  await a.close();
  await b.close();
});

async function trainLosses(train: string | string[], dir: string): Promise<number[]> {
  const exp = smallExperiment({ data: { train, shuffleBuffer: 300 }, training: { steps: 20, logEvery: 1, batchSize: 64 } });
  const result = await runTraining({ loaded: loadConfig(exp.config), backend, runsRoot: path.join(dir, 'runs') });
  assert.equal(result.status, 'completed', result.error?.message);
  const steps = readEvents(path.join(result.runDir, 'events.jsonl')).events.filter((e): e is StepEvent => e.type === 'step');
  assert.equal(steps.length, 20);
  return steps.map((s) => s.loss!);
}

test('training on one file and on the same lines in shards gives identical losses for the first 20 steps', async () => {
  const dir = tempDir();
  const [single] = await makeTrainData(2000, path.join(dir, 'all.jsonl'));
  const shards = await makeTrainData(2000, path.join(dir, 'part.jsonl'), { shards: 3 });
  const one = await trainLosses(single, dir);
  const sharded = await trainLosses(shards, dir);
  assert.deepEqual(sharded, one);
  assert.ok(new Set(one).size > 10, 'the losses change from step to step');
  // A different split of the data (another seed's order) would give other losses: the test can fail.
  const reversed = await trainLosses([...shards].reverse(), dir);
  assert.notDeepEqual(reversed, one);
});

test('a gzip shard is read with the plain ones: every example once, training runs, loadExamples reads it too', async () => {
  const dir = tempDir();
  const shards = await makeTrainData(900, path.join(dir, 'part.jsonl'), { shards: 3 });
  const gz = `${shards[1]}.gz`;
  fs.writeFileSync(gz, gzipSync(fs.readFileSync(shards[1])));
  fs.rmSync(shards[1]);
  const files = [shards[0], gz, shards[2]];
  const stream = await streamOf(files, 1, 100);
  assert.equal(stream.indexes[1].gzip, true);
  assert.equal(stream.indexes[1].lines, 300);
  const seen = (await epochExamples(stream, 0)).map((e) => `${e.source.file}:${e.source.line}`);
  assert.equal(seen.length, 900);
  assert.equal(new Set(seen).size, 900);
  const fromGz = (await epochExamples(stream, 1)).filter((e) => e.source.file === gz);
  assert.equal(fromGz.length, 300);
  assert.ok(fromGz.every((e) => e.source.line >= 1 && e.source.line <= 300));
  await stream.close();
  const loaded = await loadExamples({ path: files, label: 'data.train' });
  assert.equal(loaded.examples.length, 900);
  // A shard that is not gzip data although named .gz: an error naming that shard.
  const broken = path.join(dir, 'broken.jsonl.gz');
  fs.writeFileSync(broken, 'not gzip\n');
  await assert.rejects(streamOf([shards[0], broken], 1, 100), (e: unknown) => {
    assert.ok(e instanceof DataError);
    assert.equal(e.file, broken);
    assert.match(e.message, /^cannot read .*broken\.jsonl\.gz: incorrect header check/);
    return true;
  });
  // One gzip TSV file on its own: format from the name under .gz, lines decompressed.
  const tsvGz = path.join(dir, 'pairs.tsv.gz');
  fs.writeFileSync(tsvGz, gzipSync('query\tpositive\nred shoes\tRed Running Shoes\nblue hat\tBlue Wool Hat\n'));
  const tsv = await loadExamples({ path: tsvGz });
  assert.equal(tsv.report.format, 'tsv');
  assert.deepEqual(
    tsv.examples.map((e) => [e.query, e.positive.text, e.source.line]),
    [
      ['red shoes', 'Red Running Shoes', 2],
      ['blue hat', 'Blue Wool Hat', 3],
    ],
  );
  const exp = smallExperiment({ data: { train: files, shuffleBuffer: 200 }, training: { steps: 30, logEvery: 10, batchSize: 64 } });
  const result = await runTraining({ loaded: loadConfig(exp.config), backend });
  assert.equal(result.status, 'completed', result.error?.message);
});

test('a corrupt line in shard 3 is reported with its shard file and line', async () => {
  const dir = tempDir();
  const shards = await makeTrainData(1000, path.join(dir, 'part.jsonl'), { shards: 5 });
  const lines = fs.readFileSync(shards[2], 'utf8').split('\n');
  lines[41] = '{"query": "cut off';
  fs.writeFileSync(shards[2], lines.join('\n'));
  // One bad line of 1000: training runs and logs it as file:line.
  const logs: string[] = [];
  const exp = smallExperiment({ data: { train: path.join(dir, 'part-*.jsonl'), shuffleBuffer: 2000 }, training: { steps: 5, logEvery: 5, batchSize: 64 } });
  const result = await runTraining({ loaded: loadConfig(exp.config), backend, hooks: { onLog: (_l, m) => logs.push(m) } });
  assert.equal(result.status, 'completed');
  assert.ok(
    logs.some((m) => m.startsWith(`${shards[2]}:42: invalid JSON`)),
    logs.join('\n'),
  );
  // Too many bad lines in shard 3 (data larger than the shuffle buffer): the epoch fails naming the first one.
  for (let i = 10; i < 80; i++) lines[i] = `not json ${i}`;
  fs.writeFileSync(shards[2], lines.join('\n'));
  const stream = await streamOf(path.join(dir, 'part-*.jsonl'), 1, 100);
  await assert.rejects(epochIds(stream, 0), (e: unknown) => {
    assert.ok(e instanceof DataError);
    assert.equal(e.file, shards[2]);
    assert.equal(e.line, 11);
    assert.match(e.message, /70 of 1000 lines \(7\.0%\).*more than data\.maxBadLineShare 5%; first: .*part-00003\.jsonl:11: invalid JSON/);
    return true;
  });
  await stream.close();
  // The same in training: the run fails when the epoch has been read, naming shard 3's line; the steps before stay logged.
  const failing = smallExperiment({ data: { train: path.join(dir, 'part-*.jsonl'), shuffleBuffer: 100 }, training: { steps: 40, logEvery: 1, batchSize: 64 } });
  const run = await runTraining({ loaded: loadConfig(failing.config), backend });
  assert.equal(run.status, 'failed');
  assert.match(run.error!.message, /part-00003\.jsonl:11: invalid JSON/);
  const logged = readEvents(path.join(run.runDir, 'events.jsonl')).events.filter((e) => e.type === 'step');
  assert.ok(logged.length >= 5 && logged.length < 40, `${logged.length} steps before the failure`);
});

test('the line index is cached beside the file and rebuilt when the file changes', async () => {
  const dir = tempDir();
  const [file] = await makeTrainData(1000, path.join(dir, 'train.jsonl'));
  const first = await lineIndexOf(file);
  assert.equal(first.built.fromCache, false);
  assert.equal(first.built.cacheFile, indexCacheFiles(file)[0]);
  assert.ok(fs.existsSync(`${file}.rlens-index`));
  assert.equal(first.lines, 1000);
  assert.equal(first.offsets.length, Math.ceil(1000 / 256) + 1);
  const cached = await lineIndexOf(file);
  assert.equal(cached.built.fromCache, true);
  assert.deepEqual(cached.offsets, first.offsets);
  // Appending lines changes size and mtime: the cache is not used, the new lines are counted.
  fs.appendFileSync(file, '\n{"query": "new", "positive": "new item"}\n');
  const rebuilt = await lineIndexOf(file);
  assert.equal(rebuilt.built.fromCache, false);
  assert.equal(rebuilt.lines, 1002);
  assert.equal(rebuilt.nonBlank, 1001);
  // Same size, other mtime (a line rewritten in place): rebuilt as well.
  const text = fs.readFileSync(file, 'utf8');
  fs.writeFileSync(file, text.replace('"query": "new"', '"query": "old"'));
  fs.utimesSync(file, new Date(), new Date(Date.now() + 5000));
  assert.equal((await lineIndexOf(file)).built.fromCache, false);
  // A stream refuses a file that changed after it was indexed.
  const stream = await streamOf(file, 1, 100);
  fs.appendFileSync(file, '{"query": "later", "positive": "x"}\n');
  await assert.rejects(epochIds(stream, 0), /changed while training read it/);
  await stream.close();
  // A file cut short while an epoch reads it (after the epoch's check): the next block read past its end says so.
  const cut = await streamOf(file, 1, 10);
  const it = cut.epoch(0)[Symbol.asyncIterator]();
  assert.equal((await it.next()).done, false);
  fs.truncateSync(file, 100);
  await assert.rejects(
    (async () => {
      while (!(await it.next()).done);
    })(),
    /is shorter than when it was indexed; start the run again/,
  );
  await cut.close();
});

/** BGE lines `query s-i`, `1 + i % 3` positives each and one negative: the pairs they hold, as "queryId|positive text". */
function bgeShard(file: string, shard: number, lines: number): string[] {
  const pairs: string[] = [];
  const text: string[] = [];
  for (let i = 0; i < lines; i++) {
    const pos = Array.from({ length: 1 + (i % 3) }, (_, p) => `item ${shard} ${i} ${p}`);
    text.push(JSON.stringify({ query: `query ${shard} ${i}`, pos, neg: [`other ${shard} ${i}`], pos_scores: pos.map(() => 1) }));
    for (const p of pos) pairs.push(`${path.basename(file).replace(/\.gz$/, '')}:${i + 1}|${p}`);
  }
  const body = `${text.join('\n')}\n`;
  fs.writeFileSync(file, file.endsWith('.gz') ? gzipSync(body) : body);
  return pairs;
}

test('sharded BGE data streams through the formats parser: the shape detected per shard and said, one pair per positive, bad lines at shard:line', async () => {
  const dir = tempDir();
  const files = [path.join(dir, 'part-1.jsonl'), path.join(dir, 'part-2.jsonl'), path.join(dir, 'part-10.jsonl.gz')];
  const expected = files.flatMap((f, s) => bgeShard(f, s, 100));
  assert.equal(expected.length, 3 * (34 + 33 * 2 + 33 * 3), '100 lines of 1, 2, 3 positives per shard');
  // One bad line in shard 2: a record without a positive.
  const lines = fs.readFileSync(files[1], 'utf8').split('\n');
  lines[9] = JSON.stringify({ query: 'query 1 9', pos: [], neg: ['x'] });
  fs.writeFileSync(files[1], lines.join('\n'));
  const lost = 1 + (9 % 3);
  const shape = { shape: 'bge', how: 'detected at part-1.jsonl:1; the same in 3 files', name: 'FlagEmbedding/BGE query+pos+neg' };

  const read: { examples: number; badLines: string[] }[] = [];
  const stream = await StreamedExamples.open(await resolveDataFiles(path.join(dir, 'part-*'), { label: 'data.train' }), {
    seed: 5,
    shuffleBuffer: 50,
    maxBadLineShare: 0.05,
    describe: 'part-*',
    onEpochRead: (c) => read.push({ examples: c.examples, badLines: c.badLines.map((b) => `${path.basename(b.file)}:${b.line}: ${b.reason}`) }),
  });
  assert.deepEqual(stream.shape, shape, 'decided when the shards are opened, before any epoch');
  assert.equal(stream.examples, 300, 'before the first epoch: the data lines of the index');
  const pairs = (await epochExamples(stream, 0)).map((e) => `${path.basename(e.source.file).replace(/\.gz$/, '')}:${e.source.line}|${e.positive.text}`);
  assert.equal(pairs.length, expected.length - lost);
  assert.deepEqual([...pairs].sort(), expected.filter((p) => !p.startsWith('part-2.jsonl:10|')).sort());
  assert.deepEqual(read, [{ examples: expected.length - lost, badLines: ['part-2.jsonl:10: field "pos" holds no positive'] }]);
  assert.equal(stream.examples, expected.length - lost, 'after the first epoch: the pairs read');
  await stream.close();

  // The in-memory reader of a shard list uses the same parsers: the same pairs and shape.
  const loaded = await loadExamples({ path: files, label: 'data.train' });
  assert.equal(loaded.examples.length, expected.length - lost);
  assert.deepEqual(loaded.report.shape, shape);
  assert.equal(loaded.report.files, 3);

  // Training on the glob (larger than the shuffle buffer) names the shape at the start and counts the pairs after epoch 1.
  const logs: string[] = [];
  const exp = smallExperiment({ data: { train: path.join(dir, 'part-*'), shuffleBuffer: 100 }, training: { steps: 12, logEvery: 4, batchSize: 64 } });
  const result = await runTraining({ loaded: loadConfig(exp.config), backend, hooks: { onLog: (_l, m) => logs.push(m) } });
  assert.equal(result.status, 'completed', result.error?.message);
  assert.ok(
    logs.some((m) =>
      /^~300 training examples .* \(jsonl: FlagEmbedding\/BGE query\+pos\+neg, detected at part-1\.jsonl:1; the same in 3 files, 3 files, streamed/.test(m),
    ),
    logs.join('\n'),
  );
  assert.ok(logs.includes(`epoch 1 read: ${expected.length - lost} training examples from 300 lines, 1 bad lines`), logs.join('\n'));
  assert.ok(logs.includes(`${files[1]}:10: field "pos" holds no positive`), logs.join('\n'));
});

test('sharded data with data.fields, MS MARCO TSV shards with headers, and a shard of no known shape', async () => {
  const dir = tempDir();
  // data.fields over two shards (one gzip): every positive of a list is a pair, its id from the id list.
  const mapped = [path.join(dir, 'm-1.jsonl'), path.join(dir, 'm-2.jsonl.gz')];
  mapped.forEach((f, s) => {
    const body = Array.from({ length: 30 }, (_, i) =>
      JSON.stringify({ q: `question ${s} ${i}`, docs: [`doc ${s} ${i} a`, `doc ${s} ${i} b`], ids: [`d${s}-${i}a`, `d${s}-${i}b`] }),
    );
    const text = `${body.join('\n')}\n`;
    fs.writeFileSync(f, f.endsWith('.gz') ? gzipSync(text) : text);
  });
  const fields = { query: 'q', positive: 'docs', itemId: 'ids' };
  const stream = await StreamedExamples.open(await resolveDataFiles(mapped, {}), { seed: 1, shuffleBuffer: 10, maxBadLineShare: 0, describe: 'm', fields });
  assert.deepEqual(stream.shape, { shape: 'fields', how: 'data.fields; the same in 2 files', name: 'data.fields mapping' });
  const ids = (await epochExamples(stream, 0)).map((e) => e.positive.id).sort();
  assert.equal(ids.length, 120);
  assert.ok(ids.includes('d1-29b') && ids.includes('d0-0a'));
  await stream.close();
  // The same mapping cannot read a TSV shard: an error naming it.
  const tsvShard = path.join(dir, 'x.tsv');
  fs.writeFileSync(tsvShard, 'a\tb\n');
  await assert.rejects(
    loadExamples({ path: [mapped[0], tsvShard], fields }),
    (e: unknown) => e instanceof DataError && e.file === tsvShard && /data\.fields maps JSONL fields; this is a TSV file/.test(e.message),
  );

  // MS MARCO triples in TSV shards, each with its header (skipped, not counted).
  const triples = [path.join(dir, 't-1.tsv'), path.join(dir, 't-2.tsv')];
  triples.forEach((f, s) =>
    fs.writeFileSync(
      f,
      ['query\tpositive\tnegative', ...Array.from({ length: 20 }, (_, i) => `q ${s} ${i}\tgood doc ${s} ${i}\tbad doc ${s} ${i}`)].join('\n'),
    ),
  );
  const counted: number[] = [];
  const tsv = await StreamedExamples.open(await resolveDataFiles(triples, {}), {
    seed: 1,
    shuffleBuffer: 10,
    maxBadLineShare: 0,
    describe: 't',
    onEpochRead: (c) => counted.push(c.linesRead, c.badCount),
  });
  assert.deepEqual(tsv.shape, {
    shape: 'msmarco-triples',
    how: 'detected from the header line; the same in 2 files',
    name: 'MS MARCO triples TSV query, positive, negative',
  });
  const examples = await epochExamples(tsv, 0);
  assert.equal(examples.length, 40);
  assert.ok(examples.every((e) => e.negatives.length === 1 && e.negatives[0].text.startsWith('bad doc')));
  assert.deepEqual(counted, [40, 0], 'the headers are neither data nor bad lines');
  await tsv.close();

  // A bad first line decides nothing: the first good line read decides the shape, while the epoch is read.
  const late = path.join(dir, 'late.jsonl');
  fs.writeFileSync(late, ['{"query": "cut off', JSON.stringify({ query: 'q', pos: ['a', 'b'] }), JSON.stringify({ query: 'r', pos: ['c'] })].join('\n'));
  const lateStream = await StreamedExamples.open(await resolveDataFiles(late, {}), { seed: 1, shuffleBuffer: 10, maxBadLineShare: 1, describe: 'late' });
  assert.equal(lateStream.shape, undefined);
  assert.equal((await epochExamples(lateStream, 0)).length, 3);
  assert.deepEqual(lateStream.shape, { shape: 'bge', how: 'detected at late.jsonl:2', name: 'FlagEmbedding/BGE query+pos+neg' });
  await lateStream.close();

  // A shard whose first record has no known shape stops the stream when it is opened, at its file:line.
  const good = path.join(dir, 'good.jsonl');
  fs.writeFileSync(good, '{"query": "q", "positive": "p"}\n');
  const odd = path.join(dir, 'odd.jsonl');
  fs.writeFileSync(odd, '\n{"text": "t", "label": 1}\n');
  await assert.rejects(
    StreamedExamples.open(await resolveDataFiles([good, odd], {}), { seed: 1, shuffleBuffer: 10, maxBadLineShare: 0, describe: 'x' }),
    (e: unknown) => e instanceof DataError && e.file === odd && e.line === 2 && /odd\.jsonl:2: no known shape: saw fields text, label/.test(e.message),
  );
});

test('a shard that disappears while an epoch reads it: a DataError naming the shard (the Python reader says the same)', async () => {
  const dir = tempDir();
  await makeTrainData(600, path.join(dir, 'part-1.jsonl'));
  await makeTrainData(600, path.join(dir, 'part-2.jsonl'));
  const stream = await streamOf(path.join(dir, 'part-*.jsonl'), 3, 1);
  const it = stream.epoch(0)[Symbol.asyncIterator]();
  const first = (await it.next()).value as Example;
  // The first block read is in one shard; the other one is not opened yet. Delete it.
  const other = [path.join(dir, 'part-1.jsonl'), path.join(dir, 'part-2.jsonl')].find((f) => f !== first.source.file) as string;
  fs.unlinkSync(other);
  await assert.rejects(
    (async () => {
      while (!(await it.next()).done);
    })(),
    (err: Error) => err instanceof DataError && err.message === `${other} disappeared while training read it (deleted or moved); start the run again`,
  );
  await stream.close();
  // Gone before an epoch starts: the same message.
  await assert.rejects(epochIds(stream, 1), new RegExp(`${other.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} disappeared while training read it`));
});
