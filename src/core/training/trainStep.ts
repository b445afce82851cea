import { LearnedHyper } from '../losses/learnedHyper';
import type { LearnedHyperName, LossConfig } from '../losses/types';
import { lossAndGradHost, type HostLossOutput } from '../losses/lossAndGrad';
import { Adam, AdamSlot } from '../model/adam';
import { bagBackward, type SparseRowGrads } from '../model/embeddingBag';
import { batchScorer, queryBagSeqs, queryBagsPerQuery, queryTowerInput, queryTowerInputBackward, type TowerPreset } from '../model/towers';
import { arenaOf, namedTowers, newTableArena, towerInputDim, type DenseParams, type TableArena, type TowerParams, type TwoTowerParams } from '../model/params';
import { simdModule } from '../numeric/simdKernels';
import { DENSE_KEYS, headsOf, towerBackwardHost, towerForwardHost, type DenseGrads, type TowerActivations } from '../model/towerForward';
import type { Batch } from './batcher';
import { defaultHostThreads, HostLanes, jobIndex, PAR_SS, PLAN_STRIDE, type LaneState, type TableJob } from './hostLanes';

/** Host copies of one step's results; the similarity matrices only on steps that asked for them. */
export interface StepResult {
  loss: number;
  lossQ: number;
  lossSym: number;
  /** Global L2 norm of every gradient (dense weights and touched embedding rows). */
  gradNorm: number;
  /** Present when `withDiagnostics`: [B×N] matrices and the [B×D] positives, from the same forward pass. */
  host?: { sQV: Float32Array; sVV: Float32Array; hyper: Float32Array; itemEmb: Float32Array };
  /** Milliseconds per phase of this step, when the trainer was built with `profile: true`. */
  phases?: StepPhases;
  /** The learned α / δ₀ / τ₀ after this step's update (loss.trainable; absent when nothing is learned). */
  learned?: Partial<Record<LearnedHyperName, number>>;
}

/** Wall time of the phases of one step (ms). */
export interface StepPhases {
  /** Embedding-bag forward of both towers (both lanes). */
  bagForward: number;
  /** Towers, scores, loss and their backward (tfjs matMuls + host loops). */
  dense: number;
  /** Waiting for the row indexes built on lane 1 after its forward part. */
  rowIndex: number;
  /** Fused bag backward + lazy Adam on the tables, and Adam on the dense weights. */
  update: number;
}

export interface TrainerOptions {
  /**
   * Host threads for the embedding work: 2 runs half of it on a worker thread, 1 runs everything on the
   * caller. Results are identical. Default: 2 on machines with ≥ 2 cores (env RLENS_HOST_THREADS
   * overrides). With 2, phases fall back to the caller alone while the worker is starved of a core.
   */
  threads?: number;
  /** Report per-phase times in StepResult.phases. */
  profile?: boolean;
}

/** Adam moments of every tower parameter, and the arena of the tower's table. */
interface TowerSlots {
  table: AdamSlot;
  dense: Record<keyof DenseParams, AdamSlot>;
  arena: TableArena;
}

/** Ends the worker thread of a trainer that was never disposed once it is garbage-collected. */
const finalizer = new FinalizationRegistry<HostLanes>((lanes) => lanes.terminate());

/** Upper bound on |values| below which float32 gradient sums cannot overflow (checked before fusing). */
const SAFE_GRAD_SUM = 1e37;

/**
 * One optimisation step of the two-tower model: host-side embedding bags (sparse gradients), towers and
 * loss with a hand-written backward pass (matrix products on the tfjs backend, everything else on the
 * host), Adam on the host (lazy and fused with the bag backward for embedding rows). Holds the optimizer
 * state between steps.
 *
 * The tables' Adam moments and the per-step buffers live in each table's arena (params.ts), where the
 * SIMD kernels and the worker thread reach them. A table that is not in an arena (loaded from a
 * checkpoint, say), or whose arena another trainer already uses, is copied into a new one and
 * `params.<tower>.table` replaced by the copy (same values).
 */
