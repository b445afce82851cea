/**
 * Training-step benchmark at the paper's shape (B 350, 30 query / 100 item features, V 2^18, D 128,
 * adaptive softmax + symmetric term, Adam): median ms/step, examples/s, peak RSS, tensor count and the
 * per-phase split, for every backend that loads here and two kinds of feature ids:
 *   uniform — ids uniform over the 2^18 buckets: ~43k distinct rows per step, the worst case for
 *             caches and TLB (every row a miss);
 *   zipf    — ids of a Zipf(s = 1) vocabulary of 2^20 features hashed into the buckets, as real text
 *             (frequent words and trigrams recur): far fewer distinct rows per step.
 * When a python3 with torch is found (`python3`, else /usr/bin/python3 — Debian's python3-torch), the
 * same model and step in PyTorch on CPU (bench/torch_step.py) with the ratio.
 * Then the PyTorch trainer's own step (package retrieval_lens, trainer.kind "torchrun"), from its module
 * `retrieval_lens.bench_step` (`--batch B --steps N`, one JSON line `{"msPerStep": [...], "median", "peakRssMb", …}`
 * on stdout, from rank 0): 1 process with B 350, and 2 processes under `python -m retrieval_lens.launch` (gloo)
 * with 175 per rank (the all-gathered in-batch negatives make the paper's 350) and with 350 per rank
 * (gathered 700). Skipped, saying so, when the module is not there.
 *   npm run bench:train [-- --steps 30 --backends wasm,cpu --ids uniform,zipf --threads 1,2 --repeat 3 --simd on,off --parts tfjs,torch-step,torch-trainer]
 * --simd on,off runs each configuration with the WebAssembly SIMD kernels of the embedding bags and the lazy Adam
 * update (simdKernels.ts) and with the JavaScript ones (RLENS_SIMD=0), interleaved, and prints their ratio.
 * Numbers on a shared machine are noisy: --repeat runs every configuration that many times (fresh
 * processes, interleaved) and reports the median of the per-run medians.
 */
import { execFileSync, spawnSync } from 'child_process';
import * as os from 'os';
import * as path from 'path';
import { parseArgs } from 'util';
import * as tf from '@tensorflow/tfjs';
import seedrandom from 'seedrandom';
import { initBackend } from '../src/core/backend';
import { defaultConfig } from '../src/core/config';
import { initTwoTower } from '../src/core/model/params';
import { simdModule } from '../src/core/numeric/simdKernels';
import { buildBatch } from '../src/core/training/batcher';
import type { FeaturizedExample } from '../src/core/training/featurizedData';
import { TwoTowerTrainer, type StepPhases } from '../src/core/training/trainStep';
import type { BackendPreference } from '../src/core/config/types';
import { pythonPackageRoot, resolvePython, torchrunArgs } from '../src/trainer/launch/torchrunArgs';

const SHAPE = { B: 350, Lq: 30, Li: 100, V: 1 << 18, E: 128, H: 256, D: 128, negatives: 0 };
type IdKind = 'uniform' | 'zipf';
/** Distinct features of the Zipf vocabulary (hashed into SHAPE.V buckets) and its exponent. */
const ZIPF = { features: 1 << 20, s: 1.0 };

/** Draws feature ids: uniform over the buckets, or Zipf-ranked features through a fixed random hash. */
function idSampler(kind: IdKind, rng: () => number): () => number {
  if (kind === 'uniform') return () => Math.floor(rng() * SHAPE.V);
  const cdf = new Float64Array(ZIPF.features);
  let acc = 0;
  for (let r = 0; r < ZIPF.features; r++) cdf[r] = acc += 1 / Math.pow(r + 1, ZIPF.s);
  const bucket = new Int32Array(ZIPF.features);
  for (let r = 0; r < ZIPF.features; r++) bucket[r] = Math.floor(rng() * SHAPE.V);
  return () => {
    const x = rng() * acc;
    let lo = 0;
    let hi = ZIPF.features - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cdf[mid] < x) lo = mid + 1;
      else hi = mid;
    }
    return bucket[lo];
  };
}

