/**
 * The one live training job of the window: forks the background trainer (dist/trainer.js, never tfjs
 * in the extension host), forwards its log to the output channel and publishes its progress as
 * events for the dashboard, lenses, status bar and notifications.
 *
 * The trainer is forked detached and told to outlive its parent, so a window reload (which restarts
 * the extension host) does not stop the run: the run folder and pid are remembered (`memory`, the
 * workspace state) and the next activation re-attaches to them (`reattach`): the run is live again,
 * its Stop sends SIGINT, and its end is read from the run folder.
 *
 * The trainer is started by launchTraining (src/trainer/launch/launchTraining.ts), which picks it by the
 * config: with `trainer.kind: "torchrun"` the background process is the PyTorch trainer under
 * torch.distributed.run, with the same messages, read from its run folder; Stop is SIGINT to its process group.
 */
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import type { FinalRunStatus, RunError, StepEvent } from '../../core/runs/eventSchema';
import type { ExperimentConfig, TrainerConfig } from '../../core/config/types';
import { launchTraining } from '../../trainer/launch/launchTraining';
import type { TrainingProcess } from '../../trainer/launch/trainingProcess';
import type { ResumePlan } from '../../trainer/launch/resumeJob';
import type { QualityVerdict } from '../../core/quality/qualityVerdict';
import type { FromTrainer } from '../../trainer/protocol';
import { describeStartedCounts, type ExampleCountKind } from '../../core/data/exampleCount';
import { parseConfigText } from '../configEditor/configValidator';
import { samePath } from '../configEditor/experimentFiles';
import { endOf, isStillRunning, watchDetachedRun, type DetachedRunHandle, type DetachedRunRecord } from './detachedRun';
import { readBoundedTextSync } from '../../core/io/safeRead';

/** Where the controller remembers the run it started, across window reloads (the workspace state). */
export interface RunMemory {
  get(): DetachedRunRecord | undefined;
  set(rec: DetachedRunRecord | undefined): void;
}

/** What is known about the live training. */
export interface LiveTraining {
  configPath: string;
  /** Set once the trainer created the run folder ('started'). */
  runDir: string | null;
  totalSteps: number | null;
  backend: string | null;
  /** Training examples and bad lines of data.train, from 'started'. */
  examples: number | null;
  badLines: number | null;
  /** How exact `examples` is ('at most', 'estimate': streamed data before its first epoch was read) and its data lines. */
  count?: ExampleCountKind;
  dataLines?: number;
  /** Latest step message (step messages are throttled to ≤ 10/s by the trainer). */
  last: StepEvent | null;
  /** Latest live held-out evaluation with a quality verdict (its step and verdict). */
  quality?: { step: number; verdict: QualityVerdict };
  stopRequested: boolean;
  /** Re-attached after a window reload: followed through its run folder, no IPC messages. */
  reattached?: boolean;
  /** Which trainer runs it (config `trainer.kind`). */
  trainer?: TrainerConfig['kind'];
}

/** A training of `configPath` that has reported nothing yet (`runDir` is known when re-attaching). */
function newLiveTraining(configPath: string, more: Partial<LiveTraining> = {}): LiveTraining {
  return { configPath, runDir: null, totalSteps: null, backend: null, examples: null, badLines: null, last: null, stopRequested: false, ...more };
}

/** How a training ended: the trainer's 'done', or null when the process exited without one. */
export interface TrainingEnd {
  configPath: string;
  runDir: string | null;
  status: FinalRunStatus | 'crashed';
  step: number;
  error?: RunError;
}

export class TrainingController implements vscode.Disposable {
  private handle: TrainingProcess | undefined;
  private attached: DetachedRunHandle | undefined;
  private live: LiveTraining | undefined;
  private readonly changed = new vscode.EventEmitter<LiveTraining | undefined>();
  private readonly stepped = new vscode.EventEmitter<LiveTraining>();
  private readonly evaluated = new vscode.EventEmitter<LiveTraining>();
  private readonly ended = new vscode.EventEmitter<TrainingEnd>();
  private readonly failedToStart = new vscode.EventEmitter<{ configPath: string; message: string; problems: number }>();

