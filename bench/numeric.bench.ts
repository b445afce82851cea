/**
 * The hand-written numeric kernels against what they replace, in two parts:
 *   eigen — eigenvalues of the Gram matrices the effective rank decomposes (src/core/metrics/effectiveRank.ts):
 *           the Householder + QL solver (symmetricEigenvalues.ts) against ml-matrix's EigenvalueDecomposition
 *           (symmetric path: Householder tred2 + QL tql2, with eigenvectors), at the sizes training meets —
 *           the smaller side of B × D: 128×128 (B 350, D 128: the paper's shape), 256×256 and 350×350
 *           (B 350, D ≥ 350) — and the largest difference between the two spectra relative to λ_max;
 *   simd  — the WebAssembly SIMD kernels (simdKernels.wat) against the JavaScript ones on one step's
 *           embedding work at the paper's shape (350 item bags of 100 ids into a 2^18 × 128 table): the bag
 *           forward pass (bag_forward / bagForwardRange) and the fused bag backward + lazy Adam
 *           (adam_rows / lazyAdamFromBags), in process CPU time on one thread (what other processes on a
 *           shared machine disturb least), interleaved.
 *
 *   npm run bench:numeric [-- --parts eigen,simd --sizes 128,350 --rounds 20]
 *
 * Prints numbers; asserts nothing.
 */
import { parseArgs } from 'util';
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import seedrandom from 'seedrandom';
import { lazyAdamFromBags } from '../src/core/model/adam';
import { bagForwardRange, buildRowIndexOf, flattenBags, rowIndexScratch } from '../src/core/model/embeddingBag';
import { newTableArena } from '../src/core/model/params';
import { rowGram } from '../src/core/numeric/gramMatrix';
import { simdKernels, simdModule } from '../src/core/numeric/simdKernels';
import { symmetricEigenvalues } from '../src/core/numeric/symmetricEigenvalues';

const { values } = parseArgs({
  options: {
    parts: { type: 'string', default: 'eigen,simd' },
    sizes: { type: 'string', default: '64,128,256,350' },
    rounds: { type: 'string', default: '20' },
  },
});
const PARTS = new Set(values.parts.split(','));
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

function eigenPart(): void {
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
}

/** CPU milliseconds (user + system) of `f`. */
function cpuMs(f: () => void): number {
  const c0 = process.cpuUsage();
  f();
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000;
}

function simdPart(): void {
  const mod = simdModule();
  if (!mod) return console.log('simd: WebAssembly SIMD (or shared memory) is not available here');
  const V = 1 << 18;
  const E = 128;
  const B = 350;
  const L = 100;
  const rng = seedrandom('numeric-bench-simd');
  const arena = newTableArena(V * E);
  for (let i = 0; i < arena.table.length; i++) arena.table[i] = (rng() - 0.5) * 0.1;
  const k = simdKernels(mod, arena.memory!);
  const put = <T extends Float32Array | Int32Array | Float64Array>(
    ctor: { new (b: ArrayBufferLike, o: number, n: number): T; BYTES_PER_ELEMENT: number },
    from: ArrayLike<number>,
  ) => {
    const a = arena.alloc(ctor, from.length);
    a.set(from);
    return a;
  };
  const seqs = Array.from({ length: B }, () => Int32Array.from({ length: L }, () => Math.floor(rng() * V)));
  const flat = flattenBags(seqs);
  const idx = buildRowIndexOf(flat, rowIndexScratch(V));
  const ids = put(Int32Array, flat.ids);
  const offsets = put(Int32Array, flat.offsets);
  const out = arena.alloc(Float32Array, B * E);
  const outJs = new Float32Array(B * E);
  const m = arena.alloc(Float32Array, V * E);
  const v = arena.alloc(Float32Array, V * E);
  const rows = put(Int32Array, idx.rows.subarray(0, idx.count));
  const start = put(Int32Array, idx.start.subarray(0, idx.count + 1));
  const bagOf = put(Int32Array, idx.bagOf.subarray(0, flat.ids.length));
  const gradBag = put(
    Float32Array,
    Float32Array.from({ length: B * E }, () => (rng() - 0.5) * 1e-3),
  );
  const invLen = put(
    Float64Array,
    Float64Array.from(seqs, (q) => 1 / q.length),
  );
  const g = arena.alloc(Float32Array, 4 * E);
  const timings = { bagSimd: [] as number[], bagJs: [] as number[], adamSimd: [] as number[], adamJs: [] as number[] };
  for (let r = 0; r < ROUNDS + 2; r++) {
    const t = {
      bagSimd: cpuMs(() => k.bag_forward(arena.table.byteOffset, E, ids.byteOffset, offsets.byteOffset, 0, B, out.byteOffset)),
      bagJs: cpuMs(() => bagForwardRange(arena.table, E, ids, offsets, 0, B, outJs)),
      adamSimd: cpuMs(() =>
        k.adam_rows(
          arena.table.byteOffset,
          m.byteOffset,
          v.byteOffset,
          E,
          rows.byteOffset,
          start.byteOffset,
          bagOf.byteOffset,
          0,
          idx.count,
          gradBag.byteOffset,
          invLen.byteOffset,
          g.byteOffset,
          1e-3,
          0.9,
          0.999,
          1e-7,
        ),
      ),
      adamJs: cpuMs(() => lazyAdamFromBags(arena.table, m, v, E, rows, start, bagOf, 0, idx.count, gradBag, invLen, 1e-3, 0.9, 0.999, 1e-7, g)),
    };
    if (r >= 2) for (const key of Object.keys(t) as (keyof typeof t)[]) timings[key].push(t[key]); // two warm-up rounds
  }
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  console.log(
    `\nSIMD kernels vs JavaScript, one step's item bags (${B} × ${L} ids, ${idx.count} distinct rows of 2^18 × ${E}); CPU ms, median of ${ROUNDS} rounds`,
  );
  console.log('| kernel                         |   SIMD |     JS | JS / SIMD |');
  console.log('|--------------------------------|--------|--------|-----------|');
  for (const [name, a, b] of [
    ['bag forward', timings.bagSimd, timings.bagJs],
    ['bag backward + lazy Adam', timings.adamSimd, timings.adamJs],
  ] as const)
    console.log(`| ${name.padEnd(30)} | ${med(a).toFixed(2).padStart(6)} | ${med(b).toFixed(2).padStart(6)} | ${(med(b) / med(a)).toFixed(2).padStart(8)}× |`);
}

if (PARTS.has('eigen')) eigenPart();
if (PARTS.has('simd')) simdPart();
