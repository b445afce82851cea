import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { initBackend, type BackendInfo } from '../../src/core/backend';
import { loadConfig } from '../../src/core/config';
import { DataError } from '../../src/core/data';
import { loadCheckpoint } from '../../src/core/model/checkpoint';
import { readEvents, type StepEvent } from '../../src/core/runs';
import { runTraining } from '../../src/core/training/trainLoop';
import { smallExperiment, SHOP_TRAIN } from '../helpers/smallExperiment';
import { finite } from '../helpers/finite';

let backend: BackendInfo;
before(async () => {
  backend = await initBackend('wasm');
});

async function train(extra: Parameters<typeof smallExperiment>[0], steps?: number) {
  const exp = smallExperiment(extra);
  const tensors: number[] = [];
  const result = await runTraining({
    loaded: loadConfig(exp.config),
    backend,
    steps,
    hooks: { onStep: () => tensors.push(tf.memory().numTensors) },
  });
  const events = readEvents(path.join(result.runDir, 'events.jsonl')).events;
  return { exp, result, tensors, steps: events.filter((e): e is StepEvent => e.type === 'step') };
}

test('50 steps leave no tensor behind and the tensor count stays flat', async () => {
  const before = tf.memory().numTensors;
  const { result, tensors } = await train({ training: { steps: 50, logEvery: 5 } });
  assert.equal(result.status, 'completed');
  assert.equal(tf.memory().numTensors, before);
  assert.ok(tensors.length >= 10);
  assert.ok(
    tensors.every((n) => n === tensors[0]),
    `numTensors per logged step: ${tensors.join(',')}`,
  );
});

test('training on the shop data learns: loss falls and in-batch recall@10 rises', async () => {
  const { result, steps } = await train({ training: { steps: 80, logEvery: 10, learningRate: 0.01 } });
  assert.equal(result.status, 'completed');
  const first = steps[0];
  const last = steps.at(-1)!;
  assert.equal(first.step, 1);
  assert.equal(last.step, 80);
  assert.ok(last.loss! < first.loss! * 0.7, `loss ${first.loss} → ${last.loss}`);
  assert.ok(
    finite(last.diagnostics.recall.at10, 'last recall@10') > finite(first.diagnostics.recall.at10, 'first recall@10') + 0.2,
    `recall@10 ${first.diagnostics.recall.at10} → ${last.diagnostics.recall.at10}`,
  );
  // The adaptive τ distribution is reported and lies in [τ₀, τ₀(1 + 2α)].
  const tau = last.diagnostics.dist.tau!;
  assert.equal(last.diagnostics.dist.delta, null);
  assert.ok(finite(tau.min, 'τ min') >= 1 / 30 - 1e-6 && finite(tau.max, 'τ max') <= (1 / 30) * 2 + 1e-6, `τ range ${tau.min}..${tau.max}`);
  assert.ok(last.diagnostics.collapse.effectiveRank !== null, 'effective rank on the last step');
});

test('runs are reproducible: the same seed gives the same losses', async () => {
  const a = await train({ training: { steps: 12, logEvery: 3 } });
  const b = await train({ training: { steps: 12, logEvery: 3 } });
  assert.deepEqual(
    a.steps.map((s) => s.loss),
    b.steps.map((s) => s.loss),
  );
  const c = await train({ training: { steps: 12, logEvery: 3, seed: 7 } });
  assert.notDeepEqual(
    a.steps.map((s) => s.loss),
    c.steps.map((s) => s.loss),
  );
});

test('last and best checkpoints are written and reload with the trained weights', async () => {
  const { result } = await train({ training: { steps: 30, logEvery: 5, checkpointEvery: 10 } });
  const last = loadCheckpoint(path.join(result.runDir, 'checkpoints', 'last'));
  const best = loadCheckpoint(path.join(result.runDir, 'checkpoints', 'best'));
  assert.equal(last.info.step, 30);
  assert.ok(best.info.step <= 30 && best.info.step % 10 === 0);
  const meta = JSON.parse(fs.readFileSync(path.join(result.runDir, 'meta.json'), 'utf8'));
  assert.equal(meta.checkpoints.last.step, 30);
  assert.equal(meta.checkpoints.best.step, best.info.step);
  assert.equal(meta.backend, 'wasm');
  assert.equal(meta.status, 'completed');
});

test('the margin loss reports δ and no τ', async () => {
  const { steps } = await train({ loss: { type: 'margin' }, training: { steps: 5, logEvery: 5 } });
  const d = steps.at(-1)!.diagnostics.dist;
  assert.equal(d.tau, null);
  assert.ok(finite(d.delta!.min, 'δ min') >= 0.01 - 1e-6 && finite(d.delta!.max, 'δ max') <= 0.01 + 2 * 0.5 + 1e-6);
});

test('constant δ (adaptive with α = 0 and δ₀ = 0) still gets a valid histogram range', async () => {
  const { result, steps } = await train({ loss: { type: 'margin', alpha: 0, delta0: 0 }, training: { steps: 10, logEvery: 5 } });
  assert.equal(result.status, 'completed', result.error?.message);
  const d = steps.at(-1)!.diagnostics.dist.delta!;
  assert.equal(d.min, 0);
  assert.equal(d.max, 0);
  assert.deepEqual([d.hist.lo, d.hist.hi], [-0.5, 0.5]);
});

test('too many broken data lines: a located DataError and no run folder', async () => {
  const exp = smallExperiment();
  const bad = path.join(exp.dir, 'bad.jsonl');
  const good = fs.readFileSync(SHOP_TRAIN, 'utf8').split('\n').slice(0, 50);
  fs.writeFileSync(bad, [...good.slice(0, 20), '{"query": "x"', 'not json', ...good.slice(20)].join('\n'));
  const loaded = loadConfig(exp.config, [`data.train=${bad}`, 'data.maxBadLineShare=0.01']);
  await assert.rejects(runTraining({ loaded, backend }), (e: Error) => {
    assert.ok(e instanceof DataError);
    assert.match(e.message, /2 of 52 lines .* are malformed.*line 21: invalid JSON/s);
    return true;
  });
  assert.equal(fs.existsSync(exp.runs), false);
});