  /** Start, run folder created, end. */
  readonly onDidChange = this.changed.event;
  /** A step message arrived (`live.last` is the new step). */
  readonly onDidStep = this.stepped.event;
  /** A live held-out evaluation with a quality verdict arrived (`live.quality` is it). */
  readonly onDidEvaluate = this.evaluated.event;
  readonly onDidEnd = this.ended.event;
  /** The trainer reported an error before a run existed (bad config, missing data, no backend). */
  readonly onDidFailToStart = this.failedToStart.event;

  constructor(
    private readonly log: vscode.LogOutputChannel,
    private readonly memory?: RunMemory,
  ) {}

  /** The live training, if any. */
  get current(): LiveTraining | undefined {
    return this.live;
  }

  /** Whether the live training is of this config. */
  isTraining(configPath: string): boolean {
    return !!this.live && samePath(this.live.configPath, configPath);
  }

  /** Whether `runDir` is the live training's run. */
  isLiveRun(runDir: string | null | undefined): boolean {
    return !!this.live?.runDir && samePath(this.live.runDir, runDir);
  }

  /**
   * Start a trainer for `configPath`; false (nothing started) when one is already running. With `resume` (a
   * planned resume, src/trainer/launch/resumeJob.ts) its job and config are started, followed as a training
   * of `configPath` (the config the resumed run recorded).
   */
  start(configPath: string, opts: { steps?: number; overrides?: string[]; resume?: ResumePlan } = {}): boolean {
    if (this.handle || this.attached) return false;
    const config = opts.resume ? opts.resume.config : configOf(configPath, opts.overrides ?? []);
    const live = newLiveTraining(configPath, { trainer: config?.trainer.kind ?? 'node' });
    this.live = live;
    const t = config?.trainer;
    this.log.info(
      `${opts.resume ? `resuming ${opts.resume.job.resume} (${opts.resume.job.configPath})` : `starting training of ${configPath}`}${t?.kind === 'torchrun' ? ` with torch.distributed.run (${t.nprocPerNode} process(es), module ${t.module})` : ''}`,
    );
    const handle = launchTraining(config, opts.resume?.job ?? { configPath, overrides: opts.overrides ?? [], steps: opts.steps }, {
      onMessage: (m) => this.onMessage(live, m),
      onInvalid: (reason) => this.log.warn(`ignored an invalid trainer message: ${reason}`),
      onOutput: (chunk, stream) => {
        for (const line of chunk.split('\n')) if (line.trim() !== '') this.log.info(`[trainer ${stream}] ${line.trimEnd()}`);
      },
      // A window reload does not stop the run: the next activation re-attaches to it.
      outliveParent: true,
    });
    this.handle = handle;
    void handle.done.then((done) => {
      if (this.handle === handle) this.handle = undefined;
      if (!done) this.log.error(handle.failure?.message ?? 'the trainer process exited without reporting an end');
      this.end(
        live,
        done
          ? { configPath, runDir: done.runDir, status: done.status, step: done.step, error: done.error }
          : {
              configPath,
              runDir: live.runDir,
              status: 'crashed',
              step: live.last?.step ?? 0,
              error: { message: handle.failure?.message ?? 'the trainer process exited without reporting an end' },
            },
      );
    });
    this.changed.fire(live);
    return true;
  }

  /** The live training `live` ended: forget it (and the run remembered for re-attaching), say how. */
  private end(live: LiveTraining, end: TrainingEnd): void {
    if (this.live === live) this.live = undefined;
    if (live.runDir && samePath(this.memory?.get()?.runDir, live.runDir)) this.memory?.set(undefined);
    this.log.info(`training ${end.status} at step ${end.step}${end.runDir ? ` (${path.basename(end.runDir)})` : ''}`);
    this.ended.fire(end);
    this.changed.fire(undefined);
  }

  /** Ask the live trainer to stop after its current step (checkpoint, status "stopped"). */
  stop(): boolean {
    if ((!this.handle && !this.attached) || !this.live) return false;
    this.live.stopRequested = true;
    this.log.info('stop requested: the trainer finishes its step and writes the last checkpoint');
    if (this.handle) this.handle.stop();
    else this.attached?.stop();
    this.changed.fire(this.live);
    return true;
  }

