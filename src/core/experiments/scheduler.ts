/**
 * Runs a sweep folder's queued runs, at most `concurrency` trainer processes at once, evaluates each
 * finished run and writes sweep.json atomically after every change. The processes are started by a
 * `SweepLauncher` (src/trainer/sweepLauncher.ts forks the background trainer; core starts no process).
 *
 * Cancel: running trainings are stopped (checkpoint kept, run status "stopped"), running evaluations
 * cancelled; queued runs stay queued. Resume (`run()` again on the same folder, also from another
 * process after the first was killed): completed runs are kept; a run whose training completed is only
 * evaluated again; any other unfinished run is redone in a new run folder, its old folder kept and listed
 * in `previousRunDirs`. Two live processes never drive one sweep: the first takes sweep.lock (sweepLock.ts)
 * and a second is refused, naming it; sweep.json names the driver too.
 */
import { pruneCheckpoints } from './keepCheckpoints';
import * as os from 'os';
import * as path from 'path';
import type { EvalEntry } from '../eval/types';
import { loadConfig } from '../config/loadConfig';
import { readRun } from '../runs/readRun';
import { CONFIG_FILE } from '../runs';
import { readRunResult } from './runResult';
import { summarizeSweep } from './summary';
import type { SweepFile, SweepRun } from './sweepFile';
import { readSweepFile, writeAblationFiles, writeSweepFile } from './sweepStore';
import { acquireSweepLock, type HeldLock } from './sweepLock';

/** A started background job. */
export interface JobHandle<T> {
  /** Ask for a graceful stop (training: after the current step, checkpoint written). */
  stop(): void;
  readonly done: Promise<T>;
}

export interface TrainOutcome {
  /** "lost": the process ended without reporting the end of the run. */
  status: 'completed' | 'stopped' | 'failed' | 'lost';
  runDir: string | null;
  error: string | null;
}

export interface EvalOutcome {
  status: 'completed' | 'stopped' | 'failed' | 'lost';
  entry: EvalEntry | null;
  error: string | null;
}

/** Starts the processes of a sweep. */
export interface SweepLauncher {
  train(job: { configPath: string; overrides: string[]; steps?: number; onRunDir: (runDir: string) => void }): JobHandle<TrainOutcome>;
  evaluate(job: { runDir: string }): JobHandle<EvalOutcome>;
  /** Version of the code the processes run (git commit when available). */
  code(): { retrievalLens: string; gitCommit: string | null };
}

export interface SchedulerOptions {
  /** Called after every write of sweep.json with the file as written. */
  onChange?: (file: SweepFile) => void;
  /** One line per run start / end, for a terminal or an output channel. */
  log?: (line: string) => void;
}

/** Whether the training of a run folder completed (meta.json or the end event says so). */
function trainingCompleted(runDir: string): boolean {
  const r = readRun(runDir);
  return r.status === 'completed' && r.lastStep !== null;
}

export class SweepScheduler {
  private file: SweepFile;
  private cancelled = false;
  private cancelledByUser = false;
  /** sweep.lock, held while run() runs. */
  private lock: HeldLock | null = null;
  private readonly active = new Set<JobHandle<unknown>>();
  private readonly hasTestData: boolean;
  private readonly listeners = new Set<(file: SweepFile) => void>();
  /** What `launcher.code()` says, asked once. */
  private readonly code: { retrievalLens: string; gitCommit: string | null };

  constructor(
    readonly dir: string,
    private readonly launcher: SweepLauncher,
    private readonly opts: SchedulerOptions = {},
  ) {
    this.file = readSweepFile(dir);
    this.code = launcher.code();
    this.hasTestData = Boolean(loadConfig(this.file.configPath, this.file.baseOverrides).config.data.test);
  }

  /** The current state (as last written). */
  get state(): SweepFile {
    return this.file;
  }

  get isCancelled(): boolean {
    return this.cancelled;
  }