function syntheticData(n: number, seed: number, kind: IdKind): FeaturizedExample[] {
  const rng = seedrandom.alea(String(seed));
  const draw = idSampler(kind, rng);
  const ids = (L: number) => Int32Array.from({ length: L }, draw);
  return Array.from({ length: n }, (_, i) => {
    const item = { id: `i${i}`, text: '', source: { file: '-', line: i + 1 } };
    return {
      example: { queryId: `q${i}`, query: '', positive: item, negatives: [], source: item.source },
      query: ids(SHAPE.Lq),
      positive: ids(SHAPE.Li),
      negatives: [],
    };
  });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

interface RunResult {
  backend: string;
  ids: IdKind;
  threads: number;
  /** The WebAssembly SIMD kernels ran (else the JavaScript ones: RLENS_SIMD=0, or no SIMD here). */
  simd: boolean;
  steps: number;
  msPerStep: number;
  minMs: number;
  cpuMsPerStep: number;
  examplesPerSec: number;
  peakRssGB: number;
  numTensorsFirst: number;
  numTensorsLast: number;
  distinctRows: number;
  phases: StepPhases;
  /** With 2 threads: share of host phases that ran on the main thread alone (worker starved). */
  inlineShare: number;
  /** 1-minute load average when the run started (other processes compete for the cores). */
  load: number;
}

/** Runs in a child process for one configuration; prints one JSON line. */
async function runOne(backend: BackendPreference, steps: number, kind: IdKind, threads: number | undefined): Promise<void> {
  const loadAtStart = os.loadavg()[0];
  const info = await initBackend(backend);
  const cfg = defaultConfig({ train: '-' });
  const params = initTwoTower(cfg.model, 1);
  const trainer = new TwoTowerTrainer(params, cfg.loss, cfg.training.learningRate, { threads, profile: true });
  const data = syntheticData(SHAPE.B * 8, 7, kind);
  let peakRss = process.memoryUsage().rss;
  const times: number[] = [];
  const cpu: number[] = [];
  const phases: StepPhases[] = [];
  const tensorsAfter: number[] = [];
  const distinct: number[] = [];
  const warmup = 3;
  for (let s = 0; s < steps + warmup; s++) {
    const idx = Array.from({ length: SHAPE.B }, (_, k) => (s * SHAPE.B + k) % data.length);
    const batch = buildBatch(data, idx, 0);
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const r = trainer.step(batch, s % 10 === 0);
    const dt = performance.now() - t0;
    const c = process.cpuUsage(c0);
    if (s >= warmup) {
      times.push(dt);
      cpu.push((c.user + c.system) / 1000);
      phases.push(r.phases!);
      distinct.push(trainer.rowIndex(0).count + (params.shared ? 0 : trainer.rowIndex(1).count));
    }
    tensorsAfter.push(tf.memory().numTensors);
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }
  const threadsUsed = trainer.threads;
  const { workerPhases, inlinePhases } = trainer.hostStats;
  trainer.dispose();
  const ms = median(times);
  const phaseMedians = Object.fromEntries(Object.keys(phases[0]).map((k) => [k, median(phases.map((p) => p[k as keyof StepPhases]))])) as unknown as StepPhases;
  const out: RunResult = {
    backend: info.name,
    ids: kind,
    threads: threadsUsed,
    simd: simdModule() !== null,
    steps,
    msPerStep: ms,
    minMs: Math.min(...times),
    cpuMsPerStep: median(cpu),
    examplesPerSec: (SHAPE.B * 1000) / ms,
    peakRssGB: peakRss / 2 ** 30,
    numTensorsFirst: tensorsAfter[0],
    numTensorsLast: tensorsAfter[tensorsAfter.length - 1],
    distinctRows: Math.round(median(distinct)),
    phases: phaseMedians,
    inlineShare: threadsUsed > 1 ? inlinePhases / Math.max(1, workerPhases + inlinePhases) : 0,
    load: loadAtStart,
  };
  console.log(JSON.stringify(out));
}

/** The first python3 that imports torch: `python3` on PATH, else Debian's /usr/bin/python3. */
function torchPython(): string | undefined {
  for (const py of ['python3', '/usr/bin/python3']) {
    try {
      execFileSync(py, ['-c', 'import torch'], { stdio: 'ignore' });
      return py;
    } catch {
      // try the next one
    }
  }
  return undefined;
}

function fmtPhases(p: StepPhases): string {
  return `bags ${p.bagForward.toFixed(0)} · dense ${p.dense.toFixed(0)} · index ${p.rowIndex.toFixed(0)} · update ${p.update.toFixed(0)}`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      steps: { type: 'string', default: '30' },
      backends: { type: 'string', default: 'node,wasm,cpu' },
      ids: { type: 'string', default: 'uniform,zipf' },
      threads: { type: 'string', default: '' },
      repeat: { type: 'string', default: '1' },
      simd: { type: 'string', default: 'on' },
      parts: { type: 'string', default: 'tfjs,torch-step,torch-trainer' },
      child: { type: 'string' },
      'child-ids': { type: 'string' },
      'child-threads': { type: 'string' },
    },
  });
  const steps = Number(values.steps);
  if (values.child) {
    const th = values['child-threads'] ? Number(values['child-threads']) : undefined;
    return runOne(values.child as BackendPreference, steps, values['child-ids'] as IdKind, th);
  }
  const kinds = values.ids!.split(',') as IdKind[];
  const threadList = values.threads ? values.threads.split(',') : [''];
  const repeat = Math.max(1, Number(values.repeat));
  const simdModes = values.simd!.split(',') as ('on' | 'off')[];
  console.log(
    `paper shape: B ${SHAPE.B}, ${SHAPE.Lq}/${SHAPE.Li} features, V 2^18, E ${SHAPE.E}, H ${SHAPE.H}, D ${SHAPE.D}; adaptive softmax + symmetric, Adam`,
  );
  console.log(`ids: uniform = uniform over the buckets (worst case); zipf = Zipf(s ${ZIPF.s}) over 2^20 hashed features (realistic text)`);
  console.log(
    `${os.cpus().length} cores, load ${os
      .loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')}; ms/step = median wall time; cpu = process CPU time per step (all threads), less sensitive to other processes`,
  );
  const parts = new Set(values.parts!.split(','));
  const rows: RunResult[] = [];
  for (const b of parts.has('tfjs') ? values.backends!.split(',') : []) {
    const n = b === 'cpu' ? Math.min(steps, 5) : steps;
    for (const kind of kinds) {
      for (const th of threadList) {
        // Each repeat runs every SIMD mode once (fresh processes, interleaved), so load drifts hit both alike.
        const runsBy: RunResult[][] = simdModes.map(() => []);
        let failure = '';
        for (let rep = 0; rep < repeat && !failure; rep++) {
          for (const [i, mode] of simdModes.entries()) {
            const args = ['--import', 'tsx', __filename, '--child', b, '--steps', String(n), '--child-ids', kind, ...(th ? ['--child-threads', th] : [])];
            const env = { ...process.env, RLENS_SIMD: mode === 'off' ? '0' : '1' };
            const r = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 1 << 24, env });
            const line = r.stdout.trim().split('\n').pop() ?? '';
            try {
              runsBy[i].push(JSON.parse(line) as RunResult);
            } catch {
              const lines = (r.stderr || line).trim().split('\n');
              failure = lines.find((l) => /error/i.test(l)) ?? lines[lines.length - 1];
              break;
            }
          }
        }
        if (runsBy[0].length === 0) {
          console.log(`${b.padEnd(5)} ${kind.padEnd(7)} → unavailable: ${failure}`);
          break;
        }
        const shown: RunResult[] = [];
        for (const runs of runsBy) {
          if (runs.length === 0) continue;
          // The run with the median ms/step (its phases and load), with the best minimum and the worst RSS.
          const mid = [...runs].sort((a, b) => a.msPerStep - b.msPerStep)[Math.floor(runs.length / 2)];
          const res = { ...mid, minMs: Math.min(...runs.map((x) => x.minMs)), peakRssGB: Math.max(...runs.map((x) => x.peakRssGB)) };
          rows.push(res);
          shown.push(res);
          const reps = runs.length > 1 ? ` (median of ${runs.length} runs: ${runs.map((x) => x.msPerStep.toFixed(0)).join(', ')})` : '';
          console.log(
            `${b.padEnd(5)} ${kind.padEnd(7)} → ${res.backend.padEnd(10)} ${res.threads} thr ${res.simd ? 'simd' : 'js  '} ${res.msPerStep.toFixed(1).padStart(7)} ms/step (min ${res.minMs.toFixed(0)}, cpu ${res.cpuMsPerStep.toFixed(0)})` +
              `  ${res.examplesPerSec.toFixed(0).padStart(5)} ex/s  peak RSS ${res.peakRssGB.toFixed(2)} GB  tensors ${res.numTensorsFirst}→${res.numTensorsLast}` +
              `  ${res.distinctRows} rows/step  [${fmtPhases(res.phases)}]${res.inlineShare > 0 ? `  ${(100 * res.inlineShare).toFixed(0)}% of host phases inline (busy machine)` : ''}` +
              `  load ${res.load.toFixed(1)}  (${res.steps} steps)${reps}`,
          );
        }
        const simd = shown.find((r) => r.simd);
        const js = shown.find((r) => !r.simd);
        if (simd && js) {
          const ratio = (k: keyof StepPhases) => `${k} ${(js.phases[k] / Math.max(simd.phases[k], 1e-9)).toFixed(2)}×`;
          console.log(
            `  ratio js/simd: step ${(js.msPerStep / simd.msPerStep).toFixed(2)}×, cpu ${(js.cpuMsPerStep / simd.cpuMsPerStep).toFixed(2)}×, ${ratio('bagForward')}, ${ratio('update')} (> 1: SIMD faster)`,
          );
        }
      }
    }
  }
  if (parts.has('torch-step')) torchStep(kinds, steps, rows);
  if (parts.has('torch-trainer')) await torchTrainerStep(steps, rows);
}

