import * as os from 'os';
import { MessageChannel, Worker, type MessagePort } from 'worker_threads';
import { lazyAdamFromBags } from '../model/adam';
import { bagForwardRange, buildRowIndex, type RowIndex } from '../model/embeddingBag';
import { simdKernels, type SimdKernels } from '../model/simdKernels';

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
 * worker runs the lane code and the JavaScript kernels from their source text
 * (`Function.prototype.toString`), so they must stay self-contained (see embeddingBag.ts).
 */

/** One embedding table and the bags that read it in the current step. */
export interface TableJob {
  table: Float32Array;
  m: Float32Array;
  v: Float32Array;
  /** Flat bag ids and offsets ([nBags + 1]). */
  ids: Int32Array;
  offsets: Int32Array;
  /** Forward output, [nBags × dim]. */
  bags: Float32Array;
  /** ∂L/∂bags, [nBags × dim], written by the caller before `update`. */
  gradBag: Float32Array;
  /** 1/|bag| (0 for an empty bag). */
  invLen: Float64Array;
  rows: Int32Array;
  start: Int32Array;
  bagOf: Int32Array;
  /** Gradient scratch [4 × dim] of each part. */
  g: Float32Array[];
}

/** Everything a lane needs, shared between the threads (typed arrays over SharedArrayBuffers). */
export interface LaneState {
  dim: number;
  jobs: TableJob[];
  /** Per job (stride PLAN_STRIDE): nBags, forward cut, distinct rows, update cut. */
  plan: Int32Array;
  /** lr, β₁, β₂, ε, then Σg² per (job, part) at PAR_SS + 2·job + part. */
  par: Float64Array;
  /** The SIMD kernels' module and each job's memory (null: JavaScript kernels). */
  module: WebAssembly.Module | null;
  memories: (WebAssembly.Memory | null)[];
}

/** Per-thread scratch of the row-index builder. */
export interface LaneScratch {
  mark: Uint32Array;
  slotOf: Int32Array;
}

export const PLAN_STRIDE = 4;
export const PAR_SS = 4;
const PHASE_FORWARD = 1;
const PHASE_UPDATE = 2;

export interface LaneKernels {
  bagForwardRange: typeof bagForwardRange;
  buildRowIndex: typeof buildRowIndex;
  lazyAdamFromBags: typeof lazyAdamFromBags;
}

/**
 * Runs one part of one phase. Forward: the part's bags of every job, then (part 1 only) `onForwardDone`
 * and the row index of every job. Update: the part's distinct rows of every job, Σg² into `par`.
 * `simd[j]` runs job j's kernels in WebAssembly when present. Self-contained: the worker runs it from
 * its source text.
 */
export function runLanePart(
  st: LaneState,
  sc: LaneScratch,
  phase: number,
  part: number,
  k: LaneKernels,
  simd: (SimdKernels | null)[],
  onForwardDone: () => void,
): void {
  const P = 4;
  const S = 4;
  const jobs = st.jobs;
  if (phase === 1) {
    for (let j = 0; j < jobs.length; j++) {
      const job = jobs[j];
      const n = st.plan[j * P];
      const cut = st.plan[j * P + 1];
      const r0 = part === 0 ? 0 : cut;
      const r1 = part === 0 ? cut : n;
      const w = simd[j];
      if (w) w.bag_forward(job.table.byteOffset, st.dim, job.ids.byteOffset, job.offsets.byteOffset, r0, r1, job.bags.byteOffset);
      else k.bagForwardRange(job.table, st.dim, job.ids, job.offsets, r0, r1, job.bags);
    }
    if (part === 1) {
      onForwardDone();
      for (let j = 0; j < jobs.length; j++) {
        const job = jobs[j];
        st.plan[j * P + 2] = k.buildRowIndex(job.ids, job.offsets, st.plan[j * P], sc.mark, sc.slotOf, job.rows, job.start, job.bagOf);
      }
    }
  } else if (phase === 2) {
    const lr = st.par[0];
    const b1 = st.par[1];
    const b2 = st.par[2];
    const eps = st.par[3];
    for (let j = 0; j < jobs.length; j++) {
      const job = jobs[j];
      const count = st.plan[j * P + 2];
      const cut = st.plan[j * P + 3];
      const u0 = part === 0 ? 0 : cut;
      const u1 = part === 0 ? cut : count;
      const w = simd[j];
      st.par[S + 2 * j + part] = w
        ? w.adam_rows(
            job.table.byteOffset, job.m.byteOffset, job.v.byteOffset, st.dim, job.rows.byteOffset, job.start.byteOffset,
            job.bagOf.byteOffset, u0, u1, job.gradBag.byteOffset, job.invLen.byteOffset, job.g[part].byteOffset, lr, b1, b2, eps,
          )
        : k.lazyAdamFromBags(job.table, job.m, job.v, st.dim, job.rows, job.start, job.bagOf, u0, u1, job.gradBag, job.invLen, lr, b1, b2, eps, job.g[part]);
    }
  }
}

