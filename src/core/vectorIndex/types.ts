import type { Index as FaissIndex } from 'faiss-node';

/** Exact inner-product search over all vectors (faiss IndexFlatIP). */
export interface FlatSpec {
  type: 'Flat';
}

/**
 * Inverted file with product quantisation (faiss "IVF{nlist},PQ{m}x{nbits}", inner-product metric).
 * nlist: coarse clusters; m: PQ sub-quantisers (must divide dim); nbits: bits per sub-code (1..8 in
 * faiss 1.7.x); nprobe: clusters visited per query; trainSample: vectors used to train (seeded sample).
 */
export interface IvfPqSpec {
  type: 'IVF-PQ';
  nlist: number;
  m: number;
  nbits: number;
  nprobe: number;
  trainSample?: number;
}

export type IndexSpec = FlatSpec | IvfPqSpec;

/** Progress of buildIndex: training (0 or 1 of 1) then adding vectors in batches. */
export interface BuildProgress {
  phase: 'train' | 'add';
  done: number;
  total: number;
}

export interface BuildOptions {
  onProgress?: (progress: BuildProgress) => void;
  /** Receives each note (clamped nlist, resized training sample, ...) as it is decided. */
  log?: (message: string) => void;
  /** Seed of the training sample (default 'retrieval-lens-ivf'). */
  seed?: string | number;
  /** Vectors handed to faiss per add() call (default 16384): faiss-node copies plain JS arrays. */
  addBatch?: number;
}

/** Top-k results, row-major nq × k; label -1 (score -Infinity) where fewer than k results exist. */
export interface SearchResult {
  nq: number;
  k: number;
  labels: Int32Array;
  scores: Float32Array;
}

/**
 * A built or loaded faiss index. `spec` is the effective spec (nlist/nprobe clamped, trainSample
 * resolved); `notes` explains every adjustment. `native` and `spec.nprobe` are replaced by
 * setNprobe (faiss-node cannot change nprobe in place), so do not cache `native`.
 */
export interface VectorIndex {
  spec: IndexSpec;
  readonly dim: number;
  readonly ntotal: number;
  readonly notes: readonly string[];
  native: FaissIndex;
}