/** bench/torch_step.py: the same model and step in plain PyTorch, beside the tfjs rows. */
function torchStep(kinds: IdKind[], steps: number, rows: RunResult[]): void {
  const py = torchPython();
  if (!py) {
    console.log('pytorch → unavailable (no python3 with torch; Debian: apt-get install python3-torch)');
    return;
  }
  for (const kind of kinds) {
    try {
      const out = execFileSync(py, [path.join(__dirname, 'torch_step.py'), '--steps', String(steps), '--ids', kind], { encoding: 'utf8' })
        .trim()
        .split('\n')
        .pop()!;
      const t = JSON.parse(out);
      console.log(
        `pytorch ${kind.padEnd(7)} (cpu, ${t.threads} threads, torch ${t.torch}) ${t.msPerStep.toFixed(1)} ms/step  peak RSS ${t.peakRssGB.toFixed(2)} GB  ${t.distinctRows ?? '?'} rows/step`,
      );
      for (const r of rows.filter((x) => x.ids === kind))
        console.log(`  ratio pytorch/${r.backend} ${r.threads} thr: ${(t.msPerStep / r.msPerStep).toFixed(2)}× (> 1: tfjs faster)`);
    } catch (e) {
      console.log(`pytorch ${kind} → failed: ${(e as Error).message.split('\n')[0]}`);
    }
  }
}