  /**
   * After a window reload: re-attach to the run this workspace started when it is still running
   * (returned, now live), or report how it ended meanwhile (onDidEnd) and forget it.
   */
  reattach(): DetachedRunRecord | undefined {
    const rec = this.memory?.get();
    if (!rec || this.live) return undefined;
    if (!isStillRunning(rec)) {
      this.memory?.set(undefined);
      const end = rec.host === os.hostname() ? endOf(rec) : null;
      if (end) {
        this.log.info(`training of ${rec.configPath} ended while the window was away: ${end.status} at step ${end.step}`);
        this.ended.fire({ configPath: rec.configPath, runDir: rec.runDir, ...end });
      }
      return undefined;
    }
    const live = newLiveTraining(rec.configPath, { runDir: rec.runDir, reattached: true });
    this.live = live;
    // Its steps are read from the run folder (no IPC after the reload): status bar, lenses and alerts follow them.
    const attached = watchDetachedRun(rec, undefined, (step, totalSteps) => {
      if (this.live !== live) return;
      live.last = step;
      live.totalSteps = totalSteps;
      this.stepped.fire(live);
    });
    this.attached = attached;
    this.log.info(`re-attached to training process ${rec.pid}: ${rec.runDir} kept running through the window reload`);
    void attached.done.then((end) => {
      if (this.attached === attached) this.attached = undefined;
      this.end(live, { configPath: rec.configPath, runDir: rec.runDir, ...end });
    });
    this.changed.fire(live);
    return rec;
  }

  private onMessage(live: LiveTraining, m: FromTrainer): void {
    switch (m.type) {
      case 'ready':
        this.log.debug(`trainer process ${m.pid} ready`);
        break;
      case 'started': {
        // The PyTorch trainer reports its data counts in its log, not in 'started'.
        const counts =
          live.trainer === 'torchrun'
            ? { examples: null, badLines: null }
            : { examples: m.examples, badLines: m.badLines, count: m.count ?? 'exact', ...(m.dataLines !== undefined ? { dataLines: m.dataLines } : {}) };
        Object.assign(live, { runDir: m.runDir, totalSteps: m.totalSteps, backend: m.backend, ...counts });
        const pid = this.handle?.pid;
        const processGroup = this.handle?.processGroup ?? false;
        if (pid !== undefined)
          this.memory?.set({ configPath: live.configPath, runDir: m.runDir, pid, host: os.hostname(), ...(processGroup ? { processGroup } : {}) });
        this.log.info(`run ${m.runDir}: ${this.handle?.describeStarted(m) ?? m.backend}${processGroup ? ` (process group ${pid ?? '?'})` : ''}`);
        this.changed.fire(live);
        break;
      }
      case 'dataCounted':
        // The first epoch of streamed data was read: its counts are exact now (the data lens shows them).
        Object.assign(live, { examples: m.examples, badLines: m.badLines, count: 'exact' });
        this.log.info(
          `data.train: epoch 1 read, ${describeStartedCounts({ examples: m.examples, badLines: m.badLines })} from ${m.linesRead.toLocaleString('en-US')} data lines`,
        );
        this.changed.fire(live);
        break;
      case 'step':
        live.last = m.event;
        this.stepped.fire(live);
        break;
      case 'eval':
        if (m.quality) {
          live.quality = { step: m.step, verdict: m.quality };
          this.evaluated.fire(live);
        }
        break;
      case 'log':
        this.log[m.level === 'warn' ? 'warn' : m.level === 'error' ? 'error' : m.level === 'debug' ? 'debug' : 'info'](m.message);
        break;
      case 'error':
        this.log.error(m.message);
        this.failedToStart.fire({ configPath: live.configPath, message: m.message, problems: m.problems?.length ?? 0 });
        break;
      default:
        break;
    }
  }

  dispose(): void {
    // A window reload or close does not stop the run (the trainer outlives the extension host, like
    // a TensorBoard run its viewer); the next activation in this workspace re-attaches to it.
    if (this.live?.runDir) this.log.info(`training keeps running in process ${this.handle?.pid ?? '?'}: ${this.live.runDir}`);
    this.attached?.dispose();
    this.changed.dispose();
    this.stepped.dispose();
    this.evaluated.dispose();
    this.ended.dispose();
    this.failedToStart.dispose();
  }
}

/**
 * The config as loaded with `overrides` (which trainer, its planned steps), or null when it does not
 * parse: the built-in trainer then reports its located problems as usual.
 */
function configOf(configPath: string, overrides: string[]): ExperimentConfig | null {
  try {
    return parseConfigText(readBoundedTextSync(configPath, 'experiment config'), configPath, overrides).config;
  } catch {
    return null;
  }
}
