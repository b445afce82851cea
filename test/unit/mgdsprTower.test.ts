/**
 * The MGDSPR query tower (model.preset "mgdspr", src/core/model/towers/mgdspr.ts): packed multi-granular features,
 * the built-in trainer's hand-written gradients against tfjs autodiff of the same tower written with tf ops, the
 * encoder against that forward, checkpoints (the preset recorded, old ones read as DSSM), config errors at their
 * keys, the parity fixture shared with PyTorch (python/tests/test_mgdspr_tower.py) still what the code computes, and
 * the ablation variants on the MGDSPR tower.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { parseConfigText } from '../../src/core/config';
import { configErrorOf } from '../helpers/configProblems';
import { ablationCells, meanStd } from '../../src/core/experiments/summary';
import type { AblationFile } from '../../src/core/experiments/sweepFile';
import { parseVariants, variantOverrides } from '../../src/core/experiments/sweepPlan';
import { CheckpointError, loadCheckpoint, saveCheckpoint } from '../../src/core/model/checkpoint';
import { encodeFeatures } from '../../src/core/model/encode';
import { featurize, featurizeOptions, fnv1a } from '../../src/core/model/featurize';
import { initTwoTower, type TwoTowerParams } from '../../src/core/model/params';
import { DENSE_KEYS, denseTensors, towerForward } from '../../src/core/model/towerForward';
import { queryFeaturizer } from '../../src/core/model/towers';
import { granules } from '../../src/core/model/towers/mgdspr';
import { buildBatch } from '../../src/core/training/batcher';
import type { FeaturizedExample } from '../../src/core/training/featurizedData';
import { TwoTowerTrainer } from '../../src/core/training/trainStep';
import { MGDSPR_ITEMS, MGDSPR_MODEL, MGDSPR_QUERIES, MGDSPR_VARIANTS, mgdsprFixture } from '../fixtures/parity/mgdsprSide';
import { referenceLoss } from '../reference/tfjsLoss';

before(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

function assertAllClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, msg: string): void {
  assert.equal(actual.length, expected.length, `${msg}: length`);
  for (let i = 0; i < expected.length; i++) {
    const err = Math.abs(actual[i] - expected[i]);
    assert.ok(err <= tol * Math.max(1, Math.abs(expected[i])), `${msg}[${i}]: got ${actual[i]}, expected ${expected[i]} (err ${err})`);
  }
}

/** Independent reference: mean of gathered rows per bag (zeros when empty), with tf ops. */
function meanRows(table: tf.Tensor2D, bags: ArrayLike<number>[], E: number): tf.Tensor2D {
  return tf.stack(bags.map((b) => (b.length > 0 ? tf.mean(tf.gather(table, tf.tensor1d(Array.from(b), 'int32')), 0) : tf.zeros([E])))) as tf.Tensor2D;
}

/** The MGDSPR query tower written with tf ops from the packed layout [n_u, n_b, u…, b…, s…]. */
function referenceQuery(table: tf.Tensor2D, feats: Int32Array[], w: ReturnType<typeof denseTensors>, E: number): tf.Tensor2D {
  const parts = [0, 1, 2].map((g) =>
    meanRows(
      table,
      feats.map((f) => {
        const [nu, nb] = [f[0], f[1]];
        return g === 0 ? f.slice(2, 2 + nu) : g === 1 ? f.slice(2 + nu, 2 + nu + nb) : f.slice(2 + nu + nb);
      }),
      E,
    ),
  );
  return towerForward(tf.concat([...parts, tf.addN(parts)], 1), w);
}

function fixtureBatch() {
  const fix = mgdsprFixture();
  const src = { file: '-', line: 1 };
  const data = fix.queries.map((query, i) => ({
    example: { queryId: `q${i}`, query, positive: { id: `i${i}`, text: fix.items[i], source: src }, negatives: [], source: src },
    query: Int32Array.from(fix.queryFeats[i]),
    positive: Int32Array.from(fix.itemFeats[i]),
    negatives: [],
  })) as unknown as FeaturizedExample[];
  return buildBatch(
    data,
    data.map((_, i) => i),
    0,
  );
}

test('mgdspr features: [n_u, n_b, unigrams, bigrams, whole-query DSSM features], capped; a bad header is refused', () => {
  const model = { ...MGDSPR_MODEL, maxQueryTokens: 4 };
  const q = queryFeaturizer(model);
  const f = q('Red summer dress');
  const [u, b, s] = granules(f);
  const V = model.vocabBuckets;
  assert.deepEqual(
    Array.from(u),
    ['red', 'summer', 'dress'].map((w) => fnv1a('w:' + w) % V),
  );
  assert.deepEqual(
    Array.from(b),
    ['red summer', 'summer dress'].map((w) => fnv1a('b:' + w) % V),
  );
  assert.deepEqual(Array.from(s), Array.from(featurize('Red summer dress', featurizeOptions(model, 'query'))));
  assert.deepEqual(
    granules(q('one')).map((g) => g.length),
    [1, 0, 4],
  );
  assert.deepEqual(
    granules(q('a b c d e f g')).map((g) => g.length),
    [4, 4, 4],
  );
  assert.deepEqual(
    granules(q('')).map((g) => g.length),
    [0, 0, 0],
  );
  assert.throws(() => granules(Int32Array.from([5, 0, 1])), /header \[5, 0\] does not fit 3 values/);
  // The DSSM preset featurises queries as before.
  assert.deepEqual(Array.from(queryFeaturizer({ ...model, preset: 'dssm' })('Red summer dress')), Array.from(s));
});

