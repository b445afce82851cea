/**
 * Step samples (src/core/metrics/stepSamples.ts): bytes per logged step and the effect on training time.
 *
 * 1. Real trainings, each twice with the same seed — diagnostics.stepSamples true, then false — on the bundled
 *    example (examples/shop) and, when present, the real BEIR-format-sized set /work/shared/datasets/pycode
 *    (train.jsonl, long dotted item ids): the samples' JSON bytes per logged step (mean, max), the events.jsonl
 *    size per logged step with and without, and the wall time per step of both (one run each, noisy: compare the
 *    ratio, not the numbers across machines).
 * 2. The sampler alone at the paper's shape (B 350, N 700, items of 60 words): ms per logged step, beside the
 *    step diagnostics of the same batch.
 *
 *   npm run bench:step-samples            (BENCH_STEPS=60 by default, logEvery 10; BENCH_SAMPLER_ONLY=1: part 2 only)
 *
 * Prints numbers; asserts nothing.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import seedrandom from 'seedrandom';
import { initBackend } from '../src/core/backend';
import { loadConfig } from '../src/core/config/loadConfig';
import { sampleStep, type PairRef } from '../src/core/metrics/stepSamples';
import { computeStepDiagnostics } from '../src/core/metrics/stepDiagnostics';
import { runTraining } from '../src/core/training/trainLoop';
import { openTrainingData } from '../src/core/training/trainingData';
import { Batcher } from '../src/core/training/batcher';
import { featurizeExamples } from '../src/core/training/featurizedData';

const STEPS = Number(process.env.BENCH_STEPS ?? 60);
const ROOT = path.resolve(__dirname, '..');

async function train(
  config: string,
  overrides: string[],
  samples: boolean,
): Promise<{ ms: number; logged: number; sampleBytes: number[]; eventBytes: number }> {
  const loaded = loadConfig(config, [
    ...overrides,
    `diagnostics.stepSamples=${samples}`,
    'evaluation.every=0',
    'training.logEvery=10',
    'training.checkpointEvery=100000',
  ]);
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'rlens-bench-samples-'));
  const t0 = performance.now();
  const r = await runTraining({ loaded, backend: await initBackend('auto'), runsRoot: out, steps: STEPS });
  const ms = performance.now() - t0;
  const lines = fs.readFileSync(path.join(r.runDir, 'events.jsonl'), 'utf8').split('\n').filter(Boolean);
  const steps = lines.filter((l) => l.includes('"type":"step"'));
  const sampleBytes = steps.map((l) => {
    const e = JSON.parse(l) as { samples?: unknown };
    return e.samples ? Buffer.byteLength(JSON.stringify(e.samples)) : 0;
  });
  fs.rmSync(out, { recursive: true, force: true });
  return { ms, logged: steps.length, sampleBytes, eventBytes: steps.reduce((s, l) => s + Buffer.byteLength(l) + 1, 0) };
}

/** The sampler's median ms on 5 real batches of the config's data (random scores: the cost does not depend on them). */
async function samplerOnRealBatches(config: string, overrides: string[]): Promise<number> {
  const loaded = loadConfig(config, overrides);
  const data = await openTrainingData(loaded);
  const batcher = new Batcher(data.source, loaded.config.training.batchSize, loaded.config.training.maxNegativesPerExample, (ex) =>
    featurizeExamples(ex, loaded.config.model),
  );
  const ms: number[] = [];
  for (let b = 0; b < 5; b++) {
    const batch = await batcher.next();
    const r = () => Float32Array.from({ length: batch.B * batch.N }, () => Math.random() * 2 - 1);
    const t0 = performance.now();
    sampleStep({ step: b + 1, ...batch, sQV: r(), sVV: r(), hyper: r() });
    ms.push(performance.now() - t0);
  }
  await data.source.close();
  return ms.sort((a, b) => a - b)[2];
}

