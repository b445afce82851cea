import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { inspectData, newExperimentText, writeNewExperiment } from '../../src/core/config/newExperiment';
import { loadConfig } from '../../src/core/config';
import { DataError } from '../../src/core/data/errors';
import { shopBeirFolder } from '../helpers/shopBeir';
import { SHOP_TRAIN } from '../helpers/smallExperiment';

const REPO = path.resolve(__dirname, '../..');
const cli = (...args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', path.join(REPO, 'src/cli.ts'), ...args], { cwd: REPO, encoding: 'utf8', timeout: 300_000 });

function tmp(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'rlens-new-'));
}

test('inspectData names a BEIR folder with its splits, and a pairs file with its shape and id field', async (t) => {
  const dir = tmp();
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const beir = shopBeirFolder(dir, { train: 50, test: 20 });
  const train = await inspectData(beir, 'train');
  assert.equal(train.format, 'beir');
  assert.deepEqual(train.splits, ['test', 'train']);
  assert.match(train.description, /BEIR folder \(corpus\.jsonl, queries\.jsonl, qrels\/train\.tsv; splits: test, train\)/);
  const pairs = path.join(dir, 'pairs.jsonl');
  fs.writeFileSync(pairs, '\n{"query":"red shoes","positive":"Red Shoe 42","positive_id":"p1"}\n');
  const found = await inspectData(pairs, 'train');
  assert.equal(found.format, 'jsonl');
  assert.match(found.description, /^JSONL: query\+positive pairs, detected at pairs\.jsonl:2 \(item ids from "positive_id"\)/);
  const shop = await inspectData(SHOP_TRAIN, 'train');
  assert.match(shop.description, /item ids from "item_id"; query ids from "query_id"/);
});

test('inspectData refuses data it cannot use, naming the file (and line)', async (t) => {
  const dir = tmp();
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const beir = shopBeirFolder(dir, { train: 5, test: 5 });
  fs.rmSync(path.join(beir, 'qrels', 'test.tsv'));
  await assert.rejects(inspectData(beir, 'test'), (e: Error) => e instanceof DataError && /without qrels\/test\.tsv \(splits: train\)/.test(e.message));
  const bad = path.join(dir, 'bad.jsonl');
  fs.writeFileSync(bad, '{"question":"x","answer":"y"}\n');
  await assert.rejects(inspectData(bad, 'train'), (e: Error) => e instanceof DataError && e.message.includes('bad.jsonl'));
  const corpus = path.join(dir, 'corpus.jsonl');
  fs.writeFileSync(corpus, '{"name":"x"}\n');
  await assert.rejects(inspectData(corpus, 'corpus'), /corpus\.jsonl:1: not a corpus line/);
  await assert.rejects(inspectData(path.join(dir, 'nope.jsonl'), 'train'), /data file not found/);
});

test('the written config loads with every data path relative to it, and is never overwritten silently', async (t) => {
  const dir = tmp();
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const beir = shopBeirFolder(dir, { train: 50, test: 20 });
  const file = path.join(dir, 'exp', 'mine.rlens.json');
  const text = newExperimentText({
    name: 'mine',
    configDir: path.dirname(file),
    train: await inspectData(beir, 'train'),
    test: await inspectData(beir, 'test'),
    steps: 12,
  });
  writeNewExperiment(file, text);
  const loaded = loadConfig(file);
  assert.equal(loaded.config.data.train, '../shop-beir');
  assert.equal(loaded.config.data.test, '../shop-beir');
  assert.equal(loaded.config.training.steps, 12);
  assert.throws(() => writeNewExperiment(file, '{}'), /exists already/);
  assert.equal(fs.readFileSync(file, 'utf8'), text);
});

test('retrieval-lens new writes a config for a BEIR folder that trains as it is; a second new refuses to overwrite it', (t) => {
  const dir = tmp();
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const beir = shopBeirFolder(dir, { train: 300, test: 30 });
  const config = path.join(dir, 'beir-test.rlens.json');
  const r = cli('new', '--train', beir, '--name', 'beir-test', '--out', config, '--steps', '4');
  assert.equal(r.status, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /train: .*shop-beir\n\s+BEIR folder \(corpus\.jsonl, queries\.jsonl, qrels\/train\.tsv/);
  assert.match(r.stdout, /test: .*\n\s+BEIR folder \(corpus\.jsonl, queries\.jsonl, qrels\/test\.tsv/);
  const text = fs.readFileSync(config, 'utf8');
  const again = cli('new', '--train', beir, '--out', config);
  assert.equal(again.status, 2);
  assert.match(again.stdout, /exists already/);
  assert.equal(fs.readFileSync(config, 'utf8'), text);
  const train = cli('train', config, '--set', 'backend="wasm"', '--set', 'model.vocabBuckets=4096', '--set', 'evaluation.every=0');
  assert.equal(train.status, 0, train.stderr + train.stdout);
  const runs = fs.readdirSync(path.join(dir, 'runs'));
  assert.equal(runs.length, 1);
  const meta = JSON.parse(fs.readFileSync(path.join(dir, 'runs', runs[0], 'meta.json'), 'utf8')) as { status: string; step: number };
  assert.equal(meta.status, 'completed');
  assert.equal(meta.step, 4);
});
