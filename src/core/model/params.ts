import seedrandom from 'seedrandom';
import type { ModelConfig } from '../config/types';

/** Weights of the dense part of one tower: bag → relu(bag·W1 + b1)·W2 + b2. */
export interface DenseParams {
  w1: Float32Array; // [E × H]
  b1: Float32Array; // [H]
  w2: Float32Array; // [H × D]
  b2: Float32Array; // [D]
}

/** One tower's weights: the embedding table [V × E] kept on the host, and its dense layers. */
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
}

export function modelDims(cfg: ModelConfig): ModelDims {
  return { vocab: cfg.vocabBuckets, embed: cfg.embeddingDim, hidden: cfg.hiddenDim, out: cfg.outputDim };
}

/** Fills `a` with U(−limit, limit) from a seeded generator. */
function fillUniform(a: Float32Array, limit: number, rng: () => number): Float32Array {
  for (let i = 0; i < a.length; i++) a[i] = (rng() * 2 - 1) * limit;
  return a;
}

/** Embedding rows U(−0.05, 0.05) (Keras' default); dense kernels Glorot-uniform; biases zero. */
function initTower(d: ModelDims, rng: () => number): TowerParams {
  return {
    table: fillUniform(new Float32Array(d.vocab * d.embed), 0.05, rng),
    dense: {
      w1: fillUniform(new Float32Array(d.embed * d.hidden), Math.sqrt(6 / (d.embed + d.hidden)), rng),
      b1: new Float32Array(d.hidden),
      w2: fillUniform(new Float32Array(d.hidden * d.out), Math.sqrt(6 / (d.hidden + d.out)), rng),
      b2: new Float32Array(d.out),
    },
  };
}

/** Fresh, seeded weights for both towers. */
export function initTwoTower(cfg: ModelConfig, seed: number): TwoTowerParams {
  const dims = modelDims(cfg);
  const rng = seedrandom.alea(`retrieval-lens-init-${seed}`);
  const query = initTower(dims, rng);
  const item = cfg.sharedTowers ? query : initTower(dims, rng);
  return { dims, query, item, shared: cfg.sharedTowers };
}

/** The towers' distinct parameter sets, each named ('query', 'item' or 'shared'). */
export function namedTowers(p: TwoTowerParams): { name: string; tower: TowerParams }[] {
  return p.shared ? [{ name: 'shared', tower: p.query }] : [{ name: 'query', tower: p.query }, { name: 'item', tower: p.item }];
}
