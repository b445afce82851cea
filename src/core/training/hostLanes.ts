import * as os from 'os';
import { MessageChannel, Worker, type MessagePort } from 'worker_threads';
import * as path from 'path';
import { workerScript } from '../workerScript';
import type { RowIndex } from '../model/embeddingBag';
import { simdKernels, type SimdKernels } from '../numeric/simdKernels';
import {
  CMD_EXIT,
  CMD_RELOAD,
  CTL_CMD,
  CTL_DONE,
  CTL_ERROR,
  CTL_FWD_DONE,
  CTL_SEQ,
  CTL_STARTED,
  KERNELS,
  PHASE_FORWARD,
  PHASE_UPDATE,
  runLanePart,
  type LaneScratch,
  type LaneState,
  type TableJob,
} from './lanePart';

export { PAR_SS, PLAN_STRIDE, type LaneState, type TableJob } from './lanePart';

/**
 * The host side of a training step — embedding-bag forward, row indexes, and the fused bag-backward +
 * lazy Adam update of the tables — split into two fixed parts ("lanes"). With `threads` = 2 a worker
 * thread runs part 1 while the calling thread runs part 0; with 1 thread the caller runs both parts in
 * turn. The split depends only on the batch (never on the thread count) and every part writes disjoint
 * bags / rows, so both modes give bit-identical results — which also lets a 2-thread HostLanes run a
 * phase on the caller alone whenever the worker is starved of a core (busy machine; see `schedule`).
 *
 * All arrays the parts touch live in each table's arena (params.ts), a shared WebAssembly.Memory where
 * the SIMD kernels (simdKernels.ts) work on them in place, or SharedArrayBuffers for the JavaScript
 * kernels: the tables and their Adam moments, and per-step buffers that grow with the batch. The
 * worker thread runs laneWorker.ts (a webpack entry of its own, dist/laneWorker.js), which runs the
 * same `runLanePart` (lanePart.ts) as the caller.
 */

/** Phases run on the caller alone after the worker was seen starved, before trying it again. */
const INLINE_PHASES = 40;
/** How long the caller waits for the worker thread's script to load (ms). */
const WORKER_START_TIMEOUT_MS = 30_000;
/** How long the caller waits for the worker before giving up on it (ms). */
const WORKER_TIMEOUT_MS = 120_000;

/** Number of host threads to use by default: 2 when the machine has 2 or more cores. */
export function defaultHostThreads(): number {
  const env = Number(process.env.RLENS_HOST_THREADS);
  if (Number.isInteger(env) && env >= 1) return Math.min(env, 2);
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  return cores >= 2 ? 2 : 1;
}

/**
 * Runs the two parts of each host phase, on a worker thread and the caller (threads = 2) or on the
 * caller alone (threads = 1). Commands are synchronous: the caller blocks (Atomics.wait) until its own
 * part and the worker's are done.
 */
export class HostLanes {
  private worker?: Worker;
  private readonly ctl = new Int32Array(new SharedArrayBuffer(4 * 8));
  private readonly errors = new Uint8Array(new SharedArrayBuffer(4096));
  private port?: MessagePort;
  private seq = 0;
  private stateSent?: LaneState;
  private forwardPending = false;
  private simd: (SimdKernels | null)[] = [];
  private simdFor?: LaneState;
  readonly scratch: LaneScratch;

  constructor(vocab: number, dim: number, threads: number) {
    this.scratch = { mark: new Uint32Array((vocab + 31) >>> 5), slotOf: new Int32Array(vocab) };
    if (threads >= 2) {
      try {
        const channel = new MessageChannel();
        this.port = channel.port1;
        const entry = workerScript(path.join(__dirname, 'laneWorker.ts'));
        this.worker = new Worker(entry.script, {
          eval: entry.eval,
          workerData: { ctl: this.ctl, errors: this.errors, port: channel.port2, vocab, dim },
          transferList: [channel.port2],
        });
        this.worker.unref();
        this.port.unref();
      } catch {
        this.worker = undefined; // no worker threads here: run both parts on the caller
      }
      if (this.worker && Atomics.wait(this.ctl, CTL_STARTED, 0, WORKER_START_TIMEOUT_MS) === 'timed-out') {
        // Its script did not load (or not in time): both parts run on the caller, with the same results.
        void this.worker.terminate();
        this.port?.close();
        this.worker = undefined;
        process.emitWarning(`the host lane worker thread did not start within ${WORKER_START_TIMEOUT_MS / 1000} s; the host phases run on one thread`);
      }
    }
  }

  get threads(): number {
    return this.worker ? 2 : 1;
  }

  /** Phases run with the worker, and on the caller alone (when the worker was starved; see `schedule`). */
  readonly stats = { workerPhases: 0, inlinePhases: 0 };
  /** Phases left to run on the caller before trying the worker again. */
  private inlineLeft = 0;
  /** Smoothed time of the caller's own part, and of its wait for the worker's part, per phase (ms). */
  private ownMs = 0;
  private waitMs = 0;
  private samples = 0;

