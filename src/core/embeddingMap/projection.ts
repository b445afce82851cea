/**
 * 2-D projections of embeddings for the embedding map: PCA (ml-matrix's symmetric eigendecomposition of the
 * covariance; fast, and in the embeddings' own scale, so a collapsed model shows as one tight cluster) and
 * UMAP (umap-js, seeded; neighbourhood structure, but every cloud is stretched to a similar size).
 */
import { EVD, Matrix } from 'ml-matrix';
import seedrandom from 'seedrandom';
import { UMAP } from 'umap-js';

/** Rows of a row-major n × dim matrix as arrays. */
function rows(vectors: Float32Array, n: number, dim: number): number[][] {
  return Array.from({ length: n }, (_, i) => Array.from(vectors.subarray(i * dim, (i + 1) * dim)));
}

/**
 * Coordinates on the top two principal axes (n × 2, row-major): x·u₁, x·u₂ of the mean-centred rows, with
 * u₁, u₂ the covariance's leading eigenvectors; also the share of variance they explain and the total
 * variance (trace of the covariance: ≈ 0 for a collapsed model).
 */
export function pca2(vectors: Float32Array, n: number, dim: number): { coords: Float32Array; explained: [number, number]; totalVariance: number } {
  const mean = new Float64Array(dim);
  for (let i = 0; i < n; i++) for (let d = 0; d < dim; d++) mean[d] += vectors[i * dim + d] / n;
  const centred = new Matrix(rows(vectors, n, dim).map((r) => r.map((x, d) => x - mean[d])));
  const cov = centred
    .transpose()
    .mmul(centred)
    .div(Math.max(1, n - 1));
  const evd = new EVD(cov, { assumeSymmetric: true });
  const values = evd.realEigenvalues;
  const order = values.map((v, i) => [v, i] as const).sort((a, b) => b[0] - a[0]);
  const [a, b] = [order[0][1], order[1]?.[1] ?? order[0][1]];
  const vecs = evd.eigenvectorMatrix;
  const coords = new Float32Array(n * 2);
  for (let i = 0; i < n; i++) {
    let x = 0;
    let y = 0;
    for (let d = 0; d < dim; d++) {
      const c = vectors[i * dim + d] - mean[d];
      x += c * vecs.get(d, a);
      y += c * vecs.get(d, b);
    }
    coords[2 * i] = x;
    coords[2 * i + 1] = y;
  }
  const total = values.reduce((s, v) => s + Math.max(0, v), 0);
  return { coords, explained: [total > 0 ? Math.max(0, values[a]) / total : 0, total > 0 ? Math.max(0, values[b]) / total : 0], totalVariance: total };
}

/** UMAP to 2-D (n × 2, row-major), seeded; `onEpoch` reports progress. */
export function umap2(
  vectors: Float32Array,
  n: number,
  dim: number,
  opts: { seed?: string; nNeighbors?: number; onEpoch?: (done: number, total: number) => void } = {},
): Float32Array {
  const umap = new UMAP({
    nComponents: 2,
    nNeighbors: Math.min(opts.nNeighbors ?? 15, Math.max(2, n - 1)),
    random: seedrandom(opts.seed ?? 'retrieval-lens-umap'),
  });
  const epochs = umap.initializeFit(rows(vectors, n, dim));
  for (let e = 0; e < epochs; e++) {
    umap.step();
    if (opts.onEpoch && (e % 25 === 0 || e === epochs - 1)) opts.onEpoch(e + 1, epochs);
  }
  return Float32Array.from(umap.getEmbedding().flat());
}

/** Root-mean-square distance of the points from their centroid (the map's spread, in the coordinates' units). */
export function spread2(coords: Float32Array): number {
  const n = coords.length / 2;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += coords[2 * i] / n;
    my += coords[2 * i + 1] / n;
  }
  let s = 0;
  for (let i = 0; i < n; i++) s += (coords[2 * i] - mx) ** 2 + (coords[2 * i + 1] - my) ** 2;
  return Math.sqrt(s / Math.max(1, n));
}