for (const { name, loss } of MGDSPR_VARIANTS) {
  test(`mgdspr: the trainer's gradients equal tf.grads of the tower written with tf ops (${name})`, () => {
    const batch = fixtureBatch();
    const p = initTwoTower(MGDSPR_MODEL, 5);
    const { embed: E, vocab: V } = p.dims;
    const trainer = new TwoTowerTrainer(p, loss, 0.01, { threads: 1 });
    let got;
    try {
      got = trainer.gradients(batch);
    } finally {
      trainer.dispose();
    }
    const { B, N } = batch;
    const ref = tf.tidy(() => {
      const qd = denseTensors(p.query.dense, { ...p.dims, embed: 4 * E });
      const id = denseTensors(p.item.dense, p.dims);
      const args = [tf.tensor2d(p.query.table, [V, E]), tf.tensor2d(p.item.table, [V, E]), ...DENSE_KEYS.map((k) => qd[k]), ...DENSE_KEYS.map((k) => id[k])];
      const mask = tf.tensor2d(batch.negMask, [B, N]);
      const f = (...a: tf.Tensor[]) => {
        const [qt, it, ...ws] = a;
        const wq = Object.fromEntries(DENSE_KEYS.map((k, i) => [k, ws[i]])) as typeof qd;
        const wi = Object.fromEntries(DENSE_KEYS.map((k, i) => [k, ws[4 + i]])) as typeof qd;
        const q = referenceQuery(qt as tf.Tensor2D, batch.queryFeats, wq, E);
        const items = towerForward(meanRows(it as tf.Tensor2D, batch.itemFeats, E), wi);
        return referenceLoss({ q, v: tf.slice(items, [0, 0], [B, -1]) as tf.Tensor2D, items, negMask: mask }, loss).loss;
      };
      const { value, grads } = tf.valueAndGrads(f)(args);
      return { loss: value.dataSync()[0], grads: grads.map((g) => g.dataSync() as Float32Array) };
    });
    assertAllClose([got.loss], [ref.loss], 1e-5, 'loss');
    const [gqt, git, ...gw] = ref.grads;
    DENSE_KEYS.forEach((k, i) => {
      assertAllClose(got.dense[0][k], gw[i], 1e-4, `query ${k}`);
      assertAllClose(got.dense[1][k], gw[4 + i], 1e-4, `item ${k}`);
    });
    for (const [j, table] of [gqt, git].entries()) {
      const rows = got.rows[j];
      const touched = new Set(rows.rows);
      rows.rows.forEach((r, u) => assertAllClose(rows.grads.subarray(u * E, (u + 1) * E), table.subarray(r * E, (r + 1) * E), 1e-4, `table ${j} row ${r}`));
      for (let r = 0; r < V; r++)
        if (!touched.has(r))
          assert.ok(
            table.subarray(r * E, (r + 1) * E).every((x) => x === 0),
            `untouched row ${r}`,
          );
    }
    // The unigram and bigram ids really reach the query table (not only the whole-query bag).
    const bigramIds = batch.queryFeats.flatMap((f) => Array.from(granules(f)[1]));
    assert.ok(bigramIds.length > 0 && bigramIds.every((r) => got.rows[0].rows.includes(r)));
  });
}

test('mgdspr: encodeFeatures of queries equals the tf-ops tower; a training step lowers the loss', () => {
  const p = initTwoTower(MGDSPR_MODEL, 3);
  const feats = MGDSPR_QUERIES.map(queryFeaturizer(MGDSPR_MODEL));
  const got = encodeFeatures(p, 'query', feats, { batchSize: 4 });
  const want = tf.tidy(() =>
    referenceQuery(
      tf.tensor2d(p.query.table, [p.dims.vocab, p.dims.embed]),
      feats,
      denseTensors(p.query.dense, { ...p.dims, embed: 4 * p.dims.embed }),
      p.dims.embed,
    ).dataSync(),
  );
  assertAllClose(got, want, 1e-5, 'query embeddings');
  const batch = fixtureBatch();
  const trainer = new TwoTowerTrainer(p, MGDSPR_VARIANTS[0].loss, 0.05, { threads: 1 });
  try {
    const first = trainer.step(batch, false).loss;
    for (let s = 0; s < 10; s++) trainer.step(batch, false);
    assert.ok(trainer.gradients(batch).loss < first - 0.1, 'the loss went down');
  } finally {
    trainer.dispose();
  }
});

