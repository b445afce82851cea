/**
 * The one launcher of training processes, for the CLI (`train`), the extension (Train) and sweeps and
 * ablations (src/trainer/sweepLauncher.ts): the config's `trainer.kind` picks the trainer here, and only
 * here — "node" forks the built-in TensorFlow.js trainer (src/trainer/client.ts, IPC), "torchrun" starts
 * the PyTorch trainer under torch.distributed.run (torchrun.ts, followed through its run folder). Both
 * hand the same typed messages (src/trainer/protocol.ts) to `onMessage` and end as a TrainingProcess:
 * `done` with the trainer's last message, or null with a typed TrainerProcessError.
 */
import type { ExperimentConfig } from '../../core/config/types';
import { describeStartedCounts } from '../../core/data/exampleCount';
import { startTrainer } from '../client';
import type { FromTrainer } from '../protocol';
import { startTorchrunTrainer } from './torchrun';
import type { TrainingProcess } from './trainingProcess';

/** What to train: the config file, `--set` overrides, and optionally the steps and the folder for run folders. */
export interface TrainingJob {
  configPath: string;
  overrides: string[];
  steps?: number;
  /** Folder for run folders (default: the config's output.runsDir). */
  runsRoot?: string;
  /** A run folder to continue from its checkpoints/last (resumeJob.ts plans it; the PyTorch trainer only). */
  resume?: string;
}

export interface LaunchOptions {
  /** Every message of the trainer, checked (protocol.ts). */
  onMessage: (m: FromTrainer) => void;
  /** Output of the trainer process(es), chunk by chunk, with the stream it came on. */
  onOutput?: (chunk: string, stream: 'stdout' | 'stderr') => void;
  /** A message from the built-in trainer that failed its check (ignored). */
  onInvalid?: (reason: string) => void;
  env?: NodeJS.ProcessEnv;
  /**
   * Keep training when this process goes away (a VS Code window reload): the built-in trainer is forked
   * detached and told so; torchrun runs in its own process group anyway. Default false: a lost parent
   * stops the run (the built-in trainer sees its IPC channel close; torchrun's group gets SIGINT).
   */
  outliveParent?: boolean;
}

/**
 * Start training `job`. `config` is the job's config as loaded with its overrides; null when it does
 * not load, and the built-in trainer then reports its located problems (an `error` message, `done`
 * failed), as for any bad config.
 */
export function launchTraining(config: ExperimentConfig | null, job: TrainingJob, opts: LaunchOptions): TrainingProcess {
  if (config?.trainer.kind === 'torchrun') {
    return startTorchrunTrainer({ ...job, trainer: config.trainer }, opts.onMessage, {
      onOutput: opts.onOutput,
      env: opts.env,
      totalStepsHint: job.steps ?? config.training.steps,
      stopWithParent: !opts.outliveParent,
    });
  }
  // resumeJob.ts refuses these first, with the config's location; this guards other callers.
  if (job.resume) throw new Error(`${job.configPath}: the built-in trainer cannot resume a run (trainer.kind "torchrun" can)`);
  const h = startTrainer({ ...job, ...(opts.outliveParent ? { outliveParent: true } : {}) }, opts.onMessage, {
    onOutput: opts.onOutput,
    onInvalid: opts.onInvalid,
    env: opts.env,
    detached: opts.outliveParent ?? false,
  });
  return {
    kind: 'node',
    get pid() {
      return h.child.pid;
    },
    processGroup: false,
    stop: () => h.stop(),
    kill: () => h.kill(),
    done: h.done,
    get failure() {
      return h.failure;
    },
    describeStarted: (m) => `backend ${m.backend} · ${describeStartedCounts(m)} · ${m.totalSteps} steps`,
  };
}
