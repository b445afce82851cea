/**
 * Tower presets (model.preset, src/core/model/towers/): bad configs get located messages (queryHeads < 1, queryHeads
 * without dpsr, dpsr with shared towers); "dpsr" and "mgdspr" configs load, build and encode in one build; and a
 * DPSR config trains and evaluates end to end from the CLI on the bundled example: the checkpoint records preset and heads, the Faiss evaluation merges the heads'
 * hits, and its exact recall@10 agrees with a brute-force ranking of every corpus item by the attention score.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadConfig, parseConfigText } from '../../src/core/config';
import { configErrorOf as errorOf } from '../helpers/configProblems';
import { loadEvalData } from '../../src/core/eval/evalData';
import { loadCheckpoint } from '../../src/core/model/checkpoint';
import { encodeFeatures } from '../../src/core/model/encode';
import { initTwoTower } from '../../src/core/model/params';
import { queryFeaturizer, queryHeadsOf } from '../../src/core/model/towers';
import { featurize, featurizeOptions } from '../../src/core/model/featurize';
import { dpsrScores } from '../../src/core/model/towers/dpsr';
import { SHOP_CORPUS, SHOP_TEST, smallExperiment } from '../helpers/smallExperiment';

const REPO = path.resolve(__dirname, '../..');

test('config: queryHeads < 1, queryHeads without dpsr (dssm or mgdspr), dpsr with shared towers are located errors', () => {
  const zero = errorOf('{ "data": { "train": "x.jsonl" },\n  "model": { "preset": "dpsr", "queryHeads": 0 } }');
  assert.equal(zero.problems[0].path, 'model.queryHeads');
  assert.equal(zero.problems[0].line, 2);
  assert.match(zero.problems[0].message, />= 1/);
  const alone = errorOf('{ "data": { "train": "x.jsonl" },\n  "model": {\n    "queryHeads": 4 } }');
  assert.deepEqual([alone.problems[0].path, alone.problems[0].line], ['model.queryHeads', 3]);
  assert.match(alone.problems[0].message, /only with model\.preset "dpsr" \(preset is "dssm"\)/);
  const shared = errorOf('{ "data": { "train": "x.jsonl" }, "model": { "preset": "dpsr", "sharedTowers": true } }');
  assert.equal(shared.problems[0].path, 'model.sharedTowers');
  const mg = errorOf('{ "data": { "train": "x.jsonl" }, "model": { "preset": "mgdspr", "queryHeads": 2 } }');
  assert.deepEqual([mg.problems.length, mg.problems[0].path], [1, 'model.queryHeads']);
  assert.match(mg.problems[0].message, /only with model\.preset "dpsr" \(preset is "mgdspr"\)/);
  const ok = parseConfigText('{ "data": { "train": "x.jsonl" }, "model": { "preset": "dpsr", "queryHeads": 3 } }', 'exp.rlens.json');
  assert.deepEqual([ok.config.model.preset, ok.config.model.queryHeads], ['dpsr', 3]);
  assert.equal(parseConfigText('{ "data": { "train": "x.jsonl" } }', 'exp.rlens.json').config.model.preset, 'dssm');
});

test('one build: a "dpsr" config and an "mgdspr" config both load with no problem, build their query towers and encode', () => {
  const dims = '"vocabBuckets": 64, "embeddingDim": 4, "hiddenDim": 6, "outputDim": 3';
  const texts = ['red running shoes', 'usb cable', 'shoes'];
  const shapes = (['dpsr', 'mgdspr'] as const).map((preset) => {
    const extra = preset === 'dpsr' ? ', "queryHeads": 3' : '';
    const { config, warnings } = parseConfigText(`{ "data": { "train": "x.jsonl" }, "model": { "preset": "${preset}", ${dims}${extra} } }`, 'exp.rlens.json');
    assert.deepEqual(warnings, []);
    assert.equal(config.model.preset, preset);
    const params = initTwoTower(config.model, 1);
    const emb = encodeFeatures(params, 'query', texts.map(queryFeaturizer(config.model)));
    return [preset, queryHeadsOf(config.model), params.query.dense.w1.length / 6, emb.length / texts.length];
  });
  // dpsr: 3 heads of D = 3 on an E = 4 bag; mgdspr: one head on the 4E = 16 wide multi-granular input.
  assert.deepEqual(shapes, [
    ['dpsr', 3, 4, 9],
    ['mgdspr', 1, 16, 3],
  ]);
});

const exp = smallExperiment({ data: { test: SHOP_TEST, corpus: SHOP_CORPUS }, evaluation: { every: 0, lexicalBaseline: false } });
after(() => fs.rmSync(exp.dir, { recursive: true, force: true }));

function cli(args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(REPO, 'src/cli.ts'), ...args], { encoding: 'utf8', cwd: REPO });
  assert.equal(r.status, 0, `${args[0]}: ${r.stderr}\n${r.stdout}`);
  return r.stdout;
}

test('CLI: a DPSR config (3 heads) trains and evaluates; the merged Faiss search agrees with a brute-force attention-score ranking', async () => {
  const sets = ['--set', 'model.preset="dpsr"', '--set', 'model.queryHeads=3'];
  cli(['train', exp.config, ...sets]);
  const run = path.join(exp.runs, fs.readdirSync(exp.runs)[0]);
  const out = cli(['eval', run, '--checkpoint', 'last']);
  assert.match(out, /3 query heads \(model\.preset "dpsr"\): each head searched \d+ deep, the hits merged by the attention score/);
  const { params, info } = loadCheckpoint(path.join(run, 'checkpoints', 'last'));
  assert.deepEqual([info.model.preset, info.model.queryHeads], ['dpsr', 3]);
  assert.equal(params.query.dense.w2.length, 32 * 16 * 3, 'three output layers of the query tower');
  const entry = JSON.parse(fs.readFileSync(path.join(run, 'eval', 'metrics.json'), 'utf8')).evaluations.at(-1);
  const reported = entry.exact['recall@10'] as number;
  assert.ok(reported > 0.01, `trained: recall@10 ${reported} above 6× chance (10 of ${entry.corpus.count} items: 0.0016)`);

  // Brute force: every corpus item scored by s(q, v) = Σ_k softmax_k(c_k/β)·c_k, top 10, recall against the qrels.
  const loaded = loadConfig(path.join(run, 'config.json'));
  const data = await loadEvalData(loaded);
  const items = await data.corpus.items(Array.from({ length: data.corpus.count }, (_, i) => i));
  const model = loaded.config.model;
  const D = params.dims.out;
  const itemEmb = encodeFeatures(
    params,
    'item',
    items.map((it) => featurize(it.text, featurizeOptions(model, 'item'))),
  );
  const queryEmb = encodeFeatures(
    params,
    'query',
    data.queries.map((q) => featurize(q.text, featurizeOptions(model, 'query'))),
  );
  let sum = 0;
  let counted = 0;
  data.queries.forEach((q, qi) => {
    const relevant = data.qrels.get(q.id);
    if (!relevant || relevant.size === 0) return;
    const { s } = dpsrScores(queryEmb.subarray(qi * 3 * D, (qi + 1) * 3 * D), itemEmb, 1, 3, items.length, D);
    const top = Array.from(s.keys())
      .sort((a, b) => s[b] - s[a])
      .slice(0, 10);
    sum += top.filter((i) => relevant.has(items[i].id)).length / relevant.size;
    counted++;
  });
  const brute = sum / counted;
  console.log(`dpsr K=3: merged exact search recall@10 ${reported.toFixed(4)}, brute force ${brute.toFixed(4)}`);
  assert.ok(Math.abs(brute - reported) <= 0.005, `merged ${reported} vs brute force ${brute}`);
});