  /** Call `listener` after every write of sweep.json (besides `opts.onChange`); returns the unsubscribe. */
  subscribe(listener: (file: SweepFile) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Stop the running runs; queued ones stay queued. `run()` resolves once they have ended. A cancel by the
   * user is recorded in sweep.json (`cancelledAt`); one because the driving process goes away
   * (`'shutdown'`: a window reload) is not, so the sweep is offered for resume.
   */
  cancel(why: 'user' | 'shutdown' = 'user'): void {
    if (why === 'user') this.cancelledByUser = true;
    if (this.cancelled) return;
    this.cancelled = true;
    this.opts.log?.('cancelling: stopping the running runs; queued runs stay queued (resume later)');
    for (const h of this.active) h.stop();
  }

  private abs(rel: string): string {
    return path.resolve(this.dir, rel);
  }

  private save(): void {
    const f = this.file;
    f.updatedAt = new Date().toISOString();
    f.summary = summarizeSweep(f);
    writeSweepFile(this.dir, f);
    if (f.kind === 'ablation') writeAblationFiles(this.dir, f);
    const copy = structuredClone(f);
    this.opts.onChange?.(copy);
    for (const l of this.listeners) l(copy);
  }

  /**
   * Claim the sweep for this process (sweep.lock, atomic: of two resumes at once one fails, naming the
   * other) and bring interrupted runs back to "queued". sweep.json is read again under the lock.
   */
  private prepare(): void {
    this.lock = acquireSweepLock(this.dir);
    for (const n of this.lock.notices) this.opts.log?.(n);
    this.file = readSweepFile(this.dir);
    this.file.driver = { pid: process.pid, host: os.hostname(), since: new Date().toISOString() };
    for (const r of this.file.runs) {
      if (r.status === 'completed') continue;
      if (r.runDir && !trainingCompleted(this.abs(r.runDir))) {
        r.previousRunDirs.push(r.runDir);
        r.runDir = null;
      }
      r.status = 'queued';
      r.error = null;
      r.result = null;
    }
    this.file.state = 'unfinished';
    this.file.cancelledAt = null;
    this.save();
  }

  /** Run every queued run; resolves with the final sweep.json when all ended or after a cancel. */
  async run(): Promise<SweepFile> {
    this.prepare();
    try {
      return await this.runQueued();
    } finally {
      this.lock?.release();
      this.lock = null;
    }
  }

  private async runQueued(): Promise<SweepFile> {
    const queue = this.file.runs.filter((r) => r.status === 'queued');
    let running = 0;
    await new Promise<void>((resolve) => {
      const pump = () => {
        while (!this.cancelled && running < this.file.concurrency && queue.length > 0) {
          const r = queue.shift() as SweepRun;
          running++;
          this.runOne(r)
            .catch((e: unknown) => {
              r.status = 'failed';
              r.error = (e as Error).message;
              this.save();
            })
            .finally(() => {
              running--;
              pump();
            });
        }
        if (running === 0 && (this.cancelled || queue.length === 0)) resolve();
      };
      pump();
    });
    this.file.state = this.file.runs.every((r) => r.status === 'completed' || r.status === 'failed') ? 'finished' : 'unfinished';
    this.file.driver = null;
    if (this.cancelledByUser && this.file.state === 'unfinished') this.file.cancelledAt = new Date().toISOString();
    this.save();
    return structuredClone(this.file);
  }

  private async track<T>(h: JobHandle<T>): Promise<T> {
    this.active.add(h as JobHandle<unknown>);
    if (this.cancelled) h.stop();
    try {
      return await h.done;
    } finally {
      this.active.delete(h as JobHandle<unknown>);
    }
  }

  private async runOne(r: SweepRun): Promise<void> {
    const label = `${r.id}`;
    r.status = 'running';
    this.save();
    if (!(r.runDir && trainingCompleted(this.abs(r.runDir)))) {
      this.opts.log?.(`${label}: training (${r.overrides.join(' ')})`);
      const outcome = await this.track(
        this.launcher.train({
          configPath: this.file.configPath,
          overrides: [...this.file.baseOverrides, ...r.overrides],
          steps: this.file.steps ?? undefined,
          onRunDir: (d) => {
            r.runDir = path.relative(this.dir, d);
            this.save();
          },
        }),
      );
      if (outcome.runDir) r.runDir = path.relative(this.dir, outcome.runDir);
      if (outcome.status === 'stopped' || (outcome.status === 'lost' && this.cancelled)) {
        r.status = 'stopped';
        this.opts.log?.(`${label}: stopped${r.runDir ? ` (${r.runDir})` : ''}`);
        return this.save();
      }
      if (outcome.status !== 'completed' || !r.runDir) {
        r.status = 'failed';
        r.error = outcome.error ?? `training ended ${outcome.status}`;
        this.opts.log?.(`${label}: failed: ${r.error}`);
        return this.save();
      }
    }
    if (this.cancelled) {
      r.status = 'cancelled';
      return this.save();
    }
    const runDir = this.abs(r.runDir as string);
    let entry: EvalEntry | null = null;
    if (this.hasTestData) {
      this.opts.log?.(`${label}: evaluating ${r.runDir}`);
      const ev = await this.track(this.launcher.evaluate({ runDir }));
      if (ev.status !== 'completed' || !ev.entry) {
        r.status = this.cancelled ? 'cancelled' : 'failed';
        r.error = this.cancelled ? null : (ev.error ?? `evaluation ended ${ev.status}`);
        return this.save();
      }
      entry = ev.entry;
    }
    r.result = readRunResult(runDir, this.hasTestData ? 'corpus' : 'in-batch', this.code, entry);
    r.status = 'completed';
    // The run's config.json (not evaluateRun's loader: this module runs in the extension host, without tfjs).
    const removed = pruneCheckpoints(runDir, loadConfig(path.join(runDir, CONFIG_FILE)).config.sweep.keepCheckpoints);
    if (removed.length) this.opts.log?.(`${label}: removed ${removed.join(', ')} (sweep.keepCheckpoints)`);
    const v = r.result.metrics[this.file.metric];
    this.opts.log?.(`${label}: ${this.file.metric} ${typeof v === 'number' ? v.toFixed(4) : '–'} · verdict ${r.result.verdict} (${r.runDir})`);
    this.save();
  }
}
