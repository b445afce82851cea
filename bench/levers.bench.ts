/**
 * The quality levers of issue 18 measured on a BEIR set with ≥ 50k items: BM25-mined hard negatives
 * (`data.hardNegatives`) off and on, and the hybrid (RRF of BM25 and the dense ranking) column, over several seeds.
 *
 * Each arm × seed trains in its own `retrieval-lens train` process (the default live held-out evaluation,
 * `evaluation.every` "auto") and is then evaluated on the full test set (`retrieval-lens eval --checkpoint last`:
 * 5,000 queries against the whole corpus, exact search, BM25 and hybrid). Printed per arm: held-out recall@10 (the
 * run's last live evaluation, from eval/metrics.json), full exact, BM25 and hybrid recall@10 — per seed and
 * mean ± sample std — and, for each column, hard negatives against none by the project's rule for "beats"
 * (Welch's two-sided t-test, α 0.05, src/core/experiments/claim.ts) with the paired gain (same seed, same data
 * order in both arms).
 *
 * Data: /work/shared/datasets/pycode (`--pycode <folder>` elsewhere) with the bundled example's model and loss,
 * batch 256; absent, the benchmark says so and exits 0.
 *
 *   npm run bench:levers [-- --seeds 1,2,3 --steps 1000 --per-query 3 --skip-top 0 --concurrency 2]
 *
 * Recall numbers are deterministic per seed; the times printed beside them are noise on a shared machine.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseArgs } from 'util';
import { compareArms, welchTTest } from '../src/core/experiments/claim';
import { readMetrics } from '../src/core/eval/evalOutputs';
import type { EvalEntry } from '../src/core/eval/types';
import { PYCODE_DEFAULT, writePycodeConfig } from './support/pycode';

const ROOT = path.resolve(__dirname, '..');
const CLI = path.join(ROOT, 'bin', 'retrieval-lens.js');

const { values: args } = parseArgs({
  options: {
    pycode: { type: 'string', default: PYCODE_DEFAULT },
    seeds: { type: 'string', default: '1,2,3' },
    steps: { type: 'string', default: '1000' },
    'per-query': { type: 'string', default: '3' },
    'skip-top': { type: 'string', default: '0' },
    concurrency: { type: 'string', default: '2' },
    keep: { type: 'boolean', default: false },
  },
});

type ArmName = 'in-batch only' | 'hard negatives';
const COLUMNS = ['held-out', 'exact', 'BM25', 'hybrid'] as const;
type Column = (typeof COLUMNS)[number];

interface Result {
  arm: ArmName;
  seed: number;
  values: Record<Column, number>;
  heldOutSample: string;
  trainS: number;
  evalS: number;
  mined: string | null;
}

/** Runs the CLI (niced) and resolves with its stdout; rejects with the tail of its output on failure. */
function cli(argv: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('nice', ['-n', '10', process.execPath, CLI, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('close', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`retrieval-lens ${argv.join(' ')} exited ${code}:\n${err.slice(-2000)}\n${out.slice(-2000)}`)),
    );
  });
}

const recall = (m: Record<string, number> | null | undefined, what: string): number => {
  const v = m?.['recall@10'];
  if (v === undefined) throw new Error(`no ${what} recall@10`);
  return v;
};

async function one(config: string, arm: ArmName, seed: number, out: string): Promise<Result> {
  const t0 = performance.now();
  const trained = await cli(['train', config, '--out', out, '--set', `training.seed=${seed}`]);
  const trainS = (performance.now() - t0) / 1000;
  const runDir = /^run (.+)$/m.exec(trained)?.[1];
  if (!runDir) throw new Error(`no run folder in the output of train ${config}`);
  const live = readMetrics(runDir).evaluations.filter((e) => e.heldOut);
  const lastLive = live.at(-1);
  if (!lastLive) throw new Error(`${runDir}: no live held-out evaluation in eval/metrics.json`);
  const t1 = performance.now();
  await cli(['eval', runDir, '--checkpoint', 'last']);
  const evalS = (performance.now() - t1) / 1000;
  const full = readMetrics(runDir)
    .evaluations.filter((e: EvalEntry) => !e.heldOut && !e.queries.subset)
    .at(-1);
  if (!full) throw new Error(`${runDir}: no full evaluation in eval/metrics.json after eval`);
  const mined = /^.*hard negatives for .*$/m.exec(trained)?.[0].trim() ?? null;
  const r: Result = {
    arm,
    seed,
    values: {
      'held-out': recall(lastLive.exact, 'held-out'),
      exact: recall(full.exact, 'exact'),
      BM25: recall(full.bm25, 'BM25'),
      hybrid: recall(full.hybrid, 'hybrid'),
    },
    heldOutSample: `${lastLive.heldOut!.description} (step ${lastLive.step})`,
    trainS,
    evalS,
    mined,
  };
  const v = COLUMNS.map((c) => `${c} ${(100 * r.values[c]).toFixed(2)}`).join(' · ');
  console.log(`  ${arm}, seed ${seed}: ${v} · train ${trainS.toFixed(0)} s, eval ${evalS.toFixed(0)} s${mined ? ` · ${mined}` : ''}`);
  return r;
}