export class TwoTowerTrainer {
  readonly adam: Adam;
  /** The learned α / δ₀ / τ₀ (loss.trainable), each with its own Adam. */
  readonly learned: LearnedHyper;
  private readonly slots = new Map<TowerParams, TowerSlots>();
  private readonly lanes: HostLanes;
  private readonly profile: boolean;
  private state?: LaneState;
  private slotOf?: Int32Array;

  constructor(
    readonly params: TwoTowerParams,
    loss: LossConfig,
    learningRate: number,
    opts: TrainerOptions = {},
  ) {
    if (params.shared && (params.preset ?? 'dssm') !== 'dssm') throw new Error(`model.preset "${params.preset}" cannot share towers`);
    this.adam = new Adam({ learningRate });
    this.learned = new LearnedHyper(loss);
    this.profile = opts.profile ?? false;
    const threads = opts.threads ?? defaultHostThreads();
    this.lanes = new HostLanes(params.dims.vocab, params.dims.embed, threads);
    if (this.lanes.threads > 1) finalizer.register(this, this.lanes, this);
    for (const { tower } of namedTowers(params)) {
      let arena = arenaOf(tower.table);
      if (!arena || arena.claimed) {
        arena = newTableArena(tower.table.length, tower.table);
        tower.table = arena.table;
      }
      arena.claimed = true;
      const n = tower.table.length;
      this.slots.set(tower, {
        arena,
        table: new AdamSlot(n, { m: arena.alloc(Float32Array, n), v: arena.alloc(Float32Array, n) }),
        dense: {
          w1: new AdamSlot(tower.dense.w1.length),
          b1: new AdamSlot(tower.dense.b1.length),
          w2: new AdamSlot(tower.dense.w2.length),
          b2: new AdamSlot(tower.dense.b2.length),
        },
      });
    }
  }

  /** Host threads in use (1 or 2). */
  get threads(): number {
    return this.lanes.threads;
  }

  /** With 2 threads: how many host phases ran with the worker, and on the caller alone (busy machine). */
  get hostStats(): { workerPhases: number; inlinePhases: number } {
    return { ...this.lanes.stats };
  }

  /** Stops the worker thread, if any (the trainer keeps working, single-threaded). */
  dispose(): void {
    finalizer.unregister(this);
    this.lanes.dispose();
  }

  /** Runs forward + backward on a batch and applies the update. Leaves no tensors behind. */
  step(batch: Batch, withDiagnostics: boolean): StepResult {
    const clock = this.profile ? () => performance.now() : () => 0;
    const t0 = clock();

    // 1. Embedding bags (both lanes), row indexes (lane 1, finished while the dense part runs).
    const st = this.prepare(batch);
    this.lanes.forward(st);
    const t1 = clock();

    // 2. Towers, scores, loss and their gradients; ∂L/∂bags into the jobs' gradBag.
    const { lo, denseGrads, host } = this.denseStep(st, batch, withDiagnostics);
    const t2 = clock();

    // 3. Update: fused bag backward + lazy Adam (both lanes) and dense Adam, when everything is finite.
    this.lanes.indexes();
    const t3 = clock();
    let denseSS = 0;
    for (const g of denseGrads) for (const k of DENSE_KEYS) denseSS += sumSquares(g[k]);
    const towers = namedTowers(this.params).map((n) => n.tower);
    const lossFinite = Number.isFinite(lo.loss);
    let gradNorm: number;
    if (lossFinite && Number.isFinite(denseSS) && this.gradsAreSafe(st)) {
      this.adam.beginStep();
      this.setUpdateCuts(st);
      st.par[0] = this.adam.stepSize();
      st.par[1] = this.adam.beta1;
      st.par[2] = this.adam.beta2;
      st.par[3] = this.adam.epsilon;
      this.lanes.update(st, () => towers.forEach((tower, t) => this.updateDense(tower, denseGrads[t])));
      let tableSS = 0;
      for (let j = 0; j < st.jobs.length; j++) tableSS += st.par[PAR_SS + 2 * j] + st.par[PAR_SS + 2 * j + 1];
      gradNorm = Math.sqrt(denseSS + tableSS);
    } else {
      gradNorm = this.unfusedUpdate(batch, st, towers, denseGrads, denseSS, lossFinite);
    }
    if (lossFinite && Number.isFinite(gradNorm)) this.learned.step(lo.dLearned);
    const learned = this.learned.active ? this.learned.values() : undefined;
    const t4 = clock();
    const phases = this.profile ? { bagForward: t1 - t0, dense: t2 - t1, rowIndex: t3 - t2, update: t4 - t3 } : undefined;
    return { loss: lo.loss, lossQ: lo.lossQ, lossSym: lo.lossSym, gradNorm, host, phases, learned };
  }

