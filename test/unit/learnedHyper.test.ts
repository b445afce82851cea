/**
 * Learned α / δ₀ / τ₀ (loss.trainable) and Adap-τ (loss.temperatureRule "adap-tau"): the host loss's ∂L/∂α,
 * ∂L/∂δ₀, ∂L/∂τ₀ against tfjs autodiff of the reference loss, Adap-τ's loss and gradients against the reference,
 * the Lambert W function against its definition, the parameterisation's range, the config's located errors, and
 * a real training run whose learned δ₀ runs to its floor and makes the verdict warn.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import seedrandom from 'seedrandom';
import { initBackend, type BackendInfo } from '../../src/core/backend';
import { loadConfig, parseConfigText } from '../../src/core/config';
import { configErrorOf } from '../helpers/configProblems';
import { lambertW } from '../../src/core/losses/adapTau';
import { LEARNED_FLOORS, LearnedHyper } from '../../src/core/losses/learnedHyper';
import { lossAndGradHost } from '../../src/core/losses/lossAndGrad';
import type { LossConfig } from '../../src/core/losses/types';
import { matMulHost } from '../../src/core/numeric/matMul';
import { readEvents, type StepEvent } from '../../src/core/runs';
import { runTraining } from '../../src/core/training/trainLoop';
import { loadCheckpoint } from '../../src/core/model/checkpoint';
import { DEFAULT_LOSS_CONFIG } from '../reference/defaultLossConfig';
import { hostLossBatch } from '../helpers/hostLossBatch';
import { referenceLoss, type LearnedScalars } from '../reference/tfjsLoss';
import { smallExperiment } from '../helpers/smallExperiment';

let backend: BackendInfo;
before(async () => {
  backend = await initBackend('wasm');
});

function close(a: number, b: number, tol: number, what: string): void {
  assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);
}

const VARIANTS: { name: string; cfg: Partial<LossConfig>; learn: ('alpha' | 'delta0' | 'tau0')[] }[] = [
  { name: 'adaptive softmax + symmetric', cfg: { alpha: 0.7 }, learn: ['alpha', 'tau0'] },
  { name: 'adaptive softmax, no stop-gradient', cfg: { alpha: 0.4, stopGradient: false, symmetricWeight: 0.3 }, learn: ['alpha', 'tau0'] },
  { name: 'adaptive margin + symmetric', cfg: { type: 'margin', delta0: 0.2, alpha: 0.6, symmetricWeight: 0.5 }, learn: ['alpha', 'delta0'] },
  { name: 'adaptive margin, no symmetric term', cfg: { type: 'margin', delta0: 0.3, alpha: 0.5, symmetric: false }, learn: ['alpha', 'delta0'] },
  { name: 'adap-tau softmax + symmetric', cfg: { temperatureRule: 'adap-tau', adapTauScale: 0.5, symmetricWeight: 0.3 }, learn: ['tau0'] },
  { name: 'adap-tau softmax, no symmetric term', cfg: { temperatureRule: 'adap-tau', symmetric: false }, learn: ['tau0'] },
];

test('host ∂L/∂α, ∂L/∂δ₀, ∂L/∂τ₀ and the Adap-τ loss match referenceLoss + tf.grads', () => {
  const rng = seedrandom('learned-hyper');
  const { B, N, D, q, items, v, mask, scores, pos } = hostLossBatch(rng, (r, n) => Float32Array.from({ length: n }, () => r() * 2 - 1));
  for (const variant of VARIANTS) {
    const cfg: LossConfig = { ...DEFAULT_LOSS_CONFIG, type: 'softmax', tau0: 0.1, ...variant.cfg };
    const lo = lossAndGradHost({ scores, pos, negMask: mask, B, N }, cfg);
    const dQ = matMulHost(lo.dScores, items, 2 * B, N, D).subarray(0, B * D);
    for (let j = 0; j < B; j++) for (let k = 0; k < D; k++) dQ[j * D + k] += lo.dPos[j] * v[j * D + k];
    const ref = tf.tidy(() => {
      const negMask = tf.tensor2d(mask, [B, N]);
      const tq = tf.tensor2d(q, [B, D]);
      const ti = tf.tensor2d(items, [N, D]);
      const tv = tf.slice(ti, [0, 0], [B, D]) as tf.Tensor2D;
      const names = variant.learn;
      const f = (...xs: tf.Tensor[]) => {
        const learned: LearnedScalars = {};
        names.forEach((n, k) => (learned[n] = xs[k + 1] as tf.Scalar));
        return referenceLoss({ q: xs[0] as tf.Tensor2D, v: tv, items: ti, negMask }, cfg, learned).loss;
      };
      const { value, grads } = tf.valueAndGrads(f)([tq, ...names.map((n) => tf.scalar(cfg[n]))]);
      return { loss: value.dataSync()[0], dq: grads[0].dataSync().slice(), d: names.map((_, k) => grads[k + 1].dataSync()[0]) };
    });
    close(lo.loss, ref.loss, 1e-5, `${variant.name}: loss`);
    dQ.forEach((g, i) => close(g, ref.dq[i], 1e-4, `${variant.name}: ∂L/∂q[${i}]`));
    variant.learn.forEach((n, k) => {
      assert.ok(Math.abs(ref.d[k]) > 1e-6, `${variant.name}: ∂L/∂${n} is not trivially 0 (${ref.d[k]})`);
      close(lo.dLearned[n], ref.d[k], 1e-4, `${variant.name}: ∂L/∂${n}`);
    });
  }
});

test('Adap-τ gives each anchor its own τ: above τ₀ for a worse-than-average anchor, below for a better one', () => {
  // Row 0: the positive far ahead of its negatives (low loss); row 1: a negative ahead of the positive.
  const B = 2;
  const N = 3;
  const scores = Float32Array.from([0, 0.1, 0.2, 0.9, 0, 0.3, 0, 0.1, 0.2, 0.9, 0, 0.3]);
  const pos = Float64Array.from([0.95, 0.2]);
  const negMask = Float32Array.from([0, 1, 1, 1, 0, 1]);
  const cfg: LossConfig = { ...DEFAULT_LOSS_CONFIG, type: 'softmax', tau0: 0.05, temperatureRule: 'adap-tau', symmetric: false };
  const lo = lossAndGradHost({ scores, pos, negMask, B, N }, cfg);
  assert.ok(lo.hyper[0] < 0.05 && lo.hyper[N] > 0.05, `τ rows ${lo.hyper[0]}, ${lo.hyper[N]}`);
  assert.equal(lo.hyper[1], lo.hyper[2], 'one τ per anchor row');
});

test('lambertW solves w·eʷ = z on the principal branch, from the branch point −1/e to 1000', () => {
  close(lambertW(1), 0.5671432904097838, 1e-14, 'Ω = W(1)');
  close(lambertW(Math.E), 1, 1e-14, 'W(e)');
  close(lambertW(-1 / Math.E), -1, 1e-6, 'W(−1/e)');
  for (const z of [-0.3678, -0.3, -0.1, -1e-9, 1e-9, 0.5, 2, 10, 123.4, 1000]) {
    const w = lambertW(z);
    assert.ok(w >= -1, `principal branch at ${z}`);
    close(w * Math.exp(w), z, 1e-12, `W(${z})·e^W`);
  }
  assert.ok(Number.isNaN(lambertW(-0.5)));
});

test('a learned value stays above its floor however hard the gradient pushes, and moves at its own learning rate', () => {
  const cfg: LossConfig = {
    ...DEFAULT_LOSS_CONFIG,
    type: 'softmax',
    tau0: 0.05,
    alpha: 0.5,
    trainable: ['alpha', 'tau0'],
    trainableLearningRate: { alpha: 0.1, tau0: 0.001 },
  };
  const h = new LearnedHyper(cfg);
  assert.deepEqual(h.values(), { alpha: h.values().alpha, tau0: h.values().tau0 });
  close(h.values().alpha!, 0.5, 1e-6, 'α starts at the config value');
  close(h.values().tau0!, 0.05, 1e-6, 'τ₀ starts at the config value');
  h.step({ alpha: 1, delta0: 0, tau0: 1 });
  // Adam's first step moves θ by its learning rate: α by 0.1·sigmoid(θ), τ₀ by 0.001·sigmoid(θ).
  assert.ok(0.5 - h.values().alpha! > 0.03 && 0.05 - h.values().tau0! < 0.001, JSON.stringify(h.values()));
  for (let k = 0; k < 3000; k++) h.step({ alpha: 1e6, delta0: 0, tau0: 1e6 });
  const end = h.values();
  assert.ok(end.alpha! > LEARNED_FLOORS.alpha && end.alpha! < 1e-3, `α ${end.alpha}`);
  assert.ok(end.tau0! > LEARNED_FLOORS.tau0, `τ₀ ${end.tau0}`);
  assert.equal(h.config().alpha, end.alpha);
});

test('config: trainable names the loss does not use, and adap-tau with a margin loss, are located errors', () => {
  const errorOf = configErrorOf;
  const a = errorOf('{\n  "data": { "train": "x.jsonl" },\n  "loss": { "type": "softmax",\n    "trainable": ["alpha", "delta0"] }\n}');
  assert.equal(a.problems.length, 1);
  assert.equal(a.problems[0].path, 'loss.trainable.1');
  assert.match(a.problems[0].message, /δ₀ belongs to the margin loss/);
  assert.equal(a.problems[0].line, 4);
  const b = errorOf('{ "data": { "train": "x.jsonl" },\n "loss": { "type": "margin", "temperatureRule": "adap-tau" } }');
  assert.equal(b.problems[0].path, 'loss.temperatureRule');
  assert.match(b.problems[0].message, /softmax/);
  assert.equal(b.problems[0].line, 2);
  const c = errorOf('{ "data": { "train": "x.jsonl" }, "loss": { "adaptive": false, "trainable": ["alpha"] } }');
  assert.match(c.problems[0].message, /loss.adaptive is false/);
  const ok = parseConfigText('{ "data": { "train": "x.jsonl" }, "loss": { "type": "margin", "trainable": ["alpha", "delta0"] } }', 'exp.rlens.json');
  assert.deepEqual(ok.config.loss.trainable, ['alpha', 'delta0']);
  assert.equal(ok.config.loss.trainableLearningRate?.delta0, 0.01);
});

test('a real run that drives learned δ₀ to its floor logs the trajectory and the verdict names the value and bound', async () => {
  const exp = smallExperiment({
    training: { steps: 120, logEvery: 4 },
    loss: { type: 'margin', delta0: 0.05, alpha: 0.5, trainable: ['delta0'], trainableLearningRate: { delta0: 0.5 } },
  });
  const result = await runTraining({ loaded: loadConfig(exp.config), backend });
  assert.equal(result.status, 'completed');
  const steps = readEvents(path.join(result.runDir, 'events.jsonl')).events.filter((e): e is StepEvent => e.type === 'step');
  const deltas = steps.map((s) => s.learned?.delta0);
  assert.ok(
    deltas.every((d) => typeof d === 'number'),
    'every step event carries learned δ₀',
  );
  assert.ok(deltas[0]! < 0.05 && deltas.at(-1)! < 1e-3, `δ₀ ${deltas[0]} → ${deltas.at(-1)}`);
  const warned = steps.find((s) => /learned δ₀ .* at its floor 0 for 5 logged steps/.test(s.verdict.reason));
  assert.ok(warned, `verdicts: ${steps.map((s) => `${s.step} ${s.verdict.state}: ${s.verdict.reason}`).join('\n')}`);
  assert.ok(warned.verdict.state !== 'healthy');
  // The five logged steps before the warning all had δ₀ within 1e-3 of 0.
  const at = steps.indexOf(warned);
  assert.ok(at >= 4 && steps.slice(at - 4, at + 1).every((s) => s.learned!.delta0! <= 1e-3));
  // The last checkpoint stores the learned value of its step (model.json checkpoint.extra.learned).
  const { info } = loadCheckpoint(path.join(result.runDir, 'checkpoints', 'last'));
  assert.equal(info.step, 120);
  assert.deepEqual(info.extra?.learned, steps.at(-1)!.learned);
});

test('a real run that drives learned τ₀ up (lr 1) is flagged as a runaway, naming the value and its ceiling', async () => {
  // The first steps' hard negatives push τ₀ up (docs/collapse.md); at lr 1 it climbs by far more than 10× its start.
  const exp = smallExperiment({
    training: { steps: 60, logEvery: 2, learningRate: 0.002, batchSize: 64 },
    loss: { type: 'softmax', adaptive: true, stopGradient: true, symmetric: true, trainable: ['tau0'], trainableLearningRate: { tau0: 1 } },
  });
  const result = await runTraining({ loaded: loadConfig(exp.config), backend });
  assert.equal(result.status, 'completed');
  const steps = readEvents(path.join(result.runDir, 'events.jsonl')).events.filter((e): e is StepEvent => e.type === 'step');
  const taus = steps.map((s) => s.learned!.tau0!);
  const top = Math.max(...taus);
  assert.ok(top >= 10 * taus[0], `τ₀ ${taus.map((t) => t.toPrecision(2)).join(' ')}`);
  const warned = steps.find((s) =>
    /learned τ₀ \S+ (grew ×\d+ within \d logged steps, from \S+ at step 1; ceiling 1|above its ceiling 1 for \d+ logged steps)/.test(s.verdict.reason),
  );
  assert.ok(warned, `verdicts: ${steps.map((s) => `${s.step} τ₀ ${s.learned!.tau0} ${s.verdict.state}: ${s.verdict.reason}`).join('\n')}`);
  assert.notEqual(warned.verdict.state, 'healthy');
  // Not before the value had climbed 10× above where it started.
  assert.ok(warned.learned!.tau0! >= 10 * taus[0]);
});
