import seedrandom from 'seedrandom';
import type { ModelConfig } from '../config/types';
import { simdModule } from '../numeric/simdKernels';
import { queryHeadsOf, queryInputDim, towerPreset, type TowerPreset } from './towers';

/** Weights of the dense part of one tower: bag → relu(bag·W1 + b1)·W2 + b2. */
export interface DenseParams {
  w1: Float32Array; // [E × H]
  b1: Float32Array; // [H]
  w2: Float32Array; // [H × D]
  b2: Float32Array; // [D]
}

/**
 * One tower's weights: the embedding table [V × E] kept on the host, and its dense layers. Fresh tables
 * (initTwoTower) are views into a TableArena, where the trainer also keeps their Adam moments; any
 * Float32Array works (the trainer copies a table that is not in an arena into a new one).
 */
export interface TowerParams {
  table: Float32Array;
  dense: DenseParams;
}

export interface ModelDims {
  vocab: number;
  embed: number;
  hidden: number;
  out: number;
}

/** The two towers; `item === query` when towers are shared. */
export interface TwoTowerParams {
  dims: ModelDims;
  query: TowerParams;
  item: TowerParams;
  shared: boolean;
  /** The query tower (towers/index.ts); absent = "dssm". Its W1 is [queryInputDim × H]. */
  preset?: TowerPreset;
}

/** Width of a tower's dense input: E, or the query preset's (4E for "mgdspr"). */
export function towerInputDim(p: Pick<TwoTowerParams, 'dims' | 'preset'>, tower: 'query' | 'item'): number {
  return tower === 'query' ? queryInputDim(p.preset ?? 'dssm', p.dims.embed) : p.dims.embed;
}

export function modelDims(cfg: ModelConfig): ModelDims {
  return { vocab: cfg.vocabBuckets, embed: cfg.embeddingDim, hidden: cfg.hiddenDim, out: cfg.outputDim };
}

/** Fills `a` with U(−limit, limit) from a seeded generator. */
function fillUniform(a: Float32Array, limit: number, rng: () => number): Float32Array {
  for (let i = 0; i < a.length; i++) a[i] = (rng() * 2 - 1) * limit;
  return a;
}

type ArenaArray = Float32Array | Int32Array | Float64Array;
type ArenaArrayCtor<T extends ArenaArray> = { new (buffer: ArrayBufferLike, byteOffset: number, length: number): T; BYTES_PER_ELEMENT: number };

const PAGE = 65536;
/** Bytes reserved after the table and its moments for the trainer's per-step buffers (grows on demand). */
const ARENA_SLACK = 8 << 20;
/** Pages the memory may grow by beyond its initial size. */
const ARENA_GROWTH_PAGES = 4096;

/**
 * Storage of one embedding table [rows × dim] with room for its Adam moments and the trainer's
 * per-step buffers, all in one shared WebAssembly.Memory where WebAssembly SIMD is available (the
 * trainer's SIMD kernels and its worker thread then work on them in place; see simdKernels.ts), else in
 * SharedArrayBuffers. The table itself is an ordinary Float32Array view. Memory is only committed where
 * written, so the reserved moments cost nothing until training touches their rows; an arena is freed
 * with its last reference. Bump allocation: arrays live as long as the arena.
 */
export class TableArena {
  readonly memory?: WebAssembly.Memory;
  readonly table: Float32Array;
  /** Set by the trainer whose moments and buffers live here (one trainer per arena). */
  claimed = false;
  private top = 0;

  constructor(readonly size: number) {
    if (simdModule()) {
      const pages = Math.ceil((3 * 4 * size + ARENA_SLACK) / PAGE);
      try {
        // The maximum is reserved address space only; it lets per-step buffers grow (by up to 256 MiB).
        this.memory = new WebAssembly.Memory({ initial: pages, maximum: Math.min(65536, pages + ARENA_GROWTH_PAGES), shared: true });
      } catch {
        this.memory = undefined; // too large for a wasm32 memory, or no address space: SharedArrayBuffers
      }
    }
    this.table = this.alloc(Float32Array, size);
  }