  /**
   * The loss and every gradient of a batch without updating anything (tests and tools): the dense weights' per
   * distinct tower (as namedTowers), and each table's touched rows with their gradients (bagBackward).
   */
  gradients(batch: Batch): { loss: number; dense: DenseGrads[]; rows: SparseRowGrads[] } {
    const st = this.prepare(batch);
    this.lanes.forward(st);
    const { lo, denseGrads } = this.denseStep(st, batch, false);
    this.lanes.indexes();
    this.slotOf ??= new Int32Array(this.params.dims.vocab).fill(-1);
    const rows = this.bagSets(batch).map((seqs, j) => bagBackward(st.jobs[j].gradBag, st.dim, seqs, this.slotOf!));
    return { loss: lo.loss, dense: denseGrads, rows };
  }

  /**
   * Forward and hand-written backward of towers and loss for the bags in `st`: matrix products on the
   * tfjs backend (matMulHost), the rest on the host. Writes ∂L/∂bags into the jobs' gradBag; returns
   * the loss, the dense weights' gradients (one set per distinct tower) and the diagnostics.
   */
  private denseStep(st: LaneState, batch: Batch, withDiagnostics: boolean): { lo: HostLossOutput; denseGrads: DenseGrads[]; host: StepResult['host'] } {
    const { dims: d, shared } = this.params;
    const { B, N } = batch;
    const E = d.embed;
    const D = d.out;
    const qDense = this.params.query.dense;
    const iDense = this.params.item.dense;
    const preset = this.preset;
    const qDims = { ...d, embed: towerInputDim(this.params, 'query') };
    const qBags = B * queryBagsPerQuery(preset);
    let actQ: TowerActivations;
    let actI: TowerActivations;
    let eQ: Float32Array;
    let eI: Float32Array;
    if (shared) {
      actQ = actI = towerForwardHost(st.jobs[0].bags.subarray(0, (B + N) * E), B + N, qDense, d);
      eQ = actQ.e.subarray(0, B * D);
      eI = actQ.e.subarray(B * D, (B + N) * D);
    } else {
      actQ = towerForwardHost(queryTowerInput(preset, st.jobs[0].bags.subarray(0, qBags * E), B, E), B, qDense, qDims);
      actI = towerForwardHost(st.jobs[1].bags.subarray(0, N * E), N, iDense, d);
      eQ = actQ.e; // [B × K·D] with a DPSR query tower of K heads
      eI = actI.e;
    }
    // sQV and sVV [2B × N], pos, and their backward: by the preset's score (model/towers: dot, or DPSR's K heads).
    const sc = batchScorer(headsOf(qDense, d))(eQ, eI, B, N, D);
    const { scores } = sc;
    const lo = lossAndGradHost({ scores, pos: sc.pos, negMask: batch.negMask, B, N }, this.learned.config());
    const { dQ, dItems } = sc.backward(lo.dScores, lo.dPos);
    let denseGrads: DenseGrads[];
    if (shared) {
      const de = new Float32Array((B + N) * D);
      de.set(dQ);
      de.set(dItems, B * D);
      const back = towerBackwardHost(actQ, de, qDense, d);
      st.jobs[0].gradBag.set(back.dx);
      denseGrads = [back.grads];
    } else {
      const backQ = towerBackwardHost(actQ, dQ, qDense, qDims);
      const backI = towerBackwardHost(actI, dItems, iDense, d);
      st.jobs[0].gradBag.set(queryTowerInputBackward(preset, backQ.dx, B, E));
      st.jobs[1].gradBag.set(backI.dx);
      denseGrads = [backQ.grads, backI.grads];
    }
    const host = withDiagnostics
      ? { sQV: scores.slice(0, B * N), sVV: scores.slice(B * N, 2 * B * N), hyper: lo.hyper, itemEmb: eI.slice(0, B * D) }
      : undefined;
    return { lo, denseGrads, host };
  }