/** Control words in the shared Int32Array. */
const CTL_SEQ = 0; // command number, bumped by the caller
const CTL_CMD = 1; // 1 forward, 2 update, 3 reload state, 4 exit
const CTL_FWD_DONE = 2; // seq whose forward part the worker finished
const CTL_DONE = 3; // seq the worker finished
const CTL_ERROR = 4; // 1 after an exception in the worker
const CMD_RELOAD = 3;
const CMD_EXIT = 4;

function workerSource(): string {
  return `'use strict';
const { workerData, receiveMessageOnPort } = require('worker_threads');
const __name = (f) => f; // esbuild's keepNames helper, should a transpiler have injected it
const kernels = {
  bagForwardRange: (${bagForwardRange.toString()}),
  buildRowIndex: (${buildRowIndex.toString()}),
  lazyAdamFromBags: (${lazyAdamFromBags.toString()}),
};
const runLanePart = (${runLanePart.toString()});
const ctl = workerData.ctl;
const port = workerData.port;
const errors = workerData.errors;
let state = null;
let simd = [];
const scratch = { mark: new Uint32Array((workerData.vocab + 31) >>> 5), slotOf: new Int32Array(workerData.vocab) };
let seen = 0;
for (;;) {
  Atomics.wait(ctl, ${CTL_SEQ}, seen);
  seen = Atomics.load(ctl, ${CTL_SEQ});
  const cmd = Atomics.load(ctl, ${CTL_CMD});
  if (cmd === ${CMD_EXIT}) break;
  try {
    if (cmd === ${CMD_RELOAD}) {
      const msg = receiveMessageOnPort(port);
      if (!msg) throw new Error('host lane worker: reload without a state message');
      state = msg.message;
      simd = state.memories.map((m) => (m && state.module ? new WebAssembly.Instance(state.module, { env: { memory: m } }).exports : null));
    } else {
      runLanePart(state, scratch, cmd, 1, kernels, simd, () => {
        Atomics.store(ctl, ${CTL_FWD_DONE}, seen);
        Atomics.notify(ctl, ${CTL_FWD_DONE});
      });
    }
  } catch (e) {
    const text = new TextEncoder().encode(String((e && e.stack) || e)).subarray(0, errors.length);
    errors.fill(0);
    errors.set(text);
    Atomics.store(ctl, ${CTL_ERROR}, 1);
  }
  Atomics.store(ctl, ${CTL_FWD_DONE}, seen);
  Atomics.store(ctl, ${CTL_DONE}, seen);
  Atomics.notify(ctl, ${CTL_FWD_DONE});
  Atomics.notify(ctl, ${CTL_DONE});
}
`;
}

const KERNELS: LaneKernels = { bagForwardRange, buildRowIndex, lazyAdamFromBags };
/** Phases run on the caller alone after the worker was seen starved, before trying it again. */
const INLINE_PHASES = 40;
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
        this.worker = new Worker(workerSource(), {
          eval: true,
          workerData: { ctl: this.ctl, errors: this.errors, port: channel.port2, vocab, dim },
          transferList: [channel.port2],
        });
        this.worker.unref();
        this.port.unref();
      } catch {
        this.worker = undefined; // no worker threads here: run both parts on the caller
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
