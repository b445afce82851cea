/**
 * `retrieval-lens sweep <config> --param loss.margin --values 0.05,0.1,0.2 [--range a:b:n] [--seeds N]
 * [--concurrency N] [--steps N] [--metric recall@10] [--set k=v …]`, `retrieval-lens sweep --resume <sweep folder>`
 * and `retrieval-lens ablate <config> [--seeds N] [--steps N] [--variants a,b,…]`: create (or reopen) a sweep folder and run
 * it with background trainer processes. Ctrl-C stops the running runs (queued ones stay queued; resume
 * with --resume); a second Ctrl-C leaves at once (the trainers stop on their own when the CLI is gone).
 */
import { ConfigError } from '../core/config/configError';
import { createSweep } from '../core/experiments/newSweep';
import { SweepScheduler } from '../core/experiments/scheduler';
import { ablationText, ablationTable, sweepSummaryText } from '../core/experiments/summary';
import { LockBusyError } from '../core/experiments/sweepLock';
import { ABLATION_JSON, ABLATION_MD, SWEEP_FILE } from '../core/experiments/sweepStore';
import type { AblationVariant, SweepFile } from '../core/experiments/sweepFile';
import { codeVersion, trainerLauncher } from '../trainer/sweepLauncher';
import * as path from 'path';
import { say, terminalSafeLines, warn } from './terminalText';

export interface SweepArgs {
  config?: string;
  resume?: string;
  param?: string;
  values?: number[];
  seeds?: number;
  concurrency?: number;
  steps?: number;
  metric?: string;
  set: string[];
  /** Ablation instead of a sweep. */
  ablate?: boolean;
  /** Ablation: the variants (`--variants`; default the paper's 8). */
  variants?: AblationVariant[];
}

function progressLine(f: SweepFile): string {
  const c = f.summary.counts;
  return `[${c.completed ?? 0}/${f.runs.length} done${c.running ? `, ${c.running} running` : ''}${c.failed ? `, ${c.failed} failed` : ''}]`;
}

/** Runs a new or resumed sweep; prints its summary (or the ablation table). Exit 0 when finished, 1 when runs failed, 130 when cancelled. */
export async function sweepCommand(args: SweepArgs): Promise<number> {
  let dir: string;
  try {
    if (args.resume) dir = path.resolve(args.resume);
    else {
      if (!args.config) throw new Error('a config file is needed (or --resume <sweep folder>)');
      const created = createSweep({
        configPath: args.config,
        baseOverrides: args.set,
        sweep: args.ablate ? undefined : { param: args.param as string, values: args.values as number[] },
        seedCount: args.seeds,
        variants: args.variants,
        concurrency: args.concurrency,
        metric: args.metric,
        steps: args.steps,
        code: codeVersion(),
      });
      dir = created.dir;
    }
  } catch (e) {
    if (e instanceof ConfigError) {
      warn(e.message);
      return 2;
    }
    throw e;
  }
  let last: SweepFile | null = null;
  const scheduler = new SweepScheduler(dir, trainerLauncher({ onOutput: (s, stream) => stream === 'stderr' && process.stderr.write(terminalSafeLines(s)) }), {
    log: (line) => say(`${last ? progressLine(last) + ' ' : ''}${line}`),
    onChange: (f) => (last = f),
  });
  const f0 = scheduler.state;
  say(`${args.resume ? 'resuming' : 'sweep'} ${dir}`);
  say(
    f0.kind === 'ablation'
      ? `ablation: ${f0.runs.length} runs (${new Set(f0.runs.map((r) => r.variant)).size} variants × ${f0.seeds.length} seeds), ${f0.concurrency} at a time`
      : `${f0.param} ∈ {${f0.values.join(', ')}} × seeds {${f0.seeds.join(', ')}}: ${f0.runs.length} runs${f0.runs.some((r) => r.reference) ? ' (with the adaptive reference)' : ''}, ${f0.concurrency} at a time`,
  );
  let interrupts = 0;
  const onSigint = () => {
    interrupts++;
    if (interrupts === 1) scheduler.cancel();
    else {
      warn(`leaving now; the trainers stop on their own. Resume with: retrieval-lens sweep --resume ${dir}`);
      process.exit(130);
    }
  };
  process.on('SIGINT', onSigint);
  let final: SweepFile;
  try {
    final = await scheduler.run();
  } catch (e) {
    if (!(e instanceof LockBusyError)) throw e;
    console.error(`retrieval-lens: ${e.message}`);
    return 2;
  } finally {
    process.off('SIGINT', onSigint);
  }
  say('');
  if (final.kind === 'ablation') {
    say(ablationText(ablationTable(final)));
    say(`\n${path.join(dir, ABLATION_MD)}\n${path.join(dir, ABLATION_JSON)}`);
  } else say(sweepSummaryText(final));
  say(`${path.join(dir, SWEEP_FILE)}`);
  if (scheduler.isCancelled || final.state !== 'finished') {
    say(`unfinished: resume with  retrieval-lens sweep --resume ${dir}`);
    return 130;
  }
  const failed = final.runs.filter((r) => r.status === 'failed');
  for (const r of failed) warn(`run ${r.id} failed: ${r.error}`);
  return failed.length > 0 ? 1 : 0;
}
