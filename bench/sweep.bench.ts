/**
 * Sweep benchmark: wall time of a 5-value sweep of the bundled example (loss.alpha ∈ {0.1 … 0.9}, one
 * seed, each run trained and evaluated in background trainer processes by the sweep scheduler) against
 * 5 × one run trained and evaluated the way `retrieval-lens train` + `eval` do it (the overhead of
 * scheduling, sweep.json writes and result reading), and the peak memory (RSS of this process and every
 * trainer process under it, sampled from /proc every 200 ms) at the configured concurrency.
 *   npm run bench:sweep [-- --steps 60 --concurrency 1 --values 0.1,0.3,0.5,0.7,0.9 --baseline-runs 5]
 * (--baseline-runs: how many single runs are timed, one per value; 0 skips the comparison.)
 * Runs and sweep folders go to a temp folder (removed afterwards).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseArgs } from 'util';
import { createSweep } from '../src/core/experiments/newSweep';
import { SweepScheduler, type SweepLauncher } from '../src/core/experiments/scheduler';
import { sweepSummaryText } from '../src/core/experiments/summary';
import { parseValueList } from '../src/core/experiments/sweepPlan';
import { loadConfig } from '../src/core/config/loadConfig';
import { codeVersion, trainerLauncher } from '../src/trainer/sweepLauncher';

const EXAMPLE = path.resolve(__dirname, '../examples/shop/shop.rlens.json');

/** RSS in bytes of `root` and all its descendants (Linux /proc). */
function treeRss(root: number): number {
  const children = new Map<number, number[]>();
  const rss = new Map<number, number>();
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const pages = Number(fs.readFileSync(`/proc/${name}/statm`, 'utf8').split(' ')[1]);
      const pid = Number(name);
      rss.set(pid, pages * 4096);
      children.set(ppid, [...(children.get(ppid) ?? []), pid]);
    } catch {
      // the process ended meanwhile
    }
  }
  let total = 0;
  const stack = [root];
  while (stack.length > 0) {
    const p = stack.pop() as number;
    total += rss.get(p) ?? 0;
    stack.push(...(children.get(p) ?? []));
  }
  return total;
}

/** Peak tree RSS while `fn` runs. */
async function withPeakRss<T>(fn: () => Promise<T>): Promise<{ value: T; peakGB: number; ms: number }> {
  let peak = treeRss(process.pid);
  const timer = setInterval(() => (peak = Math.max(peak, treeRss(process.pid))), 200);
  const t0 = performance.now();
  try {
    const value = await fn();
    return { value, peakGB: peak / 2 ** 30, ms: performance.now() - t0 };
  } finally {
    clearInterval(timer);
  }
}

async function main(): Promise<void> {
  const { values: args } = parseArgs({
    options: {
      steps: { type: 'string', default: '60' },
      concurrency: { type: 'string' },
      values: { type: 'string', default: '0.1,0.3,0.5,0.7,0.9' },
      'baseline-runs': { type: 'string', default: '5' },
    },
  });
  const steps = Number(args.steps);
  const values = parseValueList(args.values!);
  const concurrency = args.concurrency ? Number(args.concurrency) : loadConfig(EXAMPLE).config.sweep.concurrency;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rlens-bench-sweep-'));
  const base = [`output.runsDir=${JSON.stringify(path.join(tmp, 'runs'))}`];
  console.log(`example ${EXAMPLE}: ${values.length} values of loss.alpha, ${steps} steps each, concurrency ${concurrency}; load ${os.loadavg()[0].toFixed(1)}`);
  try {
    const launcher = trainerLauncher();
    // One run as the CLI does it: train, then evaluate (its own processes, one after the other), once per value.
    const baselineRuns = Number(args['baseline-runs']);
    const singles: { ms: number; peakGB: number }[] = [];
    for (let i = 0; i < baselineRuns; i++) {
      const v = values[i % values.length];
      const single = await withPeakRss(async () => {
        const t = await launcher.train({ configPath: EXAMPLE, overrides: [...base, `loss.alpha=${v}`], steps, onRunDir: () => undefined }).done;
        if (t.status !== 'completed' || !t.runDir) throw new Error(`single run: ${t.status} ${t.error ?? ''}`);
        const e = await launcher.evaluate({ runDir: t.runDir }).done;
        if (e.status !== 'completed') throw new Error(`single evaluation: ${e.status} ${e.error ?? ''}`);
      });
      singles.push(single);
      console.log(`one run (α ${v}, train + evaluate): ${(single.ms / 1000).toFixed(1)} s, peak RSS ${single.peakGB.toFixed(2)} GB`);
    }
    const { dir } = createSweep({
      configPath: EXAMPLE,
      baseOverrides: base,
      sweep: { param: 'loss.alpha', values },
      concurrency,
      steps,
      code: codeVersion(),
      root: path.join(tmp, 'sweeps'),
    });
    // The sweep's own cost beside its processes: wall time minus the time its trainer / evaluation processes ran (concurrency 1).
    const inner = trainerLauncher();
    let jobMs = 0;
    const timed = <T>(h: { stop(): void; done: Promise<T> }) => {
      const t0 = performance.now();
      return { stop: () => h.stop(), done: h.done.finally(() => (jobMs += performance.now() - t0)) };
    };
    const timedLauncher: SweepLauncher = {
      code: inner.code,
      train: (job) => timed(inner.train(job)),
      evaluate: (job) => timed(inner.evaluate(job)),
    };
    const sweep = await withPeakRss(() => new SweepScheduler(dir, timedLauncher).run());
    if (concurrency === 1)
      console.log(
        `sweep wall ${(sweep.ms / 1000).toFixed(1)} s = processes ${(jobMs / 1000).toFixed(1)} s + scheduling, sweep.json writes and result reads ${(sweep.ms - jobMs).toFixed(0)} ms`,
      );
    const five = singles.reduce((a, b) => a + b.ms, 0) * (values.length / Math.max(1, singles.length));
    console.log(
      `sweep of ${values.length} values: ${(sweep.ms / 1000).toFixed(1)} s, peak RSS ${sweep.peakGB.toFixed(2)} GB at concurrency ${concurrency}` +
        (singles.length > 0
          ? ` · ${values.length} × one run: ${(five / 1000).toFixed(1)} s (${sweep.ms >= five ? '+' : ''}${(((sweep.ms - five) / five) * 100).toFixed(1)}%)`
          : ''),
    );
    console.log(sweepSummaryText(sweep.value));
    console.log(`load after ${os.loadavg()[0].toFixed(1)}`);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