async function trainings(name: string, config: string, overrides: string[]): Promise<void> {
  const on = await train(config, overrides, true);
  const off = await train(config, overrides, false);
  const sampler = await samplerOnRealBatches(config, overrides);
  const mean = on.sampleBytes.reduce((s, b) => s + b, 0) / Math.max(1, on.sampleBytes.length);
  console.log(
    `${name}: ${STEPS} steps, ${on.logged} logged · samples ${mean.toFixed(0)} B per logged step (max ${Math.max(...on.sampleBytes)}, budget 4096) · ` +
      `step event ${(on.eventBytes / on.logged).toFixed(0)} B with, ${(off.eventBytes / off.logged).toFixed(0)} B without · ` +
      `wall ${(on.ms / STEPS).toFixed(1)} ms/step with, ${(off.ms / STEPS).toFixed(1)} without (×${(on.ms / off.ms).toFixed(3)}, one run each: noise) · ` +
      `sampler on real batches ${sampler.toFixed(1)} ms per logged step = ${((100 * sampler) / (10 * (off.ms / STEPS))).toFixed(2)}% of 10 steps (logEvery 10)`,
  );
}

function samplerAlone(): void {
  const B = 350;
  const N = 700;
  const D = 128;
  const rng = seedrandom('step-samples-bench');
  const vocab = Array.from({ length: 5000 }, (_, k) => `w${k}`);
  const texts = Array.from({ length: N }, () => Array.from({ length: 60 }, () => vocab[Math.floor(rng() ** 2 * vocab.length)]).join(' '));
  const unit = (rows: number) => {
    const m = new Float32Array(rows * D);
    for (let r = 0; r < rows; r++) {
      let n = 0;
      for (let k = 0; k < D; k++) n += (m[r * D + k] = rng() * 2 - 1) ** 2;
      for (let k = 0; k < D; k++) m[r * D + k] /= Math.sqrt(n);
    }
    return m;
  };
  const items = unit(N);
  const q = unit(B);
  const sQV = new Float32Array(B * N);
  const sVV = new Float32Array(B * N);
  const negMask = new Float32Array(B * N);
  const hyper = new Float32Array(B * N);
  for (let j = 0; j < B; j++)
    for (let i = 0; i < N; i++) {
      let a = 0;
      let b = 0;
      for (let k = 0; k < D; k++) {
        a += q[j * D + k] * items[i * D + k];
        b += items[j * D + k] * items[i * D + k];
      }
      sQV[j * N + i] = a;
      sVV[j * N + i] = b;
      negMask[j * N + i] = i === j ? 0 : 1;
      hyper[j * N + i] = (1 / 30) * (1 + 0.5 * (1 - b));
    }
  const ref = (id: string, line: number): PairRef => ({ id, file: '/data/corpus-shard-00017.jsonl', line });
  const input = {
    step: 1,
    B,
    N,
    sQV,
    sVV,
    negMask,
    hyper,
    queries: Array.from({ length: B }, (_, j) => ref(`q${j}`, j + 1)),
    items: texts.map((_, i) => ref(`item-${i}`, i + 1)),
    itemTexts: texts,
  };
  const time = (f: () => void) => {
    f();
    const ms: number[] = [];
    for (let r = 0; r < 10; r++) {
      const t0 = performance.now();
      f();
      ms.push(performance.now() - t0);
    }
    return ms.sort((a, b) => a - b)[5];
  };
  const sampler = time(() => sampleStep({ ...input, step: input.step++ }));
  const diagnostics = time(() =>
    computeStepDiagnostics(
      { B, N, D, sQV, sVV, negMask, hyper, hyperKind: 'tau', hyperRange: [0, 0.1], itemEmb: items.slice(0, B * D) },
      { effectiveRank: false },
    ),
  );
  console.log(
    `sampler alone (B ${B}, N ${N}, 60-word items): ${sampler.toFixed(1)} ms per logged step (median of 10); step diagnostics of the same batch ${diagnostics.toFixed(1)} ms`,
  );
}

async function main(): Promise<void> {
  samplerAlone();
  if (process.env.BENCH_SAMPLER_ONLY) return;
  await trainings('examples/shop', path.join(ROOT, 'examples/shop/shop.rlens.json'), []);
  const pycode = '/work/shared/datasets/pycode/train.jsonl';
  if (fs.existsSync(pycode)) {
    const cfg = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'rlens-bench-pycode-')), 'pycode.rlens.json');
    fs.writeFileSync(
      cfg,
      JSON.stringify({ name: 'pycode', data: { train: pycode }, model: { vocabBuckets: 65536 }, training: { batchSize: 128, learningRate: 0.002 } }),
    );
    await trainings('pycode (train.jsonl, B 128)', cfg, []);
  }
}

void main();