/** What `retrieval_lens.bench_step` prints (rank 0; python/retrieval_lens/bench_step.py). */
interface BenchStepResult {
  msPerStep: number[];
  median: number;
  /** Rank 0's peak resident set, MiB. */
  peakRssMb: number;
}

/**
 * The PyTorch trainer's step at the paper's shape through its package (python/retrieval_lens): 1
 * process, then 2 processes under `python -m retrieval_lens.launch`, the way trainer.kind "torchrun" runs it.
 */
async function torchTrainerStep(steps: number, rows: RunResult[]): Promise<void> {
  const py = await resolvePython(undefined);
  const env = { ...process.env, PYTHONPATH: [pythonPackageRoot(), process.env.PYTHONPATH].filter(Boolean).join(path.delimiter) };
  const found = spawnSync(py, ['-c', 'import importlib.util, sys; sys.exit(0 if importlib.util.find_spec("retrieval_lens.bench_step") else 1)'], {
    env,
    encoding: 'utf8',
  });
  if (found.status !== 0) {
    console.log(`pytorch trainer → skipped: retrieval_lens.bench_step not found${found.error ? ` (${found.error.message})` : ''}`);
    return;
  }
  const runs: { label: string; nproc: number; batch: number }[] = [
    { label: '1 process, B 350', nproc: 1, batch: 350 },
    { label: '2 processes × 175 (gathered 350)', nproc: 2, batch: 175 },
    { label: '2 processes × 350 (gathered 700)', nproc: 2, batch: 350 },
  ];
  for (const run of runs) {
    const benchArgs = ['--batch', String(run.batch), '--steps', String(steps)];
    let args: string[];
    if (run.nproc === 1) args = ['-m', 'retrieval_lens.bench_step', ...benchArgs];
    else {
      // torchrunArgs ends with the trainer's own arguments (config, --out, --steps, --set): put bench_step's instead.
      const base = torchrunArgs({
        configPath: '-',
        overrides: [],
        trainer: { kind: 'torchrun', nprocPerNode: run.nproc, module: 'retrieval_lens.bench_step' },
      });
      args = [...base.slice(0, base.indexOf('retrieval_lens.bench_step') + 1), ...benchArgs];
    }
    const r = spawnSync(py, args, { env, encoding: 'utf8', maxBuffer: 1 << 24 });
    const line = r.stdout
      .trim()
      .split('\n')
      .reverse()
      .find((l) => l.trim().startsWith('{'));
    let res: BenchStepResult | undefined;
    try {
      res = line ? (JSON.parse(line) as BenchStepResult) : undefined;
    } catch {
      res = undefined;
    }
    if (!res || !Array.isArray(res.msPerStep) || res.msPerStep.length === 0) {
      const lines = (r.stderr || r.stdout || String(r.error ?? '')).trim().split('\n');
      console.log(`pytorch trainer ${run.label} → failed (exit ${r.status}): ${lines.find((l) => /error/i.test(l)) ?? lines[lines.length - 1]}`);
      continue;
    }
    const ms = res.median;
    const gathered = run.nproc * run.batch;
    console.log(
      `pytorch trainer ${run.label.padEnd(34)} ${ms.toFixed(1).padStart(7)} ms/step (min ${Math.min(...res.msPerStep).toFixed(0)})` +
        `  ${((gathered * 1000) / ms).toFixed(0).padStart(5)} ex/s  peak RSS ${(res.peakRssMb / 1024).toFixed(2)} GB per process  (${res.msPerStep.length} steps, ${py})`,
    );
    if (gathered === SHAPE.B) {
      for (const t of rows.filter((x) => x.ids === 'uniform'))
        console.log(`  ratio pytorch trainer/${t.backend} ${t.threads} thr: ${(ms / t.msPerStep).toFixed(2)}× (> 1: tfjs faster)`);
    }
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
