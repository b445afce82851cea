import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import seedrandom from 'seedrandom';
import { CollapseMonitor, DEFAULT_COLLAPSE_THRESHOLDS } from '../../src/core/metrics/collapseMonitor';
import { histogramBin, summarizeDistribution } from '../../src/core/metrics/distributionSummary';
import { effectiveRank, effectiveRankFromSingularValues } from '../../src/core/metrics/effectiveRank';
import { itemGram } from '../../src/core/metrics/itemGram';
import { linearPercentiles, orderStatistics } from '../../src/core/numeric/orderStatistics';
import { computeStepDiagnostics } from '../../src/core/metrics/stepDiagnostics';
import type { StepHostTensors } from '../../src/core/metrics/stepInputs';
import { symmetricEigenvalues } from '../../src/core/numeric/symmetricEigenvalues';
import { similarityRatio } from '../../src/core/metrics/similarityRatio';
import type { CollapseIndicators, StepDiagnostics } from '../../src/core/metrics/types';

// ---------- independent reference helpers (no code shared with the implementation) ----------

/** numpy.percentile(method="linear") on a fully sorted copy. */
function refPercentile(values: ArrayLike<number>, p: number): number {
  return refPercentileSorted(
    Array.from(values).sort((a, b) => a - b),
    p,
  );
}

function refPercentileSorted(s: number[], p: number): number {
  const h = (s.length - 1) * p;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, s.length - 1);
  return s[lo] + (h - lo) * (s[hi] - s[lo]);
}

