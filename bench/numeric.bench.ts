/**
 * Eigenvalues of the Gram matrices the effective rank decomposes (src/core/metrics/effectiveRank.ts): the
 * hand-written Householder + QL solver (symmetricEigenvalues.ts) against ml-matrix's
 * EigenvalueDecomposition (symmetric path: Householder tred2 + QL tql2, with eigenvectors), on the Gram
 * matrix of a batch's item embeddings at the sizes training meets — the smaller side of B × D:
 * 128×128 (B 350, D 128: the paper's shape), 256×256 and 350×350 (B 350, D ≥ 350) — and the largest
 * difference between the two spectra relative to λ_max.
 *
 *   npm run bench:numeric [-- --sizes 128,350 --rounds 20]
 *
 * Prints numbers; asserts nothing.
 */
import { parseArgs } from 'util';
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import seedrandom from 'seedrandom';
import { rowGram } from '../src/core/numeric/gramMatrix';
import { symmetricEigenvalues } from '../src/core/numeric/symmetricEigenvalues';

const { values } = parseArgs({ options: { sizes: { type: 'string', default: '64,128,256,350' }, rounds: { type: 'string', default: '20' } } });
const SIZES = values.sizes.split(',').map(Number);
const ROUNDS = Number(values.rounds);

/** Gram matrix (n×n) of n random unit rows of dimension d, a little collapsed (a shared direction added). */
function gram(n: number, d: number, seed: string): Float64Array {
  const rng = seedrandom(seed);
  const shared = Array.from({ length: d }, () => rng() * 2 - 1);
  const x = new Float64Array(n * d);
  for (let r = 0; r < n; r++) {
    let norm = 0;
    for (let k = 0; k < d; k++) {
      const v = rng() * 2 - 1 + 0.8 * shared[k];
      x[r * d + k] = v;
      norm += v * v;
    }
    norm = Math.sqrt(norm);
    for (let k = 0; k < d; k++) x[r * d + k] /= norm;
  }
  return rowGram(x, n, d);
}

function mlMatrixEigenvalues(g: Float64Array, n: number): Float64Array {
  const evd = new EigenvalueDecomposition(Matrix.from1DArray(n, n, g), { assumeSymmetric: true });
  return Float64Array.from(evd.realEigenvalues).sort().reverse();
}

/** Sorted per-round milliseconds of `f` (two warm-up rounds dropped). */
function time(f: () => unknown): number[] {
  const ms: number[] = [];
  for (let r = 0; r < ROUNDS + 2; r++) {
    const t0 = performance.now();
    f();
    ms.push(performance.now() - t0);
  }
  return ms.slice(2).sort((a, b) => a - b);
}

const median = (ms: number[]) => ms[ms.length >> 1];

console.log(`Eigenvalues of an n×n Gram matrix (n rows of dimension max(n, 128)); ms over ${ROUNDS} rounds, interleaved per size`);
console.log('|    n | hand-written QL p50 (min) | ml-matrix EVD p50 (min) | ml-matrix / hand | max |Δλ| / λ_max |');
console.log('|------|---------------------------|-------------------------|------------------|------------------|');
for (const n of SIZES) {
  const g = gram(n, Math.max(n, 128), `numeric-bench-${n}`);
  const a = symmetricEigenvalues(g, n);
  const b = mlMatrixEigenvalues(g, n);
  let diff = 0;
  for (let k = 0; k < n; k++) diff = Math.max(diff, Math.abs(a[k] - b[k]));
  const hand = time(() => symmetricEigenvalues(g, n));
  const lib = time(() => mlMatrixEigenvalues(g, n));
  console.log(
    `| ${String(n).padStart(4)} | ${median(hand).toFixed(2).padStart(10)} (${hand[0].toFixed(2).padStart(7)})      | ${median(lib).toFixed(2).padStart(10)} (${lib[0].toFixed(2).padStart(7)})    | ${(median(lib) / median(hand)).toFixed(2).padStart(14)}×  | ${(diff / a[0]).toExponential(1).padStart(16)} |`,
  );
}
