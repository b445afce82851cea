/**
 * The processes of a sweep (src/core/experiments/scheduler.ts): each run trains in its own background
 * process, started by launchTraining (launch/launchTraining.ts: the built-in trainer, or the PyTorch
 * trainer under torchrun when the config says `trainer.kind: "torchrun"`), exactly as `retrieval-lens
 * train` does, and is evaluated in a trainer process as `eval` does (startEvaluation of client.ts).
 * Used by the CLI and the extension.
 */
import { execFileSync } from 'child_process';
import * as path from 'path';
import { loadConfig } from '../core/config/loadConfig';
import type { ExperimentConfig } from '../core/config/types';
import type { EvalOutcome, JobHandle, SweepLauncher, TrainOutcome } from '../core/experiments/scheduler';
import type { EvalEntry } from '../core/eval/types';
import { VERSION } from '../core/version';
import { startEvaluation, type TrainerOptions } from './client';
import { launchTraining } from './launch/launchTraining';
import type { FromTrainer } from './protocol';

/** Retrieval Lens' version and, when its code lives in a git checkout, the commit (null otherwise). */
export function codeVersion(): { retrievalLens: string; gitCommit: string | null } {
  let gitCommit: string | null = null;
  try {
    gitCommit =
      execFileSync('git', ['rev-parse', 'HEAD'], { cwd: path.resolve(__dirname), stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 })
        .toString()
        .trim() || null;
  } catch {
    // not a git checkout (an installed extension), or no git
  }
  return { retrievalLens: VERSION, gitCommit };
}

export interface LauncherOptions extends Pick<TrainerOptions, 'onOutput' | 'env'> {
  /** Every message of every trainer process, with the run it belongs to (null before `started`). */
  onMessage?: (m: FromTrainer, runDir: string | null) => void;
}

/** The run's config, or null when it does not load (its trainer then reports the located problems and the run fails). */
function configOf(configPath: string, overrides: string[]): ExperimentConfig | null {
  try {
    return loadConfig(configPath, overrides).config;
  } catch {
    return null;
  }
}

/** A launcher starting background trainer processes. */
export function trainerLauncher(opts: LauncherOptions = {}): SweepLauncher {
  const procOpts: TrainerOptions = { onOutput: opts.onOutput, env: opts.env };
  return {
    code: codeVersion,
    train(job): JobHandle<TrainOutcome> {
      let runDir: string | null = null;
      const h = launchTraining(
        configOf(job.configPath, job.overrides),
        { configPath: job.configPath, overrides: job.overrides, steps: job.steps },
        {
          ...procOpts,
          onMessage: (m) => {
            if (m.type === 'started') {
              runDir = path.resolve(m.runDir);
              job.onRunDir(runDir);
            }
            opts.onMessage?.(m, runDir);
          },
        },
      );
      return {
        stop: () => h.stop(),
        done: h.done.then((d) =>
          d
            ? { status: d.status, runDir: d.runDir ? path.resolve(d.runDir) : runDir, error: d.error?.message ?? null }
            : { status: 'lost', runDir, error: h.failure?.message ?? 'the trainer process ended without reporting the end of the run' },
        ),
      };
    },
    evaluate(job): JobHandle<EvalOutcome> {
      let entry: EvalEntry | null = null;
      let error: string | null = null;
      const h = startEvaluation(
        { runDir: job.runDir, checkpoint: 'last' },
        (m) => {
          if (m.type === 'evaluated') entry = m.entry;
          if (m.type === 'error') error = m.message;
          opts.onMessage?.(m, job.runDir);
        },
        procOpts,
      );
      return {
        stop: () => h.stop(),
        done: h.done.then((d) =>
          d
            ? { status: d.status, entry, error: error ?? d.error?.message ?? null }
            : { status: 'lost', entry: null, error: h.failure?.message ?? 'the evaluation process ended without reporting the end of its job' },
        ),
      };
    },
  };
}