function assertClose(actual: number | null, expected: number, tol: number, what: string): void {
  assert.ok(actual !== null, `${what}: got null`);
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: expected ${expected}, got ${actual} (tol ${tol})`);
}

/** Rows of `rows` (arrays) as a flat Float32Array. */
function flat(rows: number[][]): Float32Array {
  return Float32Array.from(rows.flat());
}

/** Householder reflection H = I − 2uuᵀ/‖u‖² (orthogonal, symmetric) as number[][]. */
function householder(u: number[]): number[][] {
  const n2 = u.reduce((s, x) => s + x * x, 0);
  return u.map((ui, i) => u.map((uj, j) => (i === j ? 1 : 0) - (2 * ui * uj) / n2));
}

function matMul(a: number[][], b: number[][]): number[][] {
  return a.map((row) => b[0].map((_, j) => row.reduce((s, x, k) => s + x * b[k][j], 0)));
}

function transpose(a: number[][]): number[][] {
  return a[0].map((_, j) => a.map((row) => row[j]));
}

/** Random unit vectors (rows) from a seeded generator. */
function randomUnitRows(rng: () => number, b: number, d: number): number[][] {
  return Array.from({ length: b }, () => {
    const v = Array.from({ length: d }, () => rng() * 2 - 1);
    const n = Math.hypot(...v);
    return v.map((x) => x / n);
  });
}

function dot(a: number[], b: number[]): number {
  return a.reduce((s, x, k) => s + x * b[k], 0);
}

/**
 * A StepHostTensors whose sVV item–item block is the exact Gram of `items` (as the trainer's
 * would be), with extra columns and sQV / hyper / mask given or defaulted.
 */
function stepInputs(opts: {
  items: number[][];
  sQV?: number[][];
  sVV?: number[][];
  negMask?: number[][];
  hyper?: number[][];
  hyperKind?: 'delta' | 'tau';
  hyperRange?: [number, number];
}): StepHostTensors {
  const B = opts.items.length;
  const D = opts.items[0].length;
  const N = opts.sQV?.[0].length ?? B;
  const sVV = opts.sVV ?? opts.items.map((vj) => Array.from({ length: N }, (_, i) => (i < B ? dot(vj, opts.items[i]) : 0)));
  const negMask = opts.negMask ?? Array.from({ length: B }, (_, j) => Array.from({ length: N }, (_, i) => (i === j ? 0 : 1)));
  return {
    B,
    N,
    D,
    sQV: flat(opts.sQV ?? Array.from({ length: B }, (_, j) => Array.from({ length: N }, (_, i) => (i === j ? 0.5 : 0)))),
    sVV: flat(sVV),
    negMask: flat(negMask),
    hyper: flat(opts.hyper ?? Array.from({ length: B }, () => new Array<number>(N).fill(0.1))),
    hyperKind: opts.hyperKind ?? 'delta',
    hyperRange: opts.hyperRange ?? [0, 1],
    itemEmb: flat(opts.items),
  };
}

// ---------- percentiles and summaries ----------

test('linear percentiles match hand-computed values (numpy "linear" definition)', () => {
  // n = 4 sorted [1, 2, 3, 4]: h = 3p.
  const v = Float32Array.from([3, 1, 4, 2]);
  const [p05, p25, p50, p75, p95] = linearPercentiles(v, [0.05, 0.25, 0.5, 0.75, 0.95]);
  assertClose(p05, 1.15, 1e-12, 'p05'); // h = 0.15
  assertClose(p25, 1.75, 1e-12, 'p25'); // h = 0.75
  assert.equal(p50, 2.5); // h = 1.5
  assertClose(p75, 3.25, 1e-12, 'p75'); // h = 2.25
  assertClose(p95, 3.85, 1e-12, 'p95'); // h = 2.85
  assert.deepEqual(Array.from(v), [3, 1, 4, 2], 'input not modified');
  assert.deepEqual(linearPercentiles(Float32Array.from([7]), [0, 0.5, 1]), [7, 7, 7]);
  assert.deepEqual(linearPercentiles(Float32Array.from([-2, 6]), [0, 0.25, 1]), [-2, 0, 6]);
  assert.throws(() => linearPercentiles(new Float32Array(0), [0.5]), /no values/);
  assert.throws(() => linearPercentiles(v, [0.5, 0.25]), /ascending/);
});

test('order statistics and percentiles agree with a full sort on large, skewed and tied arrays', () => {
  const rng = seedrandom('percentiles');
  const cases: Array<[string, Float32Array]> = [
    ['uniform 100k', Float32Array.from({ length: 100_000 }, () => rng() * 2 - 1)],
    ['concentrated 50k', Float32Array.from({ length: 50_000 }, () => 0.3 + rng() * 1e-4)],
    ['heavy ties 20k', Float32Array.from({ length: 20_000 }, () => Math.round(rng() * 6) / 4 - 0.75)],
    ['constant 30k', new Float32Array(30_000).fill(0.125)],
    ['signed zeros and tiny', Float32Array.from([0, -0, 1e-30, -1e-30, 0, -0, 5e-39, -5e-39, 2, -2])],
    ['size 2', Float32Array.from([0.5, -0.5])],
  ];
  const ps = [0, 0.05, 0.25, 0.5, 0.75, 0.95, 1];
  for (const [name, values] of cases) {
    const sorted = Array.from(values).sort((a, b) => a - b);
    const got = linearPercentiles(values, ps);
    ps.forEach((p, t) => assert.ok(Math.abs(got[t] - refPercentileSorted(sorted, p)) <= 1e-12, `${name} p=${p}: ${got[t]}`));
    const ranks = [...new Set([0, 1, Math.floor(values.length / 3), values.length - 2, values.length - 1])].sort((a, b) => a - b);
    // + 0: −0 and 0 are the same value (the implementation returns 0).
    assert.deepEqual(
      orderStatistics(values, ranks),
      ranks.map((r) => sorted[r] + 0),
      `${name} order statistics`,
    );
  }
});

test('summary: count, mean, population std, percentiles, min/max and histogram by hand', () => {
  const s = summarizeDistribution(Float32Array.from([0.25, -1, 1, -0.5, 0]), [-1, 1], 'x');
  assert.equal(s.count, 5);
  assertClose(s.mean, -0.05, 1e-12, 'mean'); // (−1 − 0.5 + 0 + 0.25 + 1) / 5
  // deviations −0.95, −0.45, 0.05, 0.3, 1.05 → Σd² = 2.3 → var = 0.46
  assertClose(s.std, Math.sqrt(0.46), 1e-12, 'std');
  assert.equal(s.min, -1);
  assert.equal(s.max, 1);
  assertClose(s.p05, -0.9, 1e-12, 'p05'); // h = 0.2 between −1 and −0.5
  assert.equal(s.p25, -0.5); // h = 1
  assert.equal(s.p50, 0);
  assert.equal(s.p75, 0.25);
  assertClose(s.p95, 0.85, 1e-12, 'p95'); // h = 3.8 between 0.25 and 1
  // 32 bins of width 1/16 over [−1, 1]: −1 → 0, −0.5 → 8, 0 → 16, 0.25 → 20, 1 (= hi) → 31.
  const expected = new Array<number>(32).fill(0);
  for (const b of [0, 8, 16, 20, 31]) expected[b]++;
  assert.deepEqual(s.hist, { lo: -1, hi: 1, counts: expected });
});

test('histogram: left-closed bins, hi in the last bin, out-of-range values clamped', () => {
  // [0, 4]: width 1/8.
  const values = Float32Array.from([-0.1, -50, 0, 0.125, 0.125 - 2 ** -20, 3.875, 3.99, 4, 4.5, 1e9]);
  const s = summarizeDistribution(values, [0, 4], 'δ');
  const expected = new Array<number>(32).fill(0);
  expected[0] = 4; // −0.1, −50 (clamped), 0, just below 0.125
  expected[1] = 1; // 0.125 (left edge of bin 1)
  expected[31] = 5; // 3.875 (left edge of bin 31), 3.99, 4 (= hi), 4.5 and 1e9 (clamped)
  assert.deepEqual(s.hist.counts, expected);
  assert.equal(
    s.hist.counts.reduce((a, b) => a + b, 0),
    s.count,
  );
  assert.equal(histogramBin(-0.9375, -1, 1), 1);
  assert.equal(histogramBin(-0.9375 - 2 ** -20, -1, 1), 0);
  assert.equal(histogramBin(0.999, -1, 1), 31);
});

test('summary: empty input, non-finite values and bad ranges', () => {
  const e = summarizeDistribution(new Float32Array(0), [-1, 1], 'x');
  assert.equal(e.count, 0);
  assert.equal(e.mean, 0);
  assert.deepEqual(e.hist.counts, new Array(32).fill(0));
  assert.throws(() => summarizeDistribution(Float32Array.from([0, NaN]), [-1, 1], 's(q,v⁻)'), /s\(q,v⁻\) contains a non-finite value \(NaN\) at index 1/);
  assert.throws(() => summarizeDistribution(Float32Array.from([Infinity]), [-1, 1], 'τ'), /τ contains a non-finite value \(Infinity\)/);
  assert.throws(() => summarizeDistribution(Float32Array.from([0]), [1, 1], 'τ'), /range/);
});

// ---------- eigenvalues and effective rank ----------

test('symmetric eigenvalues: diagonal, 2×2 closed form, and rotated known spectra', () => {
  assert.deepEqual(Array.from(symmetricEigenvalues(Float64Array.from([2, 0, 0, 0, -1, 0, 0, 0, 5]), 3)), [5, 2, -1]);
  const two = symmetricEigenvalues(Float64Array.from([2, 1, 1, 2]), 2);
  assertClose(two[0], 3, 1e-14, 'λ1');
  assertClose(two[1], 1, 1e-14, 'λ2');
  assert.equal(symmetricEigenvalues(new Float64Array(0), 0).length, 0);
  // A = Q Λ Qᵀ with Q a product of two Householder reflections: eigenvalues are Λ exactly.
  const spectra = [
    [9, 4, 1, 0.25, 0, 0],
    [5, 5, 5, 1, 1, -2],
    [1e-3, 7, 7, 0, 0, 3],
  ];
  for (const lambda of spectra) {
    const q = matMul(householder([1, 2, -1, 0.5, 3, -2]), householder([0.3, -1, 2, 2, -0.7, 1]));
    const a = matMul(
      matMul(
        q,
        lambda.map((l, i) => lambda.map((_, j) => (i === j ? l : 0))),
      ),
      transpose(q),
    );
    const got = Array.from(symmetricEigenvalues(Float64Array.from(a.flat()), 6));
    const want = [...lambda].sort((x, y) => y - x);
    got.forEach((g, k) => assertClose(g, want[k], 1e-12, `spectrum ${lambda}: λ${k}`));
  }
});

test('symmetric eigenvalues agree with ml-matrix (EigenvalueDecomposition) on Gram matrices of item batches', () => {
  // The sizes effective rank meets: the Gram matrix of the smaller side of B × D, here 128×128 and a
  // rank-deficient 96×96 (D 40 < B 96: 56 zero eigenvalues), of rows that share a direction (a half-collapsed batch).
  const rng = seedrandom('eigen-vs-ml-matrix');
  for (const [n, d] of [
    [128, 128],
    [96, 40],
  ]) {
    const shared = Array.from({ length: d }, () => rng() * 2 - 1);
    const x = Array.from({ length: n }, () => shared.map((s) => rng() * 2 - 1 + s));
    const gram = Float64Array.from(matMul(x, transpose(x)).flat());
    const got = symmetricEigenvalues(gram, n);
    const want = Float64Array.from(new EigenvalueDecomposition(Matrix.from1DArray(n, n, gram), { assumeSymmetric: true }).realEigenvalues)
      .sort()
      .reverse();
    got.forEach((g, k) => assertClose(g, want[k], 1e-10 * want[0], `${n}×${n}: λ${k}`));
    if (d < n) assert.ok(Math.abs(got[d]) < 1e-10 * got[0], `${n}×${n}: λ${d} is zero (rank ${d})`);
  }
});

test('effective rank of a fully collapsed batch with B <= D is 1 (the eigen-solver converges on a rank-1 Gram matrix)', () => {
  // 128 identical items of dimension 256: their 128×128 Gram matrix has one non-zero eigenvalue.
  const rng = seedrandom('collapsed');
  const item = Array.from({ length: 256 }, () => rng() * 2 - 1);
  const x = Float32Array.from({ length: 128 * 256 }, (_, i) => item[i % 256]);
  assertClose(effectiveRank(x, 128, 256), 1, 1e-9, 'effective rank');
});

test('effective rank: Roy & Vetterli formula on chosen singular values, both Gram sides', () => {
  // σ = (3, 2, 1): p = (1/2, 1/3, 1/6).
  const h = -(0.5 * Math.log(0.5) + (1 / 3) * Math.log(1 / 3) + (1 / 6) * Math.log(1 / 6));
  assertClose(effectiveRankFromSingularValues([3, 2, 1, 0]), Math.exp(h), 1e-14, 'from σ');
  assert.equal(effectiveRankFromSingularValues([0, 0]), 0);
  // B = 3 <= D = 5: diag(3, 2, 1) padded with zero columns, then columns rotated (XQ).
  const x = [
    [3, 0, 0, 0, 0],
    [0, 2, 0, 0, 0],
    [0, 0, 1, 0, 0],
  ];
  assertClose(effectiveRank(flat(x), 3, 5), Math.exp(h), 1e-12, 'diagonal B<=D');
  const xq = matMul(x, householder([1, -2, 0.5, 1, 3]));
  assertClose(effectiveRank(flat(xq), 3, 5), Math.exp(h), 1e-6, 'rotated B<=D (float32 entries)');
  // B = 6 > D = 3: rows 3e1, 2e2, 1e3 and three zero rows, rows mixed by an orthogonal P (PX).
  const tall = [
    [3, 0, 0],
    [0, 2, 0],
    [0, 0, 1],
    [0, 0, 0],
    [0, 0, 0],
    [0, 0, 0],
  ];
  const px = matMul(householder([2, 1, -1, 0.5, 1, -3]), tall);
  assertClose(effectiveRank(flat(px), 6, 3), Math.exp(h), 1e-6, 'rotated B>D (float32 entries)');
});

// ---------- item geometry through computeStepDiagnostics ----------

test('identical items: item cosine 1, dimStd 0, effective rank 1, uniformity 0', () => {
  const items = Array.from({ length: 5 }, () => [0.6, 0, 0.8]);
  const d = computeStepDiagnostics(stepInputs({ items }), { effectiveRank: true });
  assertClose(d.collapse.itemCosine, 1, 1e-6, 'itemCosine');
  assert.equal(d.collapse.dimStd, 0);
  assertClose(d.collapse.effectiveRank, 1, 1e-9, 'effectiveRank');
  assertClose(d.collapse.uniformity, 0, 1e-6, 'uniformity');
});

test('orthonormal items: item cosine 0, effective rank B, uniformity −4, dimStd by hand', () => {
  const items = [
    [1, 0, 0, 0],
    [0, 1, 0, 0],
    [0, 0, 1, 0],
  ];
  const d = computeStepDiagnostics(stepInputs({ items }), { effectiveRank: true });
  assert.equal(d.collapse.itemCosine, 0);
  assertClose(d.collapse.effectiveRank, 3, 1e-12, 'effectiveRank');
  assertClose(d.collapse.uniformity, -4, 1e-12, 'uniformity'); // ‖x−y‖² = 2 → exp(−4)
  // dims 0..2: values {1,0,0} → std √2/3; dim 3: 0 → mean over 4 dims = √2/4.
  assertClose(d.collapse.dimStd, Math.SQRT2 / 4, 1e-7, 'dimStd');
  assert.equal(computeStepDiagnostics(stepInputs({ items }), { effectiveRank: false }).collapse.effectiveRank, null);
});

test('uniformity and item cosine vs direct formulas over v, from the sVV block and from itemEmb', () => {
  const rng = seedrandom('geometry');
  const items = randomUnitRows(rng, 7, 5);
  let uni = 0;
  let cos = 0;
  for (let i = 0; i < 7; i++) {
    for (let j = 0; j < 7; j++) {
      if (i === j) continue;
      const d2 = items[i].reduce((s, x, k) => s + (x - items[j][k]) ** 2, 0); // ‖x−y‖² from coordinates
      uni += Math.exp(-2 * d2) / 42;
      cos += dot(items[i], items[j]) / (Math.hypot(...items[i]) * Math.hypot(...items[j])) / 42;
    }
  }
  const x = stepInputs({ items });
  assert.equal(itemGram(x).source, 'sVV');
  const fromSVV = computeStepDiagnostics(x, { effectiveRank: false }).collapse;
  assertClose(fromSVV.uniformity, Math.log(uni), 1e-6, 'uniformity (sVV)');
  assertClose(fromSVV.itemCosine, cos, 1e-6, 'itemCosine (sVV)');
  // An sVV that is not V Vᵀ (e.g. a scaled similarity) must not be used as the item Gram.
  const scaled = { ...x, sVV: x.sVV.map((s) => s * 20) };
  assert.equal(itemGram(scaled).source, 'itemEmb');
  // Right diagonal but wrong off-diagonal entries (not V Vᵀ either) are detected too.
  const identityBlock = { ...x, sVV: x.sVV.map((s, k) => (Math.floor(k / 7) === k % 7 ? s : 0)) };
  assert.equal(itemGram(identityBlock).source, 'itemEmb');
  assertClose(computeStepDiagnostics(identityBlock, { effectiveRank: false }).collapse.itemCosine, cos, 1e-6, 'itemCosine (fallback)');
  const fromEmb = computeStepDiagnostics(scaled, { effectiveRank: false }).collapse;
  assertClose(fromEmb.uniformity, Math.log(uni), 1e-6, 'uniformity (itemEmb)');
  assertClose(fromEmb.itemCosine, cos, 1e-6, 'itemCosine (itemEmb)');
});

test('real tfjs scores: sVV-block geometry equals the itemEmb Gram geometry', async () => {
  await tf.setBackend('cpu');
  await tf.ready();
  const before = tf.memory().numTensors;
  const B = 16;
  const N = 20;
  const D = 8;
  const host = tf.tidy(() => {
    const q = tf.randomNormal([B, D], 0, 1, 'float32', 1);
    const qn = q.div(q.norm('euclidean', 1, true));
    const itemsRaw = tf.randomNormal([N, D], 0, 1, 'float32', 3);
    const items = itemsRaw.div(itemsRaw.norm('euclidean', 1, true));
    const v = items.slice([0, 0], [B, D]);
    return {
      sQV: tf.matMul(qn, items, false, true).dataSync() as Float32Array,
      sVV: tf.matMul(v, items, false, true).dataSync() as Float32Array,
      itemEmb: v.dataSync() as Float32Array,
    };
  });
  assert.equal(tf.memory().numTensors, before, 'no leaked tensors');
  const negMask = new Float32Array(B * N).fill(1);
  for (let j = 0; j < B; j++) negMask[j * N + j] = 0;
  const x: StepHostTensors = {
    B,
    N,
    D,
    ...host,
    negMask,
    hyper: new Float32Array(B * N).fill(0.05),
    hyperKind: 'tau',
    hyperRange: [0, 0.2],
  };
  assert.equal(itemGram(x).source, 'sVV');
  const viaSVV = computeStepDiagnostics(x, { effectiveRank: false }).collapse;
  const viaEmb = computeStepDiagnostics({ ...x, sVV: x.sVV.map((s) => s * 2) }, { effectiveRank: false }).collapse;
  assertClose(viaSVV.itemCosine, viaEmb.itemCosine, 1e-6, 'itemCosine');
  assertClose(viaSVV.uniformity, viaEmb.uniformity, 1e-6, 'uniformity');
});

// ---------- score indicators and in-batch recall ----------

test('ratio, gap, violation rate, sQV / negative summaries on a hand-made batch with masks', () => {
  // B = 3, N = 4 (column 3 is an explicit negative). Masked: diagonal, (0,3) accidental hit, (2,1).
  const sQV = [
    [0.75, 0.75, 0.125, 0.875],
    [0.25, 0.5, 0.625, 0.375],
    [0.125, 0.875, 0.625, 0.25],
  ];
  const sVV = [
    [1, 0.75, 0.25, 0.5],
    [0.125, 1, 0.5, 0.625],
    [0.25, 0.625, 1, 0.75],
  ];
  const negMask = [
    [0, 1, 1, 0],
    [1, 0, 1, 1],
    [1, 0, 0, 1],
  ];
  const hyper = [
    [9, 0.25, 0.5, 9],
    [0.75, 9, 1, 1.25],
    [1.5, 9, 9, 2],
  ];
  const items = randomUnitRows(seedrandom('hand'), 3, 2);
  const d = computeStepDiagnostics(stepInputs({ items, sQV, sVV, negMask, hyper, hyperKind: 'delta', hyperRange: [0, 2] }), { effectiveRank: false });
  // Valid negatives in (j, i) order: (0,1) (0,2) (1,0) (1,2) (1,3) (2,0) (2,3).
  const sQNeg = [0.75, 0.125, 0.25, 0.625, 0.375, 0.125, 0.25];
  const sVNeg = [0.75, 0.25, 0.125, 0.5, 0.625, 0.25, 0.75];
  const meanQV = (0.75 + 0.5 + 0.625) / 3;
  const meanVNeg = sVNeg.reduce((a, b) => a + b, 0) / 7;
  assert.equal(d.dist.sQV.count, 3);
  assertClose(d.dist.sQV.mean, meanQV, 1e-12, 'mean s(q,v)');
  assert.equal(d.dist.sQNeg.count, 7);
  assertClose(d.dist.sQNeg.mean, sQNeg.reduce((a, b) => a + b, 0) / 7, 1e-12, 'mean s(q,v⁻)');
  assert.equal(d.dist.sQNeg.p50, refPercentile(sQNeg, 0.5));
  assertClose(d.dist.sVNeg.mean, meanVNeg, 1e-12, 'mean s(v,v⁻)');
  assertClose(d.dist.sVNeg.p95, refPercentile(sVNeg, 0.95), 1e-12, 'p95 s(v,v⁻)');
  // δ over valid pairs only (the 9s are masked), histogram over the caller's [0, 2].
  assert.equal(d.dist.tau, null);
  assert.ok(d.dist.delta);
  assert.equal(d.dist.delta.count, 7);
  assert.equal(d.dist.delta.max, 2);
  assertClose(d.dist.delta.mean, (0.25 + 0.5 + 0.75 + 1 + 1.25 + 1.5 + 2) / 7, 1e-12, 'mean δ');
  assert.deepEqual([d.dist.delta.hist.lo, d.dist.delta.hist.hi], [0, 2]);
  assertClose(d.collapse.ratio, (1 - meanVNeg) / (1 - meanQV), 1e-12, 'R');
  assert.equal(d.collapse.ratioNote, undefined);
  assertClose(d.collapse.gap, meanQV - meanVNeg, 1e-12, 'gap');
  // s(q_j,v_j) <= s(v_j,v_i): j=0 (0.75): 0.75 yes (tie), 0.25 no; j=1 (0.5): 0.125 no, 0.5 yes (tie),
  // 0.625 yes; j=2 (0.625): 0.25 no, 0.75 yes → 4 of 7.
  assertClose(d.collapse.violationRate, 4 / 7, 1e-15, 'violation rate');
  // Ranks: j=0: 0.75 tie at (0,1) counts against, 0.875 at (0,3) is masked → rank 2;
  // j=1: 0.625 ≥ 0.5 → rank 2; j=2: 0.875 at (2,1) masked, nothing else ≥ 0.625 → rank 1.
  assert.deepEqual(d.recall, { at1: 1 / 3, at5: 1, at10: 1, excludedRows: 0 });
});

test('R = (1 − mean s(v,v⁻)) / (1 − mean s(q,v)) is defined for any sign of the means; only 1 − mean s(q,v) ≈ 0 is null, with a reason', () => {
  const items = [
    [1, 0],
    [0, 1],
    [Math.SQRT1_2, Math.SQRT1_2],
  ];
  const withScores = (qv: number, vv: number): StepHostTensors => {
    const base = stepInputs({
      items,
      sQV: [
        [qv, 0, 0],
        [0, qv, 0],
        [0, 0, qv],
      ],
    });
    return { ...base, sVV: Float32Array.from({ length: 9 }, (_, k) => (k % 4 === 0 ? 1 : vv)) };
  };
  const atZero = computeStepDiagnostics(withScores(0.5, 0), { effectiveRank: false }).collapse;
  assertClose(atZero.ratio, 2, 1e-12, 'R = 1 / 0.5 (mean s(v,v⁻) = 0, undefined under the v1 rule)');
  assertClose(atZero.gap, 0.5, 1e-12, 'gap');
  const negative = computeStepDiagnostics(withScores(0.5, -0.25), { effectiveRank: false }).collapse;
  assertClose(negative.ratio, 2.5, 1e-12, 'R = 1.25 / 0.5: better separated, larger R');
  const negativeQV = computeStepDiagnostics(withScores(-0.25, 0.25), { effectiveRank: false }).collapse;
  assertClose(negativeQV.ratio, 0.6, 1e-6, 'R = 0.75 / 1.25 stays positive (v1 gave −1)');
  const boundary = computeStepDiagnostics(withScores(0.25, 0.25), { effectiveRank: false }).collapse;
  assertClose(boundary.ratio, 1, 1e-6, 'R = 1 when s(q,v) = s(v,v⁻)');
  const degenerate = computeStepDiagnostics(withScores(1, 0.25), { effectiveRank: false }).collapse;
  assert.equal(degenerate.ratio, null);
  assert.match(degenerate.ratioNote ?? '', /1 − mean s\(q,v\) = .* every query coincides with its positive/);
});

test('similarityRatio: no valid negative gives null with its reason', () => {
  assert.deepEqual(similarityRatio(0.3, 0, 0), { ratio: null, note: 'no valid negative in the batch' });
  assert.deepEqual(similarityRatio(0.5, 0.5), { ratio: 1, note: null });
});

test('in-batch recall@1/5/10 with chosen ranks, ties and masked high-scoring columns', () => {
  // B = 12, N = 14. Pair j gets exactly wantRank[j] − 1 valid negatives scoring >= its positive
  // (alternating ties and higher scores) plus a masked column scoring 0.99 that must not count.
  const B = 12;
  const N = 14;
  const wantRank = [1, 1, 2, 3, 5, 5, 6, 10, 11, 12, 13, 1];
  const sQV: number[][] = [];
  const negMask: number[][] = [];
  for (let j = 0; j < B; j++) {
    const row = new Array<number>(N).fill(0.125);
    const mask = new Array<number>(N).fill(1);
    row[j] = 0.5;
    mask[j] = 0;
    const masked = (j + 1) % N;
    row[masked] = 0.99;
    mask[masked] = 0;
    let placed = 0;
    for (let i = 0; i < N && placed < wantRank[j] - 1; i++) {
      if (i === j || i === masked) continue;
      row[i] = placed % 2 === 0 ? 0.5 : 0.75;
      placed++;
    }
    assert.equal(placed, wantRank[j] - 1);
    sQV.push(row);
    negMask.push(mask);
  }
  const items = randomUnitRows(seedrandom('recall'), B, 4);
  const d = computeStepDiagnostics(stepInputs({ items, sQV, negMask }), { effectiveRank: false });
  const share = (k: number): number => wantRank.filter((r) => r <= k).length / B;
  assert.deepEqual(d.recall, { at1: share(1), at5: share(5), at10: share(10), excludedRows: 0 });
  assert.deepEqual(d.recall, { at1: 3 / 12, at5: 7 / 12, at10: 9 / 12, excludedRows: 0 });
});

test('rows without any valid negative are left out of in-batch recall and counted', () => {
  // B = 3: row 1 has no valid negative (both other items masked, e.g. the same item id).
  const items = randomUnitRows(seedrandom('excluded'), 3, 2);
  const sQV = [
    [0.9, 0.1, 0.2],
    [0.1, 0.1, 0.95],
    [0.3, 0.8, 0.5],
  ];
  const negMask = [
    [0, 1, 1],
    [0, 0, 0],
    [1, 1, 0],
  ];
  const d = computeStepDiagnostics(stepInputs({ items, sQV, negMask }), { effectiveRank: false });
  // Row 0: rank 1; row 2: 0.8 ≥ 0.5 → rank 2; row 1 not ranked (it would have counted as rank 1).
  assert.deepEqual(d.recall, { at1: 1 / 2, at5: 1, at10: 1, excludedRows: 1 });
});

test('all-equal scores rank every positive last (ties count against)', () => {
  const B = 4;
  const items = randomUnitRows(seedrandom('ties'), B, 3);
  const sQV = Array.from({ length: B }, () => new Array<number>(B).fill(0.3));
  const d = computeStepDiagnostics(stepInputs({ items, sQV }), { effectiveRank: false });
  assert.deepEqual(d.recall, { at1: 0, at5: 1, at10: 1, excludedRows: 0 }); // rank B = 4 for every pair
});

test('NaN / Infinity in a used value throws naming the quantity; masked entries are not read', () => {
  const items = randomUnitRows(seedrandom('nan'), 3, 2);
  const x = stepInputs({ items, hyperKind: 'tau' });
  const withEntry = (key: 'sQV' | 'sVV' | 'hyper' | 'itemEmb', k: number, value: number): StepHostTensors => {
    const copy = x[key].slice();
    copy[k] = value;
    return { ...x, [key]: copy };
  };
  const run = (y: StepHostTensors) => computeStepDiagnostics(y, { effectiveRank: true });
  assert.throws(() => run(withEntry('sQV', 1 * 3 + 2, NaN)), /s\(q,v⁻\) \(sQV over valid negatives\) is NaN at pair j=1, item i=2/);
  assert.throws(() => run(withEntry('sQV', 1 * 3 + 1, NaN)), /s\(q,v\) \(sQV diagonal\) is NaN at pair j=1/);
  assert.throws(() => run(withEntry('sVV', 2 * 3 + 0, -Infinity)), /s\(v,v⁻\) \(sVV over valid negatives\) is -Infinity at pair j=2, item i=0/);
  assert.throws(() => run(withEntry('hyper', 0 * 3 + 1, NaN)), /τ \(hyper over valid negatives\) is NaN at pair j=0, item i=1/);
  assert.throws(() => run(withEntry('itemEmb', 3, NaN)), /itemEmb\) contain NaN at row 1, dim 1/);
  // The hyper diagonal is masked (negMask = 0): a NaN there is ignored.
  assert.doesNotThrow(() => run(withEntry('hyper', 1 * 3 + 1, NaN)));
});

test('malformed inputs throw clear errors', () => {
  const items = randomUnitRows(seedrandom('shape'), 3, 2);
  const x = stepInputs({ items });
  const run = (y: StepHostTensors) => computeStepDiagnostics(y, { effectiveRank: false });
  assert.throws(() => run({ ...x, sVV: x.sVV.subarray(1) }), /sVV: expected B×N \(3×3\) = 9 values, got 8/);
  assert.throws(() => run({ ...x, N: 2 }), /N must be an integer >= B/);
  assert.throws(() => run({ ...x, hyperRange: [1, 0] }), /hyperRange/);
  const mask = x.negMask.slice();
  mask[4] = 1; // (1,1)
  assert.throws(() => run({ ...x, negMask: mask }), /negMask\[1,1\] is set/);
});

// ---------- collapse monitor ----------

/** StepDiagnostics with the given indicators (the monitor only reads `collapse`). */
function diag(c: Partial<CollapseIndicators>): StepDiagnostics {
  const collapse: CollapseIndicators = {
    ratio: 3,
    gap: 0.4,
    violationRate: 0.01,
    itemCosine: 0.2,
    uniformity: -3,
    dimStd: 0.08,
    effectiveRank: null,
    ...c,
  };
  const empty = summarizeDistribution(new Float32Array(0), [-1, 1], 'x');
  return { dist: { delta: null, tau: empty, sQV: empty, sQNeg: empty, sVNeg: empty }, collapse, recall: { at1: 0, at5: 0, at10: 0 } };
}

/** Feed (step, indicators) pairs; returns "step:state" for every step. */
function feed(m: CollapseMonitor, seq: [number, Partial<CollapseIndicators>][]): string[] {
  return seq.map(([step, c]) => `${step}:${m.update(diag(c), step).state}`);
}

test('monitor: a fresh model is initialising; separation (R >= 1.5) makes it healthy', () => {
  const m = new CollapseMonitor({}, { totalSteps: 1000 });
  assert.deepEqual(m.update(diag({ ratio: 0.6, itemCosine: 0.4, violationRate: 0.9 }), 1), {
    state: 'initialising',
    reason: 'not separated yet: R 0.60 (best 0.60) < 1.50',
  });
  assert.equal(m.update(diag({ ratio: 1.4, itemCosine: 0.3 }), 10).state, 'initialising');
  const v = m.update(diag({ ratio: 1.6, itemCosine: 0.2 }), 20);
  assert.equal(v.state, 'healthy');
  assert.match(v.reason, /separated at step 20, R 1\.60/);
  assert.equal(m.separatedStep, 20);
});

test('monitor: the early transient (items bunched, R < 1 but climbing many-fold) stays initialising', () => {
  // The e2e config, seed 42 (measured): cosine 0.99 and R 0.01 at step 5, R ×50 by step 25.
  const m = new CollapseMonitor({}, { totalSteps: 300 });
  const states = feed(m, [
    [1, { ratio: 0.57, itemCosine: 0.4, violationRate: 0.89 }],
    [5, { ratio: 0.0109, itemCosine: 0.991, violationRate: 1 }],
    [10, { ratio: 0.0221, itemCosine: 0.99, violationRate: 1 }],
    [15, { ratio: 0.076, itemCosine: 0.987, violationRate: 1 }],
    [20, { ratio: 0.213, itemCosine: 0.987, violationRate: 0.99 }],
    [25, { ratio: 0.966, itemCosine: 0.973, violationRate: 0.66 }],
    [30, { ratio: 1.52, itemCosine: 0.974, violationRate: 0.42 }],
  ]);
  assert.deepEqual(states, ['1:initialising', '5:initialising', '10:initialising', '15:initialising', '20:initialising', '25:initialising', '30:healthy']);
});

test('monitor: the signature without progress over the window is collapsing, then collapsed; progress leaves it', () => {
  const m = new CollapseMonitor({}, { totalSteps: 200 });
  const sig = (ratio: number) => ({ ratio, itemCosine: 0.994, violationRate: 1 });
  assert.deepEqual(
    feed(m, [
      [1, { ratio: 0.67, itemCosine: 0.35, violationRate: 0.89 }],
      [10, sig(0.0084)],
      [20, sig(0.0051)],
    ]),
    ['1:initialising', '10:initialising', '20:initialising'],
  );
  const collapsing = m.update(diag(sig(0.0061)), 30);
  assert.deepEqual(collapsing, {
    state: 'collapsing',
    reason:
      'item cosine 0.99 > 0.90 and R 0.0061 < 1 since step 10, no progress: R 0.0051 → 0.0061 (×1.20, progress needs ×2.00) and violation rate 1.00 → 1.00 since step 10',
  });
  const collapsed = m.update(diag(sig(0.0059)), 40);
  assert.equal(collapsed.state, 'collapsed');
  assert.match(collapsed.reason, /; collapsing for 2 logged steps$/);
  assert.equal(m.update(diag(sig(0.0062)), 50).state, 'collapsed');
  // R grows ×2 within the window: progress, back to initialising.
  assert.equal(m.update(diag(sig(0.013)), 60).state, 'initialising');
});

test('monitor: after separation, trends away from the best values warn; two at once or the signature are collapsing', () => {
  const m = new CollapseMonitor({}, { totalSteps: 1000 });
  const ok = { ratio: 5, itemCosine: 0.1, violationRate: 0.02 };
  feed(m, [
    [10, ok],
    [20, ok],
    [30, ok],
    [40, ok],
  ]);
  // Item cosine up by > 0.25 from its best 0.10: pending, then a warning.
  assert.match(m.update(diag({ ...ok, itemCosine: 0.4 }), 50).reason, /^pending: item cosine 0\.40 up from its best 0\.10 by > 0\.25 for 1 of 2 logged steps$/);
  assert.deepEqual(m.update(diag({ ...ok, itemCosine: 0.45 }), 60), {
    state: 'warning',
    reason: 'item cosine 0.45 up from its best 0.10 by > 0.25 for 2 logged steps',
  });
  // R falls to within 30% of its lead over 1 (≤ 2.2) and the violation rate rises: two trends → collapsing.
  m.update(diag({ ratio: 2, itemCosine: 0.5, violationRate: 0.3 }), 70);
  const v = m.update(diag({ ratio: 1.8, itemCosine: 0.5, violationRate: 0.3 }), 80);
  assert.equal(v.state, 'collapsing');
  assert.match(
    v.reason,
    /^separation being lost after step 10: item cosine 0\.50 up from its best 0\.10 .*R 1\.80 fell toward 1 from its best 5\.00 \(≤ 2\.20\).*violation rate 0\.30 up from its best 0\.02/,
  );
  // The signature (R < 1, cosine > 0.9) for 2 logged steps: collapsing, then collapsed.
  m.update(diag({ ratio: 0.5, itemCosine: 0.95, violationRate: 0.9 }), 90);
  assert.equal(m.update(diag({ ratio: 0.4, itemCosine: 0.96, violationRate: 0.95 }), 100).state, 'collapsed');
  // Recovery: every indicator back at its best → healthy.
  feed(m, [
    [110, ok],
    [120, ok],
  ]);
  assert.equal(m.update(diag(ok), 130).state, 'healthy');
});

test('monitor: a null item cosine or violation rate (not finite, as read back from JSON) holds no rule and reads n/a', () => {
  const m = new CollapseMonitor({}, { totalSteps: 1000 });
  const ok = { ratio: 5, itemCosine: 0.1, violationRate: 0.02 };
  feed(m, [
    [10, ok],
    [20, ok],
    [30, ok],
  ]);
  assert.equal(m.bestViolationRate, 0.02);
  // Missing values are neither a rise nor a signature; the bests keep their last known values.
  assert.deepEqual(
    feed(m, [
      [40, { ...ok, itemCosine: null, violationRate: null }],
      [50, { ...ok, itemCosine: null, violationRate: null }],
      [60, { ...ok, itemCosine: null }],
    ]),
    ['40:healthy', '50:healthy', '60:healthy'],
  );
  assert.equal(m.bestViolationRate, 0.02);
  // Other rules still judge: the violation rate rises while item cosine stays missing.
  m.update(diag({ ...ok, itemCosine: null, violationRate: 0.4 }), 70);
  assert.deepEqual(m.update(diag({ ...ok, itemCosine: null, violationRate: 0.45 }), 80), {
    state: 'warning',
    reason: 'violation rate 0.45 up from its best 0.02 by > 0.15 for 2 logged steps',
  });
  // Before separation: a missing item cosine is no collapse signature; a missing violation rate reads n/a.
  const fresh = new CollapseMonitor({ windowSteps: 5 }, { totalSteps: 1000 });
  assert.deepEqual(
    feed(fresh, [
      [1, { ratio: 0.01, itemCosine: null, violationRate: null }],
      [10, { ratio: 0.01, itemCosine: null, violationRate: null }],
    ]),
    ['1:initialising', '10:initialising'],
  );
  const sig = new CollapseMonitor({ windowSteps: 5 }, { totalSteps: 1000 });
  feed(sig, [[1, { ratio: 0.01, itemCosine: 0.99, violationRate: null }]]);
  const v = sig.update(diag({ ratio: 0.011, itemCosine: 0.99, violationRate: null }), 10);
  assert.equal(v.state, 'collapsing');
  assert.match(v.reason, /and violation rate n\/a → n\/a since step 10$/);
});

test('monitor: track() (the dashboard’s threshold lines) follows separation and the best violation rate exactly as update()', () => {
  const judged = new CollapseMonitor();
  const tracked = new CollapseMonitor();
  const seq: [number, Partial<CollapseIndicators>][] = [
    [1, { ratio: 0.6, itemCosine: 0.4, violationRate: 0.9 }],
    [10, { ratio: 1.2, itemCosine: 0.3, violationRate: 0.5 }],
    [20, { ratio: 1.7, itemCosine: 0.2, violationRate: 0.2 }],
    [30, { ratio: 3, itemCosine: 0.1, violationRate: 0.08 }],
    [40, { ratio: 4, itemCosine: 0.1, violationRate: 0.03 }],
    [50, { ratio: 4, itemCosine: 0.1, violationRate: null }],
    [60, { ratio: 5, itemCosine: 0.1, violationRate: 0.05 }],
    [70, { ratio: 5, itemCosine: 0.1, violationRate: 0.04 }],
  ];
  const seen: [number | null, number | null][] = [];
  for (const [step, c] of seq) {
    judged.update(diag(c), step);
    tracked.track(diag(c), step);
    assert.deepEqual([tracked.separatedStep, tracked.bestViolationRate], [judged.separatedStep, judged.bestViolationRate], `step ${step}`);
    seen.push([tracked.separatedStep, tracked.bestViolationRate]);
  }
  // Separated at step 20 (R 1.7 ≥ 1.5); best = lowest median (of 2: the upper) of the last 3 known values since then.
  assert.deepEqual(seen.at(-1), [20, 0.05]);
  assert.deepEqual(seen[2], [20, 0.2]);
});

test('monitor: never separated after max(100, a quarter of the run) or the configured step', () => {
  const slow = { ratio: 1.1, itemCosine: 0.3, violationRate: 0.4 };
  const m = new CollapseMonitor({}, { totalSteps: 1000 });
  assert.equal(m.neverSeparatedAt, 250);
  assert.equal(m.update(diag(slow), 240).state, 'initialising');
  assert.deepEqual(m.update(diag(slow), 250), { state: 'never-separated', reason: 'not separated yet: R 1.10 (best 1.10) < 1.50 after 250 steps (limit 250)' });
  assert.equal(m.update(diag({ ...slow, ratio: 1.7 }), 260).state, 'healthy', 'a late separation is healthy');
  assert.equal(new CollapseMonitor({}, { totalSteps: 200 }).neverSeparatedAt, 100);
  assert.equal(new CollapseMonitor({ neverSeparatedSteps: 30 }, { totalSteps: 200 }).neverSeparatedAt, 30);
});

test('monitor: R null (1 − mean s(q,v) ≈ 0) is never the signature; step order and validation', () => {
  const m = new CollapseMonitor({ windowSteps: 5 });
  assert.deepEqual(
    feed(m, [
      [1, { ratio: null, itemCosine: 0.99, violationRate: 1 }],
      [10, { ratio: null, itemCosine: 0.99, violationRate: 1 }],
    ]),
    ['1:initialising', '10:initialising'],
  );
  assert.throws(() => m.update(diag({}), 10), /step 10 must be after the previous logged step 10/);
  assert.throws(() => new CollapseMonitor({ warningSteps: 0 }), /warningSteps must be an integer >= 1/);
  assert.throws(() => new CollapseMonitor({ cosineRise: NaN }), /cosineRise must be a finite number/);
  assert.throws(() => new CollapseMonitor({ progressFactor: 1 }), /progressFactor must be > 1/);
  assert.equal(DEFAULT_COLLAPSE_THRESHOLDS.separatedRatio, 1.5);
});

test('monitor: a low effective rank warns after separation, carried over the logged steps that do not compute it', () => {
  const m = new CollapseMonitor();
  m.update(diag({ ratio: 4 }), 5);
  assert.equal(m.update(diag({ effectiveRank: 1.5 }), 10).state, 'healthy');
  const v = m.update(diag({ effectiveRank: null }), 20);
  assert.equal(v.state, 'warning');
  assert.equal(v.reason, 'effective rank 1.50 < 2.00 for 2 logged steps');
  assert.equal(m.update(diag({ effectiveRank: 12 }), 30).state, 'healthy');
});

test('item cosine and uniformity count an item that appears twice in the batch once', () => {
  const rng = seedrandom('dup');
  const distinct = randomUnitRows(rng, 4, 8);
  const items = [...distinct, distinct[1], distinct[1]]; // rows 4 and 5 are item 1 again (same id)
  const B = items.length;
  const sameId = (a: number, b: number) => (a === 1 || a >= 4) && (b === 1 || b >= 4);
  const negMask = Array.from({ length: B }, (_, j) => Array.from({ length: B }, (_, i) => (i === j || sameId(i, j) ? 0 : 1)));
  const d = computeStepDiagnostics(stepInputs({ items, negMask }), { effectiveRank: false }).collapse;
  const ref = computeStepDiagnostics(stepInputs({ items: distinct }), { effectiveRank: false }).collapse;
  assertClose(d.itemCosine, ref.itemCosine, 1e-9, 'item cosine over the 4 distinct items');
  assertClose(d.uniformity, ref.uniformity, 1e-9, 'uniformity over the 4 distinct items');
  const counted = computeStepDiagnostics(stepInputs({ items }), { effectiveRank: false }).collapse; // no ids: 6 items
  assert.ok(counted.itemCosine > d.itemCosine + 0.05, `duplicates counted twice inflate the cosine (${counted.itemCosine} vs ${d.itemCosine})`);
});