const mean = (v: number[]) => v.reduce((s, x) => s + x, 0) / v.length;
const std = (v: number[]) => (v.length < 2 ? NaN : Math.sqrt(v.reduce((s, x) => s + (x - mean(v)) ** 2, 0) / (v.length - 1)));
const pts = (x: number) => (100 * x).toFixed(2);

async function main(): Promise<void> {
  const seeds = args.seeds!.split(',').map(Number);
  const steps = Number(args.steps);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rlens-levers-bench-'));
  const base = writePycodeConfig(args.pycode!, tmp, 'pycode-levers-bench', steps);
  if (!base) {
    console.log(`levers benchmark: skipped, ${args.pycode} is absent (no corpus.jsonl / train.jsonl there)`);
    return;
  }
  const withHn = path.join(tmp, 'pycode-levers-bench-hardneg.rlens.json');
  const cfg = JSON.parse(fs.readFileSync(base, 'utf8')) as { name: string; data: Record<string, unknown> };
  cfg.name += '-hardneg';
  cfg.data.hardNegatives = { source: 'bm25', perQuery: Number(args['per-query']), skipTop: Number(args['skip-top']) };
  fs.writeFileSync(withHn, JSON.stringify(cfg, null, 2));
  console.log(
    `levers benchmark · ${args.pycode} · ${steps} steps of 256 · hardNegatives perQuery ${args['per-query']} skipTop ${args['skip-top']} · seeds ${seeds.join(', ')} · ` +
      `${os.cpus().length} cores · load ${os.loadavg()[0].toFixed(1)} · ${new Date().toISOString()}`,
  );
  // Hard-negative runs first (the longer ones; the first mines the cache the others read).
  const jobs = seeds.flatMap((seed) => [
    () => one(withHn, 'hard negatives', seed, path.join(tmp, `hn-${seed}`)),
    () => one(base, 'in-batch only', seed, path.join(tmp, `off-${seed}`)),
  ]);
  const results: Result[] = [];
  const worker = async () => {
    for (let job = jobs.shift(); job; job = jobs.shift()) results.push(await job());
  };
  await Promise.all(Array.from({ length: Math.max(1, Number(args.concurrency)) }, worker));
  results.sort((a, b) => a.seed - b.seed);
  const arm = (name: ArmName) => results.filter((r) => r.arm === name);
  const off = arm('in-batch only');
  const on = arm('hard negatives');
  console.log(`\nheld-out sample: ${results[0].heldOutSample}; full: every test query against the whole corpus (exact search)`);
  console.log(`load ${os.loadavg()[0].toFixed(1)} at the end · ${new Date().toISOString()}\n`);
  console.log(`| recall@10 (%, mean ± std) | ${COLUMNS.join(' | ')} |`);
  console.log(`|---|${COLUMNS.map(() => '---').join('|')}|`);
  for (const rs of [off, on]) {
    const cells = COLUMNS.map((c) => {
      const v = rs.map((r) => r.values[c]);
      return `${pts(mean(v))} ± ${pts(std(v))} (${v.map(pts).join(', ')})`;
    });
    console.log(`| ${rs[0].arm} | ${cells.join(' | ')} |`);
  }
  console.log('\nhard negatives vs in-batch only, per column:');
  for (const c of COLUMNS) {
    const a = on.map((r) => r.values[c]);
    const b = off.map((r) => r.values[c]);
    const claim = compareArms({ label: 'hard negatives', values: a }, { label: 'in-batch only', values: b }, `${c} recall@10`);
    const t = a.length > 1 && b.length > 1 ? welchTTest(a, b) : null;
    const paired = on.filter((r) => off.some((o) => o.seed === r.seed)).map((r) => r.values[c] - off.find((o) => o.seed === r.seed)!.values[c]);
    console.log(
      `  ${c}: ${claim.text}${t ? ` · t ${t.t.toFixed(2)}, df ${t.df.toFixed(1)}` : ''} · paired gain ${pts(mean(paired))} ± ${pts(std(paired))} points`,
    );
  }
  console.log('\nhybrid vs exact (same runs), per arm:');
  for (const rs of [off, on]) {
    const h = rs.map((r) => r.values.hybrid);
    const e = rs.map((r) => r.values.exact);
    console.log(`  ${rs[0].arm}: ${compareArms({ label: 'hybrid', values: h }, { label: 'exact', values: e }, 'recall@10').text}`);
  }
  const times = (rs: Result[]) => `train ${Math.min(...rs.map((r) => r.trainS)).toFixed(0)}–${Math.max(...rs.map((r) => r.trainS)).toFixed(0)} s`;
  console.log(`\ntimes (noise on a shared machine): in-batch only ${times(off)}, hard negatives ${times(on)}`);
  if (args.keep) console.log(`runs kept in ${tmp}`);
  else fs.rmSync(tmp, { recursive: true, force: true });
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
