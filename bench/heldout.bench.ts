/**
 * What live held-out evaluation costs: trains the same config with evaluation.every 0 (off) and "auto" (the
 * default: held-out evaluation within evaluation.heldOutBudget, 10%, of the training time), each in its own
 * `retrieval-lens train` process, interleaved, and prints both wall times (process start to exit: data
 * loading, training, held-out preparation, BM25 reference, evaluations, checkpoints), the overhead ratio
 * (auto − off) / off, the same for CPU time (user + system of the CLI and its trainer, by GNU time; other
 * processes on a loaded machine disturb it less than wall time), and the run's own account (its log: "held-out: N evaluations took X s …, Y% of Z s of
 * training") with the sample it searched and the last held-out and BM25 recall@10.
 *
 * Data sets: the bundled example (examples/shop, its config and 300 steps; `npm run example:generate` first)
 * and, when present, the BEIR set /work/shared/datasets/pycode (50,829 Python functions, 5,000 test queries,
 * 39,674 training pairs; `--pycode <folder>` elsewhere) with the example's model and loss, batch 256 and
 * `--pycode-steps` (1000) steps; absent, the benchmark says so and skips it.
 *
 *   npm run bench:heldout [-- --sets shop,pycode --repeats 1 --pycode-steps 1000 --isolate-core 1]
 *
 * The machine is shared and wall times are noisy: compare the two numbers of one repeat, run several repeats,
 * and read the run's own account beside them (it times only what held-out evaluation adds). `--isolate-core N`
 * runs every training process (the CLI and its trainer) on core N alone at real-time round-robin priority
 * (`taskset -c N chrt -r 10`, root only): other processes on the machine then cannot take that core from it, so
 * both wall times are those of a quiet one-core machine (the other cores keep serving everything else; Linux's
 * real-time throttling leaves 5% of the core to others).
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseArgs } from 'util';
import { PYCODE_DEFAULT, writePycodeConfig } from './support/pycode';

const ROOT = path.resolve(__dirname, '..');
const CLI = path.join(ROOT, 'bin', 'retrieval-lens.js');
const SHOP = path.join(ROOT, 'examples', 'shop', 'shop.rlens.json');
/** GNU time: the CPU time of the training process and its trainer child (less disturbed by other load than wall time). */
const TIME = '/usr/bin/time';

const { values: args } = parseArgs({
  options: {
    sets: { type: 'string', default: 'shop,pycode' },
    repeats: { type: 'string', default: '1' },
    pycode: { type: 'string', default: PYCODE_DEFAULT },
    'pycode-steps': { type: 'string', default: '1000' },
    'isolate-core': { type: 'string' },
  },
});

interface Outcome {
  wallS: number;
  /** User + system CPU seconds of the CLI and its trainer process (GNU time), null without /usr/bin/time. */
  cpuS: number | null;
  account: string | null;
  sample: string | null;
  last: string | null;
  best: string | null;
}