  /**
   * Whether this phase uses the worker. Both ways give identical results, so this is only about time:
   * when the caller keeps waiting for the worker longer than its own part took (the worker does not get
   * a core: the machine is busy), running both parts on the caller is faster; it does so for a while,
   * then tries the worker again.
   */
  private schedule(): boolean {
    if (!this.worker) return false;
    if (this.inlineLeft > 0) {
      this.inlineLeft--;
      this.stats.inlinePhases++;
      return false;
    }
    this.stats.workerPhases++;
    return true;
  }

  private observe(own: number, wait: number): void {
    const a = this.samples < 4 ? 1 / (this.samples + 1) : 0.25;
    this.ownMs += a * (own - this.ownMs);
    this.waitMs += a * (wait - this.waitMs);
    this.samples++;
    if (this.samples >= 4 && this.waitMs > this.ownMs) {
      this.inlineLeft = INLINE_PHASES;
      this.samples = 0;
      this.ownMs = this.waitMs = 0;
    }
  }

  /** Forward phase; returns once the bags are computed (row indexes may still be in progress). */
  forward(st: LaneState): void {
    this.sync(st);
    if (!this.schedule()) {
      runLanePart(st, this.scratch, PHASE_FORWARD, 0, KERNELS, this.simd, noop);
      runLanePart(st, this.scratch, PHASE_FORWARD, 1, KERNELS, this.simd, noop);
      return;
    }
    const seq = this.command(PHASE_FORWARD);
    const t0 = performance.now();
    runLanePart(st, this.scratch, PHASE_FORWARD, 0, KERNELS, this.simd, noop);
    const t1 = performance.now();
    this.waitFor(CTL_FWD_DONE, seq);
    this.observe(t1 - t0, performance.now() - t1);
    this.forwardPending = true;
  }

  /** Waits for the row indexes of the last forward phase (their counts are then in plan). */
  indexes(): void {
    if (this.forwardPending) this.waitFor(CTL_DONE, this.seq);
    this.forwardPending = false;
  }

  /**
   * Update phase (call `indexes` and set the update cuts and Adam constants first); `alongside` runs on
   * the caller after its own part, while the worker may still be busy.
   */
  update(st: LaneState, alongside: () => void = noop): void {
    this.indexes();
    if (!this.schedule()) {
      runLanePart(st, this.scratch, PHASE_UPDATE, 0, KERNELS, this.simd, noop);
      runLanePart(st, this.scratch, PHASE_UPDATE, 1, KERNELS, this.simd, noop);
      alongside();
      return;
    }
    const seq = this.command(PHASE_UPDATE);
    const t0 = performance.now();
    runLanePart(st, this.scratch, PHASE_UPDATE, 0, KERNELS, this.simd, noop);
    const t1 = performance.now();
    alongside();
    const t2 = performance.now();
    this.waitFor(CTL_DONE, seq);
    this.observe(t1 - t0, performance.now() - t2);
  }

  /** Ends the worker thread at once (for a finalizer: no waiting). */
  terminate(): void {
    void this.worker?.terminate();
    this.port?.close();
    this.worker = undefined;
  }

  /** Stops the worker thread (the lanes then run on the caller). */
  dispose(): void {
    if (!this.worker) return;
    this.indexes();
    Atomics.store(this.ctl, CTL_CMD, CMD_EXIT);
    Atomics.add(this.ctl, CTL_SEQ, 1);
    Atomics.notify(this.ctl, CTL_SEQ);
    void this.worker.terminate();
    this.port?.close();
    this.worker = undefined;
  }

  /** Instantiates the SIMD kernels for a new state, and sends it to the worker. */
  private sync(st: LaneState): void {
    if (this.simdFor !== st) {
      this.simd = st.memories.map((m) => (m && st.module ? simdKernels(st.module, m) : null));
      this.simdFor = st;
    }
    if (!this.worker || this.stateSent === st) return;
    this.indexes();
    this.port!.postMessage(st);
    this.command(CMD_RELOAD);
    this.waitFor(CTL_DONE, this.seq);
    this.stateSent = st;
  }

  private command(cmd: number): number {
    Atomics.store(this.ctl, CTL_CMD, cmd);
    this.seq = Atomics.add(this.ctl, CTL_SEQ, 1) + 1;
    Atomics.notify(this.ctl, CTL_SEQ);
    return this.seq;
  }

  private waitFor(word: number, seq: number): void {
    const t0 = Date.now();
    while (Atomics.load(this.ctl, word) < seq) {
      const now = Atomics.load(this.ctl, word);
      if (Atomics.wait(this.ctl, word, now, 1000) === 'timed-out' && Date.now() - t0 > WORKER_TIMEOUT_MS) {
        this.worker = undefined;
        throw new Error(`host lane worker did not answer within ${WORKER_TIMEOUT_MS / 1000} s`);
      }
    }
    if (Atomics.load(this.ctl, CTL_ERROR)) {
      const text = new TextDecoder().decode(this.errors.slice(0, this.errors.indexOf(0) < 0 ? this.errors.length : this.errors.indexOf(0)));
      Atomics.store(this.ctl, CTL_ERROR, 0);
      throw new Error(`host lane worker failed: ${text}`);
    }
  }
}

function noop(): void {}

/** RowIndex view of a job's arrays with `count` distinct rows. */
export function jobIndex(job: TableJob, count: number): RowIndex {
  return { rows: job.rows, start: job.start, bagOf: job.bagOf, count };
}
