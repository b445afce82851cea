/**
 * A training run that outlives the window that started it (the trainer is forked detached with
 * `outliveParent`): after a window reload the extension re-attaches to it through what persists —
 * the run folder and the trainer's pid — instead of the lost IPC channel. Stop is a SIGINT (the
 * trainer finishes its step, writes the last checkpoint and ends as "stopped"); the end is seen in
 * meta.json (or as a crash when the process is gone without a final status). A PyTorch run
 * (torch.distributed.run) is re-attached the same way: its pid leads the process group of its ranks.
 * No VS Code import: unit-tested with real trainer processes.
 */
import * as os from 'os';
import { readRun, type RunSummary } from '../../core/runs/readRun';
import { isPidAlive } from '../../core/runs/status';
import type { FinalRunStatus, RunError, StepEvent } from '../../core/runs/eventSchema';
import { removeEndedTorchrunLogs } from '../../trainer/launch/torchrunOutput';

/** What the extension keeps (workspaceState) about the training it started, to re-attach after a reload. */
export interface DetachedRunRecord {
  configPath: string;
  runDir: string;
  pid: number;
  host: string;
  /** `pid` leads a process group (torch.distributed.run and its ranks): Stop signals the whole group. */
  processGroup?: boolean;
}

/** How a re-attached run ended. */
export interface DetachedRunEnd {
  status: FinalRunStatus | 'crashed';
  step: number;
  error?: RunError;
}

/** Whether the recorded run is still running here (same host, process alive, meta not final). */
export function isStillRunning(rec: DetachedRunRecord): boolean {
  if (rec.host !== os.hostname() || !isPidAlive(rec.pid)) return false;
  return readRun(rec.runDir).status === 'running';
}

/** The end of a run as its folder tells it (`s`: its summary, read now when not given), or null while it is still running. */
export function endOf(rec: DetachedRunRecord, s: RunSummary = readRun(rec.runDir)): DetachedRunEnd | null {
  if (s.status === 'completed' || s.status === 'stopped' || s.status === 'failed') return { status: s.status, step: s.step, error: s.meta?.error };
  if (s.status === 'running' && isPidAlive(rec.pid)) return null;
  return { status: 'crashed', step: s.step, error: { message: 'the trainer process ended without a final status' } };
}

export interface DetachedRunHandle {
  /** Ask the trainer to stop after its step (SIGINT); false when it is already gone. */
  stop(): boolean;
  /** Resolves when the run has ended (polled every `pollMs`). */
  readonly done: Promise<DetachedRunEnd>;
  /** Stop watching (done never resolves afterwards). */
  dispose(): void;
}

/** A newer logged step of a followed run, with the run's planned steps (meta.json). */
export type DetachedRunStep = (step: StepEvent, totalSteps: number | null) => void;

/**
 * Follow a detached run until it ends; `onStep` gets its newest logged step at each poll that finds a newer
 * one (the status bar, lenses and collapse alerts of a re-attached run follow it as they follow a live one).
 */
export function watchDetachedRun(rec: DetachedRunRecord, pollMs = 1000, onStep?: DetachedRunStep): DetachedRunHandle {
  let timer: NodeJS.Timeout | undefined;
  const done = new Promise<DetachedRunEnd>((resolve) => {
    // A PyTorch job's launcher output folder (in the temp dir) lost its owner with the reload: removed once
    // the job's process is gone.
    const sweepWhenGone = () => {
      if (isPidAlive(rec.pid)) timer = setTimeout(sweepWhenGone, pollMs);
      else removeEndedTorchrunLogs(rec.pid);
    };
    let reported = -1;
    const poll = () => {
      const summary = readRun(rec.runDir);
      const last = summary.lastStep;
      if (onStep && last && last.step > reported) {
        reported = last.step;
        onStep(last, summary.totalSteps);
      }
      const end = endOf(rec, summary);
      if (end) {
        resolve(end);
        if (rec.processGroup) sweepWhenGone();
      } else timer = setTimeout(poll, pollMs);
    };
    poll();
  });
  return {
    done,
    stop: () => {
      try {
        process.kill(rec.processGroup ? -rec.pid : rec.pid, 'SIGINT');
        return true;
      } catch {
        return false;
      }
    },
    dispose: () => clearTimeout(timer),
  };
}
