import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { gzipSync } from 'zlib';
import { initBackend, type BackendInfo } from '../src/core/backend';
import { loadConfig } from '../src/core/config';
import { DataError, loadExamples } from '../src/core/data';
import { StreamedExamples } from '../src/core/data/exampleStream';
import { indexCacheFiles, lineIndexOf } from '../src/core/data/lineIndex';
import { resolveDataFiles } from '../src/core/data/trainFiles';
import type { Example } from '../src/core/data/types';
import { readEvents, type StepEvent } from '../src/core/runs';
import { runTraining } from '../src/core/training/trainLoop';
import { makeTrainData } from '../bench/makeTrainData';
import { smallExperiment } from './helpers/smallExperiment';

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
});