  private updateDense(tower: TowerParams, grads: DenseGrads): void {
    const slots = this.slots.get(tower)!;
    for (const k of DENSE_KEYS) this.adam.updateDense(tower.dense[k], grads[k], slots.dense[k]);
  }

  /** Every bag gradient finite and small enough that no row's float32 sum can overflow. */
  private gradsAreSafe(st: LaneState): boolean {
    for (let j = 0; j < st.jobs.length; j++) {
      const job = st.jobs[j];
      const nBags = st.plan[j * PLAN_STRIDE];
      const n = nBags * st.dim;
      const g = job.gradBag;
      let max = 0;
      for (let i = 0; i < n; i++) {
        const a = Math.abs(g[i]);
        if (!(a <= max)) max = a; // NaN lands here too and stays
      }
      const tokens = job.offsets[nBags];
      if (!(max * Math.max(tokens, 1) < SAFE_GRAD_SUM)) return false;
    }
    return true;
  }

  /**
   * The original two-pass path, for steps whose gradients are not finite or huge: row gradients, then
   * the global norm, then the update only when loss and norm are finite. Returns the norm.
   */
  private unfusedUpdate(batch: Batch, st: LaneState, towers: TowerParams[], denseGrads: DenseGrads[], denseSS: number, lossFinite: boolean): number {
    const E = st.dim;
    this.slotOf ??= new Int32Array(this.params.dims.vocab).fill(-1);
    const seqs = this.bagSets(batch);
    const rowGrads: SparseRowGrads[] = seqs.map((s, j) => bagBackward(st.jobs[j].gradBag, E, s, this.slotOf!));
    const gradNorm = Math.sqrt(rowGrads.reduce((s, r) => s + sumSquares(r.grads), denseSS));
    if (lossFinite && Number.isFinite(gradNorm)) {
      this.adam.beginStep();
      towers.forEach((tower, t) => {
        this.updateDense(tower, denseGrads[t]);
        this.adam.updateRows(tower.table, E, rowGrads[t].rows, rowGrads[t].grads, this.slots.get(tower)!.table);
      });
    }
    return gradNorm;
  }

