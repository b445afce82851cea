import type { IndexSpec, IvfPqSpec } from './types';

/** faiss k-means warns below 39 training points per centroid (Clustering::min_points_per_centroid). */
export const MIN_POINTS_PER_CENTROID = 39;
/**
 * Default training points per centroid: faiss's own minimum (39), far below its 256-per-centroid
 * subsampling cap, so training stays fast (k-means and PQ training cost ∝ sample size); measured in
 * docs/evaluation-benchmark.md: 64 per list cost ~3× the build time at 60k × 128 for +0.01 recall@10.
 */
export const DEFAULT_POINTS_PER_CENTROID = MIN_POINTS_PER_CENTROID;
/** faiss 1.7.x IndexIVFPQ accepts 1..8 bits per sub-quantiser code. */
export const MAX_PQ_NBITS = 8;

export interface ResolvedSpec {
  /** Effective spec; for IVF-PQ nlist/nprobe are clamped and trainSample is always set. */
  spec: IndexSpec;
  /** Human-readable explanation of every adjustment made to the requested spec. */
  notes: string[];
}

function requireInt(value: unknown, name: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `an integer >= ${min}` : `an integer in [${min}, ${max}]`;
    throw new Error(`Invalid index spec: ${name} must be ${range}, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** Largest nlist faiss can train with n vectors: max(1, floor(n / 39)). */
export function maxNlistFor(n: number): number {
  return Math.max(1, Math.floor(n / MIN_POINTS_PER_CENTROID));
}

/**
 * Validates a requested spec against the data shape (n vectors of dimension dim) and resolves it:
 * - nlist is clamped to max(1, floor(n/39)); nprobe to [1, nlist];
 * - m must divide dim, nbits must be in 1..8 and n ≥ 2^nbits (else a clear Error);
 * - trainSample defaults to min(n, 39·max(nlist, 2^nbits)) and is raised to at least
 *   min(n, max(39·nlist, 2^nbits)) (what faiss needs to train without failing or degrading).
 * Every adjustment is explained in `notes`; nothing is changed silently.
 */
export function resolveIndexSpec(requested: IndexSpec, n: number, dim: number): ResolvedSpec {
  requireInt(n, 'n (number of vectors)', 1);
  requireInt(dim, 'dim', 1);
  if (requested.type === 'Flat') return { spec: { type: 'Flat' }, notes: [] };
  if (requested.type !== 'IVF-PQ') {
    throw new Error(`Invalid index spec: unknown type ${JSON.stringify((requested as { type: unknown }).type)} (expected "Flat" or "IVF-PQ")`);
  }
  return resolveIvfPq(requested, n, dim);
}

function resolveIvfPq(req: IvfPqSpec, n: number, dim: number): ResolvedSpec {
  const notes: string[] = [];
  const requestedNlist = requireInt(req.nlist, 'nlist', 1);
  const m = requireInt(req.m, 'm', 1);
  const nbits = requireInt(req.nbits, 'nbits', 1, MAX_PQ_NBITS);
  const requestedNprobe = requireInt(req.nprobe, 'nprobe', 1);
  if (dim % m !== 0) {
    throw new Error(`Invalid index spec: PQ m=${m} must divide the vector dimension ${dim} (each sub-quantiser encodes dim/m components)`);
  }
  const ksub = 2 ** nbits; // centroids per PQ sub-quantiser
  if (n < ksub) {
    throw new Error(
      `IVF-PQ with nbits=${nbits} trains ${ksub} centroids per sub-quantiser and needs at least ${ksub} vectors, ` +
        `but there are only ${n}: use nbits <= ${Math.floor(Math.log2(n))} or the Flat index`,
    );
  }

  const nlist = Math.min(requestedNlist, maxNlistFor(n));
  if (nlist < requestedNlist) {
    notes.push(`nlist ${requestedNlist} clamped to ${nlist} for ${n} vectors (faiss needs ~${MIN_POINTS_PER_CENTROID} training points per list)`);
  }
  const nprobe = Math.min(requestedNprobe, nlist);
  if (nprobe < requestedNprobe) notes.push(`nprobe ${requestedNprobe} clamped to nlist ${nlist}`);

  // Fewest training vectors that keep faiss from failing (PQ: ≥ ksub) or from degrading (IVF: ≥ 39/list).
  const minSample = Math.min(n, Math.max(MIN_POINTS_PER_CENTROID * nlist, ksub));
  let trainSample: number;
  if (req.trainSample === undefined) {
    trainSample = Math.min(n, DEFAULT_POINTS_PER_CENTROID * Math.max(nlist, ksub));
  } else {
    const asked = requireInt(req.trainSample, 'trainSample', 1);
    trainSample = Math.min(asked, n);
    if (trainSample < asked) notes.push(`trainSample ${asked} capped at the ${n} available vectors`);
    if (trainSample < minSample) {
      notes.push(
        `trainSample ${trainSample} raised to ${minSample} (IVF needs ~${MIN_POINTS_PER_CENTROID} points per list × ${nlist} lists; PQ needs >= ${ksub})`,
      );
      trainSample = minSample;
    }
  }
  if (trainSample < MIN_POINTS_PER_CENTROID * ksub) {
    notes.push(
      `PQ nbits=${nbits}: faiss recommends >= ${MIN_POINTS_PER_CENTROID * ksub} training vectors for ${ksub} centroids per sub-quantiser, ` +
        `training on ${trainSample} (codebooks may be less accurate; faiss prints a warning)`,
    );
  }
  return { spec: { type: 'IVF-PQ', nlist, m, nbits, nprobe, trainSample }, notes };
}

/**
 * The faiss index_factory description of an IVF-PQ spec, e.g. "IVF256,PQ16x8np". The "np" suffix
 * turns off polysemous training: it only serves Hamming-distance pre-filtering (polysemous_ht),
 * which search never enables, and with faiss 1.7.3 it made training 4000 × 32-d vectors with
 * PQ8x8 take ~100 s instead of ~1 s. The trained index is an ordinary IndexIVFPQ ("IwPQ").
 */
export function factoryString(spec: IvfPqSpec): string {
  return `IVF${spec.nlist},PQ${spec.m}x${spec.nbits}np`;
}
