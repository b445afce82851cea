/**
 * Streaming training data benchmark: `train --steps 20` at the paper's shape (B 350, V 2^18, E 128,
 * H 256, D 128, adaptive softmax + symmetric term; the config defaults) on generated JSONL files of
 * 1M, 3M (and 10M) pairs (bench/makeTrainData.ts: the bundled example, ≈ 420 bytes a pair) and on
 * the bundled example itself. Every size is trained twice through the CLI (dist/cli.js, which forks
 * the background trainer): first with no line index (it is built: one pass over the file), then
 * with the cached index. Prints pairs, file size, wall time, time to the first step (from the start
 * of the CLI to step 1's event time), and the peak RSS of the trainer process (VmHWM, polled from
 * /proc every 100 ms) and of the CLI + trainer together, and the CPU seconds the CLI and trainer used until
 * step 1 (from /proc; on a busy machine the wall time stretches, the CPU time much less: it is close to the
 * wall time the same start takes on a quiet machine).
 * Each size is then trained by the PyTorch trainer under torchrun (`--torchrun N` ranks, default 2; 0 skips it),
 * once its line index is cached: `python -m retrieval_lens.launch --standalone --nproc_per_node N -m
 * retrieval_lens.train <config> --steps 20`, printing the time to the first step and the peak RSS of each rank
 * (every rank streams only its share of the file's blocks: its RSS should not grow with the data).
 *   npm run bench:data [-- --sizes 1e6,3e6,1e7 --dir /tmp --keep --files existing.jsonl,… --torchrun 2 --trainers node,torchrun]
 * `--files` adds existing data files (counted by their line index, never deleted).
 * Needs `npm run build`. Checks the free space of --dir first; deletes the files afterwards.
 */
import { spawn } from 'node:child_process';
import { statfsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { makeTrainData } from './makeTrainData';
import { indexCacheFiles, lineIndexOf } from '../src/core/data/lineIndex';
import { vmHwm } from './support/procStatus';

const ROOT = path.resolve(__dirname, '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');
const EXAMPLE = path.join(ROOT, 'examples/shop/data/train.jsonl');
const BYTES_PER_PAIR = 450;

/** CPU seconds a process has used so far (user + system, all its threads; Linux /proc), or 0 when it is gone. */
function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime (fields 14, 15) in clock ticks of 1/100 s
  } catch {
    return 0;
  }
}

/** Direct children of a process (Linux /proc). */
function childrenOf(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((tid) => readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').split(' ').filter(Boolean).map(Number));
  } catch {
    return [];
  }
}

