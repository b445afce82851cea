/**
 * Resuming a run (`retrieval-lens train --resume RUN`, the extension's "Resume Run"): which config, steps and
 * run folder the one launcher (launchTraining.ts) starts the trainer with. Only the PyTorch trainer resumes
 * (its checkpoints/last holds resume.json and optimizer.pt: docs/run-format.md §7.3); the built-in trainer's
 * checkpoints hold weights only, so a run of it is refused here with a message that says so.
 *
 * By default the job trains the run's own config.json (what it ran: every default and override applied, data
 * paths absolute), up to the run's totalSteps, and the new run folder goes beside the old one; the trainer
 * files the resumed run under the config the old run recorded (meta.json configPath).
 */
import * as fs from 'fs';
import * as path from 'path';
import { loadConfig } from '../../core/config/loadConfig';
import { readBoundedTextSync } from '../../core/io/safeRead';
import type { ExperimentConfig } from '../../core/config/types';
import { CONFIG_FILE } from '../../core/runs/meta';
import { readRun, type RunSummary } from '../../core/runs/readRun';
import type { TrainingJob } from './launchTraining';

/** A run that cannot be resumed; the message names the file (and JSON path) that says why. */
export class ResumeRefusedError extends Error {
  override name = 'ResumeRefusedError';
}

export interface ResumeOptions {
  /** Config to train (default: the run's config.json) and its `--set` overrides. */
  config?: string;
  overrides?: string[];
  /** Steps of the resumed run (default: the run's totalSteps). */
  steps?: number;
  /** Folder for the new run folder (default: the config's output.runsDir). */
  out?: string;
}

export interface ResumePlan {
  job: TrainingJob & { resume: string };
  /** The job's config, loaded with its overrides. */
  config: ExperimentConfig;
  /** The config the run was trained from (meta.json configPath), else the job's: where the resumed run is filed. */
  recordedConfig: string;
  /** The run's last logged step, and the step of its last checkpoint (where the resumed run continues). */
  step: number;
  checkpointStep: number | null;
}

/** Whether `run` can be resumed: a PyTorch run that ended (stopped, crashed, failed) whose checkpoint to resume from holds resume.json. */
export function isResumable(run: RunSummary): boolean {
  if (!run.meta?.checkpoints.last || !['stopped', 'crashed', 'failed'].includes(run.status) || !run.meta.backend.startsWith('torch-')) return false;
  const ckpt = resumeCheckpointDir(run.dir);
  return ckpt !== null && fs.existsSync(path.join(ckpt, 'resume.json'));
}

/**
 * The checkpoint the PyTorch trainer resumes `runDir` from, by python/retrieval_lens/resume.py's rule:
 * checkpoints/last when it is a folder, else checkpoints/last.old (killed mid-swap, docs/run-format.md §5.3), else null.
 */
export function resumeCheckpointDir(runDir: string): string | null {
  const last = path.join(runDir, 'checkpoints', 'last');
  for (const dir of [last, `${last}.old`]) {
    try {
      if (fs.statSync(dir).isDirectory()) return dir;
    } catch {
      // absent: the next candidate
    }
  }
  return null;
}

/** The job that resumes `runDir`, or a ResumeRefusedError / ConfigError (located) saying why it cannot. */
export function planResume(runDir: string, opts: ResumeOptions = {}): ResumePlan {
  const dir = path.resolve(runDir);
  const run = readRun(dir, { scanBytes: 64 * 1024 });
  if (!run.meta) throw new ResumeRefusedError(`${path.join(dir, 'meta.json')}: not a readable run (${run.problems[0] ?? 'no meta.json'})`);
  if (run.status === 'running') {
    throw new ResumeRefusedError(`${dir}: the run is still running (pid ${run.meta.pid ?? '?'}): stop it first, or wait until it ends`);
  }
  const configPath = path.resolve(opts.config ?? path.join(dir, CONFIG_FILE));
  if (!opts.config && !fs.existsSync(configPath)) throw new ResumeRefusedError(`${configPath}: missing, so what the run trained is unknown; pass its config`);
  const config = loadConfig(configPath, opts.overrides ?? []).config;
  if (config.trainer.kind !== 'torchrun') {
    throw new ResumeRefusedError(
      `${configPath}: $.trainer.kind is "${config.trainer.kind}": the built-in TypeScript trainer writes weights-only checkpoints (no optimizer state or data position) and cannot resume; train again, or use trainer.kind "torchrun" (the PyTorch trainer) for runs that can be resumed`,
    );
  }
  const steps = opts.steps ?? run.totalSteps ?? undefined;
  return {
    job: {
      configPath,
      overrides: opts.overrides ?? [],
      ...(steps !== undefined ? { steps } : {}),
      ...(opts.out ? { runsRoot: opts.out } : {}),
      resume: dir,
    },
    config,
    recordedConfig: run.meta.configPath ?? configPath,
    step: run.step,
    checkpointStep: checkpointStepOf(dir) ?? run.meta.checkpoints.last?.step ?? null,
  };
}

/**
 * The step of the checkpoint the PyTorch trainer resumes from (`step` of its resume.json). meta.json can lag
 * behind it by one checkpoint when the run was killed between writing the checkpoint and updating meta.json;
 * null when unreadable (the trainer then says why).
 */
function checkpointStepOf(dir: string): number | null {
  const ckpt = resumeCheckpointDir(dir);
  if (!ckpt) return null;
  try {
    const step: unknown = (JSON.parse(readBoundedTextSync(path.join(ckpt, 'resume.json'), 'cache key')) as { step?: unknown }).step;
    return Number.isInteger(step) && (step as number) >= 1 ? (step as number) : null;
  } catch {
    return null;
  }
}