  /**
   * True once an array could not be placed in the memory (it reached its maximum) and went to a
   * SharedArrayBuffer instead: the SIMD kernels, which address the memory, must then not be used.
   */
  spilled = false;

  /** A new zeroed array of n elements, 64-byte aligned. */
  alloc<T extends ArenaArray>(ctor: ArenaArrayCtor<T>, n: number): T {
    const shared = () => new ctor(new SharedArrayBuffer(Math.max(n, 1) * ctor.BYTES_PER_ELEMENT), 0, n);
    if (!this.memory) return shared();
    const bytes = Math.ceil((n * ctor.BYTES_PER_ELEMENT) / 64) * 64;
    const end = this.top + bytes;
    const have = this.memory.buffer.byteLength;
    if (end > have) {
      try {
        this.memory.grow(Math.ceil((end - have) / PAGE));
      } catch {
        this.spilled = true;
        return shared();
      }
    }
    const a = new ctor(this.memory.buffer, this.top, n);
    this.top = end;
    return a;
  }
}

const arenas = new WeakMap<Float32Array, TableArena>();

/** The arena a table lives in (undefined for a table made elsewhere, e.g. loaded from a checkpoint). */
export function arenaOf(table: Float32Array): TableArena | undefined {
  return arenas.get(table);
}

/** A new arena for a table of n floats (a copy of `from` when given, else zeros). */
export function newTableArena(n: number, from?: Float32Array): TableArena {
  const arena = new TableArena(n);
  if (from) arena.table.set(from);
  arenas.set(arena.table, arena);
  return arena;
}

/** A zeroed table of n floats in a new arena. */
export function tableArray(n: number): Float32Array {
  return newTableArena(n).table;
}

/**
 * Embedding rows U(−0.05, 0.05) (Keras' default); dense kernels Glorot-uniform; biases zero. `inDim` is the MLP's
 * input width (4E for the "mgdspr" query tower). A tower of `heads` K embeddings (DPSR's query tower) has
 * W2 [H × K·D], each head's columns drawn with the one-head limit.
 */
function initTower(d: ModelDims, rng: () => number, inDim = d.embed, heads = 1): TowerParams {
  return {
    table: fillUniform(tableArray(d.vocab * d.embed), 0.05, rng),
    dense: {
      w1: fillUniform(new Float32Array(inDim * d.hidden), Math.sqrt(6 / (inDim + d.hidden)), rng),
      b1: new Float32Array(d.hidden),
      w2: fillUniform(new Float32Array(d.hidden * d.out * heads), Math.sqrt(6 / (d.hidden + d.out)), rng),
      b2: new Float32Array(d.out * heads),
    },
  };
}

/** Fresh, seeded weights for both towers. */
export function initTwoTower(cfg: ModelConfig, seed: number): TwoTowerParams {
  const dims = modelDims(cfg);
  const rng = seedrandom.alea(`retrieval-lens-init-${seed}`);
  const preset = towerPreset(cfg);
  const query = initTower(dims, rng, queryInputDim(preset, dims.embed), queryHeadsOf(cfg));
  const item = cfg.sharedTowers ? query : initTower(dims, rng);
  if (preset !== 'dssm' && cfg.sharedTowers) throw new Error(`model.preset "${preset}" cannot share towers`);
  return { dims, query, item, shared: cfg.sharedTowers, ...(preset !== 'dssm' ? { preset } : {}) };
}

/** The towers' distinct parameter sets, each named ('query', 'item' or 'shared'). */
export function namedTowers(p: TwoTowerParams): { name: string; tower: TowerParams }[] {
  return p.shared
    ? [{ name: 'shared', tower: p.query }]
    : [
        { name: 'query', tower: p.query },
        { name: 'item', tower: p.item },
      ];
}