  /**
   * Copies the batch's bags into the shared step buffers (growing them when needed) and sets the
   * forward cut: the bags of all tables split into two parts of about equal id counts.
   */
  private prepare(batch: Batch): LaneState {
    const bagSets = this.bagSets(batch);
    const towers = namedTowers(this.params).map((n) => n.tower);
    const E = this.params.dims.embed;
    let st = this.state;
    const fits =
      st !== undefined &&
      st.jobs.every((job, j) => job.table === towers[j].table && job.invLen.length >= bagSets[j].length && job.ids.length >= countIds(bagSets[j]));
    if (!fits) {
      const jobs = bagSets.map((seqs, j): TableJob => {
        const tower = towers[j];
        const { table: slot, arena } = this.slots.get(tower)!;
        // Room for 25% more than this batch, so that varying explicit negatives rarely reallocate.
        const nBags = Math.ceil(1.25 * Math.max(seqs.length, st?.jobs[j]?.invLen.length ?? 0, 1));
        const ids = Math.ceil(1.25 * Math.max(countIds(seqs), st?.jobs[j]?.ids.length ?? 0, 1));
        return {
          table: tower.table,
          m: slot.m,
          v: slot.v,
          ids: arena.alloc(Int32Array, ids),
          offsets: arena.alloc(Int32Array, nBags + 1),
          bags: arena.alloc(Float32Array, nBags * E),
          gradBag: arena.alloc(Float32Array, nBags * E),
          invLen: arena.alloc(Float64Array, nBags),
          rows: arena.alloc(Int32Array, ids),
          start: arena.alloc(Int32Array, ids + 1),
          bagOf: arena.alloc(Int32Array, ids),
          g: [arena.alloc(Float32Array, 4 * E), arena.alloc(Float32Array, 4 * E)],
        };
      });
      st = {
        dim: E,
        jobs,
        plan: new Int32Array(new SharedArrayBuffer(4 * PLAN_STRIDE * jobs.length)),
        par: new Float64Array(new SharedArrayBuffer(8 * (PAR_SS + 2 * jobs.length))),
        module: E % 4 === 0 ? simdModule() : null,
        memories: towers.map((t) => {
          const arena = this.slots.get(t)!.arena;
          return arena.spilled ? null : (arena.memory ?? null);
        }),
      };
      this.state = st;
    }
    let totalIds = 0;
    bagSets.forEach((seqs, j) => {
      const job = st!.jobs[j];
      let o = 0;
      job.offsets[0] = 0;
      for (let r = 0; r < seqs.length; r++) {
        job.ids.set(seqs[r], o);
        o += seqs[r].length;
        job.offsets[r + 1] = o;
        job.invLen[r] = seqs[r].length > 0 ? 1 / seqs[r].length : 0;
      }
      st!.plan[j * PLAN_STRIDE] = seqs.length;
      totalIds += o;
    });
    // Forward cut: part 0 takes bags in (table, bag) order until half of all ids.
    let acc = 0;
    bagSets.forEach((seqs, j) => {
      const job = st!.jobs[j];
      let cut = 0;
      while (cut < seqs.length && acc + (job.offsets[cut + 1] - job.offsets[cut]) <= totalIds / 2) {
        acc += job.offsets[cut + 1] - job.offsets[cut];
        cut++;
      }
      if (cut < seqs.length) acc = totalIds; // the rest of this and later tables go to part 1
      st!.plan[j * PLAN_STRIDE + 1] = cut;
    });
    return st!;
  }

  /** The query preset (model/towers): "dssm" unless the params say otherwise. */
  private get preset(): TowerPreset {
    return this.params.preset ?? 'dssm';
  }

  /** The bags of each table job: the query preset's bags of the queries, then the items' (one job when shared). */
  private bagSets(batch: Batch): Int32Array[][] {
    const queries = queryBagSeqs(this.preset, batch.queryFeats);
    return this.params.shared ? [[...queries, ...batch.itemFeats]] : [queries, batch.itemFeats];
  }

  /** Update cut: part 0 takes distinct rows in (table, row) order until half of all distinct rows. */
  private setUpdateCuts(st: LaneState): void {
    let total = 0;
    for (let j = 0; j < st.jobs.length; j++) total += st.plan[j * PLAN_STRIDE + 2];
    let left = Math.ceil(total / 2);
    for (let j = 0; j < st.jobs.length; j++) {
      const count = st.plan[j * PLAN_STRIDE + 2];
      const cut = Math.min(count, left);
      st.plan[j * PLAN_STRIDE + 3] = cut;
      left -= cut;
    }
  }

  /** The row index of table job j of the current step (tests and tools). */
  rowIndex(j: number) {
    this.lanes.indexes();
    return jobIndex(this.state!.jobs[j], this.state!.plan[j * PLAN_STRIDE + 2]);
  }
}

function countIds(seqs: Int32Array[]): number {
  let n = 0;
  for (const s of seqs) n += s.length;
  return n;
}

function sumSquares(a: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * a[i];
  return s;
}
