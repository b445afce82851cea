/**
 * One part ("lane") of a host phase of the training step, shared by the caller (hostLanes.ts) and the
 * worker thread (laneWorker.ts): the state both threads see, the control words of their handshake, and
 * `runLanePart`, the code both run.
 */
import { lazyAdamFromBags } from '../model/adam';
import { bagForwardRange, buildRowIndex } from '../model/embeddingBag';
import type { SimdKernels } from '../numeric/simdKernels';

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
export const PHASE_FORWARD = 1;
export const PHASE_UPDATE = 2;

export interface LaneKernels {
  bagForwardRange: typeof bagForwardRange;
  buildRowIndex: typeof buildRowIndex;
  lazyAdamFromBags: typeof lazyAdamFromBags;
}

/**
 * Runs one part of one phase. Forward: the part's bags of every job, then (part 1 only) `onForwardDone`
 * and the row index of every job. Update: the part's distinct rows of every job, Σg² into `par`.
 * `simd[j]` runs job j's kernels in WebAssembly when present.
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
  const P = PLAN_STRIDE;
  const S = PAR_SS;
  const jobs = st.jobs;
  if (phase === PHASE_FORWARD) {
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
  } else if (phase === PHASE_UPDATE) {
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
            job.table.byteOffset,
            job.m.byteOffset,
            job.v.byteOffset,
            st.dim,
            job.rows.byteOffset,
            job.start.byteOffset,
            job.bagOf.byteOffset,
            u0,
            u1,
            job.gradBag.byteOffset,
            job.invLen.byteOffset,
            job.g[part].byteOffset,
            lr,
            b1,
            b2,
            eps,
          )
        : k.lazyAdamFromBags(job.table, job.m, job.v, st.dim, job.rows, job.start, job.bagOf, u0, u1, job.gradBag, job.invLen, lr, b1, b2, eps, job.g[part]);
    }
  }
}

/** Control words in the shared Int32Array. */
export const CTL_SEQ = 0; // command number, bumped by the caller
export const CTL_CMD = 1; // 1 forward, 2 update, 3 reload state, 4 exit
export const CTL_FWD_DONE = 2; // seq whose forward part the worker finished
export const CTL_DONE = 3; // seq the worker finished
export const CTL_ERROR = 4; // 1 after an exception in the worker
export const CTL_STARTED = 5; // 1 once the worker's script is loaded
export const CMD_RELOAD = 3;
export const CMD_EXIT = 4;

/** The JavaScript kernels (used where a job has no SIMD instance). */
export const KERNELS: LaneKernels = { bagForwardRange, buildRowIndex, lazyAdamFromBags };