test('mgdspr checkpoints: the preset and the [4E × H] query kernel are recorded and read back; old and dpsr checkpoints', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rlens-mgdspr-'));
  const p = initTwoTower(MGDSPR_MODEL, 2);
  await saveCheckpoint(dir, p, { step: 1, model: MGDSPR_MODEL });
  const json = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
  assert.equal(json.checkpoint.model.preset, 'mgdspr');
  const shapes = Object.fromEntries(json.weightsManifest[0].weights.map((w: { name: string; shape: number[] }) => [w.name, w.shape]));
  assert.deepEqual(shapes['query/dense1/kernel'], [16, 6]);
  assert.deepEqual(shapes['item/dense1/kernel'], [4, 6]);
  const back = loadCheckpoint(dir).params;
  assert.equal(back.preset, 'mgdspr');
  const feats = MGDSPR_QUERIES.map(queryFeaturizer(MGDSPR_MODEL));
  assert.deepEqual(encodeFeatures(back, 'query', feats), encodeFeatures(p, 'query', feats));
  // A checkpoint written before presets (no "preset") is DSSM.
  const old = { ...MGDSPR_MODEL } as Partial<typeof MGDSPR_MODEL>;
  delete old.preset;
  const dssm: TwoTowerParams = initTwoTower(old as typeof MGDSPR_MODEL, 2);
  await saveCheckpoint(dir, dssm, { step: 1, model: old as typeof MGDSPR_MODEL });
  assert.equal(loadCheckpoint(dir).params.preset, undefined);
  const oldJson = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
  oldJson.checkpoint.model.preset = 'bert';
  fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(oldJson));
  assert.throws(
    () => loadCheckpoint(dir),
    (e: Error) => e instanceof CheckpointError && /model\.json: checkpoint\.model\.preset: "bert" is not a tower preset/.test(e.message),
  );
});

test('config: model.preset "mgdspr" with shared towers and an unknown preset are errors at their keys', () => {
  const errorOf = (text: string) => configErrorOf(text).problems;
  const b = errorOf('{ "data": { "train": "x.jsonl" },\n  "model": { "preset": "mgdspr",\n    "sharedTowers": true } }');
  assert.deepEqual([b.length, b[0].path, b[0].line], [1, 'model.sharedTowers', 3]);
  assert.match(b[0].message, /the "mgdspr" query tower has its own input layer/);
  const c = errorOf('{ "data": { "train": "x.jsonl" }, "model": { "preset": "bert" } }');
  assert.equal(c[0].path, 'model.preset');
  assert.equal(parseConfigText('{ "data": { "train": "x.jsonl" }, "model": { "preset": "mgdspr" } }', 'x.rlens.json').config.model.preset, 'mgdspr');
  assert.equal(parseConfigText('{ "data": { "train": "x.jsonl" } }', 'x.rlens.json').config.model.preset, 'dssm');
});

test('the parity fixture shared with PyTorch is what the current code computes', () => {
  const file = path.join(__dirname, '../fixtures/parity/mgdspr.json');
  assert.deepEqual(mgdsprFixture(), JSON.parse(fs.readFileSync(file, 'utf8')));
  assert.deepEqual(MGDSPR_ITEMS.length, MGDSPR_QUERIES.length);
});

test("ablate: the MGDSPR variants set model.preset on top of their loss, and the table names each row's tower", () => {
  const vs = parseVariants('softmax-fixed,softmax-adaptive-sg-sym-mgdspr,softmax-fixed-mgdspr');
  assert.deepEqual(vs, ['softmax-fixed', 'softmax-fixed-mgdspr', 'softmax-adaptive-sg-sym-mgdspr']);
  assert.deepEqual(variantOverrides('softmax-fixed-mgdspr'), [...variantOverrides('softmax-fixed'), 'model.preset="mgdspr"']);
  assert.deepEqual(variantOverrides('margin-adaptive-sg-sym-mgdspr'), [...variantOverrides('margin-adaptive-sg-sym'), 'model.preset="mgdspr"']);
  const row = (variant: AblationFile['rows'][number]['variant']) => ({
    variant,
    label: variant,
    completed: 1,
    planned: 1,
    columns: { 'recall@10': meanStd([0.5]) },
    verdicts: [],
    runDirs: [],
  });
  const t = { rows: [row('softmax-fixed'), row('softmax-fixed-mgdspr')], best: {}, seeds: [1] } as unknown as AblationFile;
  const [head, dssm, mgdspr] = ablationCells(t, (c) => c);
  assert.equal(head[1], 'tower');
  assert.deepEqual([dssm[1], mgdspr[1]], ['dssm', 'mgdspr']);
});
