/**
 * Training-step benchmark at the paper's shape (B 350, 30 query / 100 item features, V 2^18, D 128,
 * adaptive softmax + symmetric term, Adam): median ms/step, examples/s, peak RSS and tensor count, for
 * every backend that loads here; and, when `python3 -c 'import torch'` works, the same model and step
 * in PyTorch on CPU (bench/torch_step.py) with the ratio.
 *   npm run bench:train [-- --steps 30 --backends wasm,cpu]
 */
import { execFileSync, spawnSync } from 'child_process';
import * as path from 'path';
import { parseArgs } from 'util';
import * as tf from '@tensorflow/tfjs';
import seedrandom from 'seedrandom';
import { initBackend } from '../src/core/backend';
import { defaultConfig } from '../src/core/config';
import { initTwoTower } from '../src/core/model/params';
import { buildBatch } from '../src/core/training/batcher';
import type { FeaturizedExample } from '../src/core/training/featurizedData';
import { TwoTowerTrainer } from '../src/core/training/trainStep';
import type { BackendPreference } from '../src/core/config/types';

const SHAPE = { B: 350, Lq: 30, Li: 100, V: 1 << 18, E: 128, H: 256, D: 128, negatives: 0 };

function syntheticData(n: number, seed: number): FeaturizedExample[] {
  const rng = seedrandom.alea(String(seed));
  const ids = (L: number) => Int32Array.from({ length: L }, () => Math.floor(rng() * SHAPE.V));
  return Array.from({ length: n }, (_, i) => {
    const item = { id: `i${i}`, text: '', source: { file: '-', line: i + 1 } };
    return { example: { queryId: `q${i}`, query: '', positive: item, negatives: [], source: item.source }, query: ids(SHAPE.Lq), positive: ids(SHAPE.Li), negatives: [] };
  });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Runs in a child process for one backend; prints one JSON line. */
async function runOne(backend: BackendPreference, steps: number): Promise<void> {
  const info = await initBackend(backend);
  const cfg = defaultConfig({ train: '-' });
  const params = initTwoTower(cfg.model, 1);
  const trainer = new TwoTowerTrainer(params, cfg.loss, cfg.training.learningRate);
  const data = syntheticData(SHAPE.B * 8, 7);
  let peakRss = process.memoryUsage().rss;
  const times: number[] = [];
  const tensorsAfter: number[] = [];
  for (let s = 0; s < steps + 3; s++) {
    const idx = Array.from({ length: SHAPE.B }, (_, k) => ((s * SHAPE.B) + k) % data.length);
    const batch = buildBatch(data, idx, 0);
    const t0 = performance.now();
    trainer.step(batch, s % 10 === 0);
    const dt = performance.now() - t0;
    if (s >= 3) times.push(dt); // warm-up steps excluded
    tensorsAfter.push(tf.memory().numTensors);
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }
  const ms = median(times);
  console.log(JSON.stringify({ backend: info.name, steps, msPerStep: ms, examplesPerSec: (SHAPE.B * 1000) / ms, peakRssGB: peakRss / 2 ** 30, numTensorsFirst: tensorsAfter[0], numTensorsLast: tensorsAfter[tensorsAfter.length - 1] }));
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { steps: { type: 'string', default: '30' }, backends: { type: 'string', default: 'node,wasm,cpu' }, child: { type: 'string' } } });
  const steps = Number(values.steps);
  if (values.child) return runOne(values.child as BackendPreference, steps);
  console.log(`paper shape: B ${SHAPE.B}, ${SHAPE.Lq}/${SHAPE.Li} features, V 2^18, E ${SHAPE.E}, H ${SHAPE.H}, D ${SHAPE.D}; adaptive softmax + symmetric, Adam`);
  const rows: { backend: string; msPerStep: number }[] = [];
  for (const b of values.backends!.split(',')) {
    const n = b === 'cpu' ? Math.min(steps, 5) : steps;
    const r = spawnSync(process.execPath, ['--import', 'tsx', __filename, '--child', b, '--steps', String(n)], { encoding: 'utf8', maxBuffer: 1 << 24 });
    const line = r.stdout.trim().split('\n').pop() ?? '';
    try {
      const res = JSON.parse(line);
      rows.push(res);
      console.log(`${b.padEnd(5)} → ${res.backend.padEnd(10)} ${res.msPerStep.toFixed(1).padStart(8)} ms/step  ${res.examplesPerSec.toFixed(0).padStart(6)} ex/s  peak RSS ${res.peakRssGB.toFixed(2)} GB  tensors ${res.numTensorsFirst}→${res.numTensorsLast}  (${res.steps} steps)`);
    } catch {
      console.log(`${b.padEnd(5)} → unavailable: ${(r.stderr || line).trim().split('\n').slice(-1)[0]}`);
    }
  }
  let torchOk = false;
  try {
    execFileSync('python3', ['-c', 'import torch'], { stdio: 'ignore' });
    torchOk = true;
  } catch {
    console.log('pytorch → unavailable (python3 -c "import torch" failed; Debian: apt-get install python3-torch)');
  }
  if (torchOk) {
    const out = execFileSync('python3', [path.join(__dirname, 'torch_step.py'), '--steps', String(steps)], { encoding: 'utf8' }).trim().split('\n').pop()!;
    const t = JSON.parse(out);
    console.log(`pytorch (cpu, ${t.threads} threads) ${t.msPerStep.toFixed(1)} ms/step  peak RSS ${t.peakRssGB.toFixed(2)} GB`);
    for (const r of rows) console.log(`ratio pytorch/${r.backend}: ${(t.msPerStep / r.msPerStep).toFixed(2)}× (> 1: tfjs faster)`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