/** The step 1 event of the one run in `runs` (its time is when the first step was logged). */
function firstStepOf(runs: string): { time?: string } | undefined {
  const runDir = readdirSync(runs).map((d) => path.join(runs, d))[0];
  return readFileSync(path.join(runDir, 'events.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { type: string; step?: number; time?: string })
    .find((e) => e.type === 'step' && e.step === 1);
}

interface RunResult {
  wallS: number;
  firstStepS: number | null;
  /** CPU seconds of the CLI and the trainer until step 1's event (the wall time a quiet machine would take, nearly). */
  firstStepCpuS: number | null;
  trainerPeak: number;
  totalPeak: number;
  log: string;
}

/** Runs `train <config> --steps 20 --out <runs>` and measures it. */
async function trainOnce(config: string, runs: string): Promise<RunResult> {
  const t0 = Date.now();
  const child = spawn(process.execPath, [CLI, 'train', config, '--steps', '20', '--out', runs], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr.on('data', (d: Buffer) => (log += d.toString()));
  const peaks = new Map<number, number>();
  const cpu = new Map<number, number>();
  const cpuSamples: { t: number; s: number }[] = [];
  const poll = setInterval(() => {
    const pids = [child.pid!, ...childrenOf(child.pid!)];
    for (const pid of pids) {
      peaks.set(pid, Math.max(peaks.get(pid) ?? 0, vmHwm(pid)));
      cpu.set(pid, Math.max(cpu.get(pid) ?? 0, cpuSeconds(pid)));
    }
    cpuSamples.push({ t: Date.now(), s: [...cpu.values()].reduce((a, b) => a + b, 0) });
  }, 100);
  const code = await new Promise<number>((resolve) => child.on('exit', (c) => resolve(c ?? -1)));
  clearInterval(poll);
  const wallS = (Date.now() - t0) / 1000;
  if (code !== 0) throw new Error(`train exited with ${code}:\n${log}`);
  const step1 = firstStepOf(runs);
  const firstStepS = step1?.time ? (Date.parse(step1.time) - t0) / 1000 : null;
  const before = step1?.time ? cpuSamples.filter((x) => x.t <= Date.parse(step1.time!)) : [];
  const firstStepCpuS = before.length > 0 ? before[before.length - 1].s : null;
  const trainerPeak = Math.max(0, ...[...peaks.entries()].filter(([pid]) => pid !== child.pid).map(([, v]) => v));
  const totalPeak = [...peaks.values()].reduce((a, b) => a + b, 0);
  return { wallS, firstStepS, firstStepCpuS, trainerPeak, totalPeak, log };
}

/** Every descendant of a process (Linux /proc). */
function descendantsOf(pid: number): number[] {
  const kids = childrenOf(pid);
  return [...kids, ...kids.flatMap(descendantsOf)];
}

/** The RANK of a torchrun worker process (from its environment), or null for another process. */
function rankOf(pid: number): number | null {
  try {
    const env = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    const rank = env.find((e) => e.startsWith('RANK='));
    return rank && cmd.includes('retrieval_lens.train') ? Number(rank.slice(5)) : null;
  } catch {
    return null;
  }
}

/** `train <config> --steps 20` by the PyTorch trainer under torchrun with `nproc` ranks: first step and each rank's peak RSS. */
async function torchrunOnce(
  config: string,
  runs: string,
  nproc: number,
): Promise<{ wallS: number; firstStepS: number | null; rankPeaks: number[]; rankCpuToStep1: number[] }> {
  const t0 = Date.now();
  const args = [
    '-m',
    'retrieval_lens.launch',
    '--standalone',
    '--nproc_per_node',
    String(nproc),
    '-m',
    'retrieval_lens.train',
    config,
    '--steps',
    '20',
    '--out',
    runs,
  ];
  const env = { ...process.env, PYTHONPATH: path.join(ROOT, 'python'), OMP_NUM_THREADS: '1' };
  const child = spawn('/usr/bin/python3', args, { stdio: ['ignore', 'pipe', 'pipe'], env });
  let log = '';
  child.stdout.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr.on('data', (d: Buffer) => (log += d.toString()));
  const peaks = new Map<number, number>();
  const cpu = new Map<number, { t: number; s: number }[]>();
  const poll = setInterval(() => {
    for (const pid of descendantsOf(child.pid!)) {
      const rank = rankOf(pid);
      if (rank === null) continue;
      peaks.set(rank, Math.max(peaks.get(rank) ?? 0, vmHwm(pid)));
      const s = cpuSeconds(pid);
      if (s > 0) cpu.set(rank, [...(cpu.get(rank) ?? []), { t: Date.now(), s }]);
    }
  }, 100);
  const code = await new Promise<number>((resolve) => child.on('exit', (c) => resolve(c ?? -1)));
  clearInterval(poll);
  if (code !== 0) throw new Error(`torchrun train exited with ${code}:\n${log}`);
  const step1 = firstStepOf(runs);
  const firstStepS = step1?.time ? (Date.parse(step1.time) - t0) / 1000 : null;
  const byRank = <T>(m: Map<number, T>) => [...m.entries()].sort(([a], [b]) => a - b).map(([, v]) => v);
  // CPU seconds of each rank until step 1's event: on a loaded machine the wall time stretches, the CPU time much less.
  const rankCpuToStep1 = byRank(cpu).map((samples) => samples.filter((x) => step1?.time && x.t <= Date.parse(step1.time)).pop()?.s ?? 0);
  return { wallS: (Date.now() - t0) / 1000, firstStepS, rankPeaks: byRank(peaks), rankCpuToStep1 };
}

const gb = (b: number) => (b < 1e9 ? `${(b / 1e6).toFixed(0)} MB` : `${(b / 1e9).toFixed(2)} GB`);

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      sizes: { type: 'string' },
      dir: { type: 'string' },
      keep: { type: 'boolean' },
      files: { type: 'string' },
      torchrun: { type: 'string' },
      trainers: { type: 'string' },
    },
  });
  const nproc = Number(values.torchrun ?? 2);
  const trainers = (values.trainers ?? 'node,torchrun').split(',');
  if (!existsSync(CLI)) throw new Error('dist/cli.js is missing: npm run build first');
  const existing = values.files ? values.files.split(',').map((f) => path.resolve(f)) : [];
  const sizes = (values.sizes ?? (existing.length > 0 ? '' : '1e6,3e6')).split(',').filter(Boolean).map(Number);
  const dir = mkdtempSync(path.join(values.dir ?? os.tmpdir(), 'rlens-data-bench-'));
  const fs0 = statfsSync(dir);
  const free = fs0.bavail * fs0.bsize;
  const need = Math.max(0, ...sizes) * BYTES_PER_PAIR * 1.2;
  if (need > free) throw new Error(`${dir}: ${gb(free)} free, the largest file needs ~${gb(need)}`);
  console.log(
    `data bench in ${dir} (${gb(free)} free), ${os.cpus().length} cores, load ${os
      .loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')}`,
  );
  const rows: string[] = [];
  const torchRows: string[] = [];
  const cases: { label: string; pairs: number | null; make: () => Promise<string> }[] = [
    { label: 'bundled example', pairs: null, make: async () => EXAMPLE },
    ...sizes.map((n) => ({ label: `${n / 1e6}M`, pairs: n, make: async () => (await makeTrainData(n, path.join(dir, `train-${n}.jsonl`)))[0] })),
    ...existing.map((f) => ({ label: path.basename(f), pairs: null, make: async () => f })),
  ];
  try {
    for (const c of cases) {
      const tg = Date.now();
      const file = await c.make();
      const genS = (Date.now() - tg) / 1000;
      const pairs = c.pairs ?? (await lineIndexOf(file)).nonBlank;
      for (const cache of indexCacheFiles(file)) rmSync(cache, { force: true });
      const config = path.join(dir, `bench-${pairs}.rlens.json`);
      writeFileSync(config, JSON.stringify({ name: `data-bench-${pairs}`, data: { train: file }, training: { logEvery: 1, checkpointEvery: 1000 } }, null, 2));
      const size = statSync(file).size;
      for (const pass of trainers.includes('node') ? (['index built', 'index cached'] as const) : []) {
        const runs = mkdtempSync(path.join(dir, 'runs-'));
        const r = await trainOnce(config, runs);
        rmSync(runs, { recursive: true, force: true });
        const row = `| ${pairs.toLocaleString('en')} | ${gb(size)} | ${pass} | ${r.wallS.toFixed(1)} s | ${r.firstStepS === null ? '–' : r.firstStepS.toFixed(1) + ' s'} | ${r.firstStepCpuS === null ? '–' : r.firstStepCpuS.toFixed(1) + ' s'} | ${gb(r.trainerPeak)} | ${gb(r.totalPeak)} |`;
        rows.push(row);
        console.log(`${c.label}${c.pairs ? ` (generated in ${genS.toFixed(0)} s)` : ''}: ${row}`);
      }
      if (trainers.includes('torchrun') && nproc > 0) {
        const ti = Date.now();
        const index = await lineIndexOf(file); // "once indexed": the cache the ranks read (built here when the node rows were skipped)
        const indexS = index.built.fromCache ? 0 : (Date.now() - ti) / 1000;
        const runs = mkdtempSync(path.join(dir, 'runs-'));
        const r = await torchrunOnce(config, runs, nproc);
        rmSync(runs, { recursive: true, force: true });
        const row = `| ${pairs.toLocaleString('en')} | ${gb(size)} | ${nproc} | ${indexS ? `${indexS.toFixed(1)} s` : 'cached'} | ${r.wallS.toFixed(1)} s | ${r.firstStepS === null ? '–' : r.firstStepS.toFixed(1) + ' s'} | ${r.rankCpuToStep1.map((x) => `${x.toFixed(1)} s`).join(' / ')} | ${r.rankPeaks.map(gb).join(' / ')} |`;
        torchRows.push(row);
        console.log(`${c.label} torchrun: ${row}`);
      }
      if (c.pairs !== null && !values.keep) {
        rmSync(file, { force: true });
        for (const cache of indexCacheFiles(file)) rmSync(cache, { force: true });
      }
    }
  } finally {
    if (!values.keep) rmSync(dir, { recursive: true, force: true });
  }
  console.log(
    '\n| training pairs (JSONL) | file | line index | wall time of `train --steps 20` | first step | CPU to the first step | peak RSS (trainer) | peak RSS (CLI + trainer) |',
  );
  console.log('|---|---|---|---|---|---|---|---|');
  for (const r of rows) console.log(r);
  if (torchRows.length === 0) return;
  console.log(
    '\n| training pairs (JSONL) | file | torchrun ranks | line index | wall time of `train --steps 20` | first step | CPU to the first step per rank | peak RSS per rank |',
  );
  console.log('|---|---|---|---|---|---|---|---|');
  for (const r of torchRows) console.log(r);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
