import { loadFaiss } from './faissModule';
import { factoryString, resolveIndexSpec } from './resolveSpec';
import { gatherRows, sampleRowIndices } from './sampleRows';
import { setNprobe } from './nprobe';
import { checkMatrix, rowsAsArray } from './vectorChecks';
import type { BuildOptions, IndexSpec, VectorIndex } from './types';
import type { Index as FaissIndex } from 'faiss-node';

const DEFAULT_SEED = 'retrieval-lens-ivf';
const DEFAULT_ADD_BATCH = 16384;

/**
 * Builds an inner-product faiss index over n row-major vectors of dimension dim.
 * Flat → IndexFlatIP (exact). IVF-PQ → index_factory "IVF{nlist},PQ{m}x{nbits}" with the inner-product
 * metric, trained on a seeded sample of spec.trainSample vectors, then nprobe applied.
 * The spec is validated and adjusted first (see resolveIndexSpec): each adjustment is sent to
 * opts.log and kept in the returned index's `notes`. Throws a clear Error on invalid input.
 */
export function buildIndex(vectors: Float32Array, n: number, dim: number, spec: IndexSpec, opts: BuildOptions = {}): VectorIndex {
  checkMatrix(vectors, n, dim, 'buildIndex vectors');
  const { spec: effective, notes } = resolveIndexSpec(spec, n, dim);
  for (const note of notes) opts.log?.(note);
  const faiss = loadFaiss();

  let native: FaissIndex;
  if (effective.type === 'Flat') {
    native = new faiss.IndexFlatIP(dim);
  } else {
    native = faiss.Index.fromFactory(dim, factoryString(effective), faiss.MetricType.METRIC_INNER_PRODUCT);
    const rows = sampleRowIndices(n, effective.trainSample ?? n, opts.seed ?? DEFAULT_SEED);
    opts.onProgress?.({ phase: 'train', done: 0, total: 1 });
    native.train(Array.from(gatherRows(vectors, dim, rows)));
    opts.onProgress?.({ phase: 'train', done: 1, total: 1 });
  }

  const batch = Math.max(1, Math.floor(opts.addBatch ?? DEFAULT_ADD_BATCH));
  for (let from = 0; from < n; from += batch) {
    const to = Math.min(n, from + batch);
    native.add(rowsAsArray(vectors, dim, from, to));
    opts.onProgress?.({ phase: 'add', done: to, total: n });
  }

  const index: VectorIndex = { spec: effective, dim, ntotal: native.ntotal(), notes, native };
  if (effective.type === 'IVF-PQ' && effective.nprobe !== 1) setNprobe(index, effective.nprobe); // faiss starts at 1
  return index;
}