/** Runs one training process; returns its wall time and what its run folder says. */
function train(config: string, sets: string[], out: string): Outcome {
  const t0 = performance.now();
  const core = args['isolate-core'];
  const priority = core !== undefined ? ['taskset', '-c', core, 'chrt', '-r', '10'] : ['nice', '-n', '10'];
  const cmd = [...priority, process.execPath, CLI, 'train', config, '--out', out, ...sets.flatMap((s) => ['--set', s])];
  const timed = fs.existsSync(TIME) ? [TIME, '-f', 'RLENS_CPU %U %S', ...cmd] : cmd;
  const r = spawnSync(timed[0], timed.slice(1), { encoding: 'utf8', maxBuffer: 1 << 28 });
  const wallS = (performance.now() - t0) / 1000;
  const cpu = /RLENS_CPU ([\d.]+) ([\d.]+)/.exec(r.stderr ?? '');
  if (r.status !== 0) throw new Error(`train ${config} ${sets.join(' ')} exited ${r.status}:\n${r.stderr.slice(-2000)}\n${r.stdout.slice(-2000)}`);
  const runDir = /^run (.+)$/m.exec(r.stdout)?.[1];
  if (!runDir) throw new Error(`no run folder in the output of train ${config}`);
  const events = fs
    .readFileSync(path.join(runDir, 'events.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { type: string; message?: string; metrics?: Record<string, number>; step?: number; heldOut?: { description: string } });
  const logs = events.filter((e) => e.type === 'log').map((e) => e.message!);
  const evals = events.filter((e) => e.type === 'eval');
  const lastEval = evals.at(-1);
  const meta = JSON.parse(fs.readFileSync(path.join(runDir, 'meta.json'), 'utf8')) as {
    checkpoints: { best?: { step: number; rule?: string; value: number } };
  };
  const best = meta.checkpoints.best;
  return {
    wallS,
    cpuS: cpu ? Number(cpu[1]) + Number(cpu[2]) : null,
    account: logs.find((m) => /^held-out: \d+ evaluations? took/.test(m)) ?? null,
    sample: lastEval?.heldOut?.description ?? null,
    last: lastEval
      ? `step ${lastEval.step}: held-out recall@10 ${lastEval.metrics!['recall@10'].toFixed(3)}, BM25 ${lastEval.metrics!['bm25/recall@10']?.toFixed(3) ?? 'n/a'} (${evals.length} evaluations)`
      : null,
    best: best ? `best: step ${best.step} by rule ${best.rule ?? '?'} (${best.value.toFixed(3)})` : null,
  };
}

function main(): void {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rlens-heldout-bench-'));
  const sets = args.sets!.split(',');
  const repeats = Number(args.repeats);
  const isolated = args['isolate-core'] !== undefined ? ` · training on core ${args['isolate-core']} alone, real-time priority` : '';
  console.log(`held-out overhead benchmark · ${os.cpus().length} cores · load ${os.loadavg()[0].toFixed(1)}${isolated} · ${new Date().toISOString()}`);
  for (const set of sets) {
    let config: string | null;
    if (set === 'shop') {
      config = fs.existsSync(path.join(ROOT, 'examples', 'shop', 'data', 'train.jsonl')) ? SHOP : null;
      if (!config) console.log('\nshop: skipped, examples/shop/data is missing (npm run example:generate)');
    } else if (set === 'pycode') {
      config = writePycodeConfig(args.pycode!, tmp, 'pycode-heldout-bench', Number(args['pycode-steps']));
      if (!config) console.log(`\npycode: skipped, ${args.pycode} is absent (no corpus.jsonl / train.jsonl there)`);
    } else throw new Error(`unknown set ${set} (shop, pycode)`);
    if (!config) continue;
    console.log(`\n${set}: ${config}`);
    const ratios: number[] = [];
    for (let r = 0; r < repeats; r++) {
      // Interleaved, off first in even repeats and auto first in odd ones (load drifts over minutes).
      const order = r % 2 === 0 ? (['0', 'auto'] as const) : (['auto', '0'] as const);
      const got: Record<string, Outcome> = {};
      for (const every of order) got[every] = train(config, [`evaluation.every=${every === '0' ? 0 : 'auto'}`], path.join(tmp, `${set}-${r}-${every}`));
      const off = got['0'];
      const on = got.auto;
      const ratio = (on.wallS - off.wallS) / off.wallS;
      ratios.push(ratio);
      console.log(
        `  repeat ${r + 1}: wall time every 0 ${off.wallS.toFixed(1)} s · every "auto" ${on.wallS.toFixed(1)} s · overhead ${(100 * ratio).toFixed(1)}% (target ≤ 10%)`,
      );
      if (off.cpuS !== null && on.cpuS !== null)
        console.log(
          `    CPU time every 0 ${off.cpuS.toFixed(1)} s · every "auto" ${on.cpuS.toFixed(1)} s · overhead ${((100 * (on.cpuS - off.cpuS)) / off.cpuS).toFixed(1)}%`,
        );
      console.log(`    held-out sample: ${on.sample ?? 'none'}`);
      console.log(`    run's account:   ${on.account ?? 'none'}`);
      console.log(`    last evaluation: ${on.last ?? 'none'}`);
      console.log(`    ${on.best ?? 'no best checkpoint'} · without held-out: ${off.best ?? 'none'}`);
    }
    if (repeats > 1) {
      const sorted = [...ratios].sort((a, b) => a - b);
      const median = sorted.length % 2 ? sorted[(sorted.length - 1) / 2] : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
      console.log(
        `  overhead per repeat: ${ratios.map((x) => `${(100 * x).toFixed(1)}%`).join(', ')} · median ${(100 * median).toFixed(1)}% · max ${(100 * sorted.at(-1)!).toFixed(1)}%`,
      );
    }
  }
  fs.rmSync(tmp, { recursive: true, force: true });
}

main();
