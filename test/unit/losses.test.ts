import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import seedrandom from 'seedrandom';
import { ADAPTIVE_FORMS, getAdaptiveForm } from '../../src/core/losses/adaptiveHyper';
import type { LossConfig } from '../../src/core/losses/types';
import { DEFAULT_LOSS_CONFIG } from '../reference/defaultLossConfig';
import {
  logOnePlusSumExp,
  marginLoss,
  pairwiseScores,
  referenceLoss,
  softmaxLoss,
  stopGradient,
  TFJS_ADAPTIVE_FORMS,
  type LossInputs,
} from '../reference/tfjsLoss';

type Mat = number[][];

before(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

// ---------------------------------------------------------------------------------------------
// Plain-JS float64 reference, written directly from the formulas (loops, no tensors).
// ---------------------------------------------------------------------------------------------

function dot(a: number[], b: number[]): number {
  let s = 0;
  for (let k = 0; k < a.length; k++) s += a[k] * b[k];
  return s;
}

/** δ / τ for one pair from the (reference) similarity s, per the config. */
function refHyper(s: number, cfg: LossConfig): number {
  if (cfg.type === 'margin') return cfg.adaptive ? cfg.delta0 + cfg.alpha * (1 - s) : cfg.margin;
  return cfg.adaptive ? cfg.tau0 * (1 + cfg.alpha * (1 - s)) : cfg.temperature;
}

/** log(1 + Σ exp(z)), computed stably (max subtracted) in float64. */
function log1PlusSumExp(zs: number[]): number {
  const m = Math.max(0, ...zs);
  let acc = Math.exp(-m);
  for (const z of zs) acc += Math.exp(z - m);
  return m + Math.log(acc);
}

interface RefSide {
  perRow: (number | null)[];
  mean: number;
  hyper: Mat;
}

/** One anchor side: anchor[j] vs positive[j] and items[i], δ/τ from s(ref[j], items[i]). */
function refSide(anchor: Mat, positive: Mat, ref: Mat, items: Mat, mask: Mat, cfg: LossConfig): RefSide {
  const perRow: (number | null)[] = [];
  const hyper: Mat = [];
  for (let j = 0; j < anchor.length; j++) {
    const pos = dot(anchor[j], positive[j]);
    const hRow: number[] = [];
    const terms: number[] = [];
    for (let i = 0; i < items.length; i++) {
      const h = refHyper(dot(ref[j], items[i]), cfg);
      hRow.push(h);
      if (mask[j][i] !== 1) continue;
      const neg = dot(anchor[j], items[i]);
      terms.push(cfg.type === 'margin' ? Math.max(0, h - pos + neg) : (neg - pos) / h);
    }
    hyper.push(hRow);
    if (terms.length === 0) perRow.push(null);
    else if (cfg.type === 'margin') perRow.push(terms.reduce((a, b) => a + b, 0) / terms.length);
    else perRow.push(log1PlusSumExp(terms));
  }
  const used = perRow.filter((x): x is number => x !== null);
  const mean = used.length === 0 ? 0 : used.reduce((a, b) => a + b, 0) / used.length;
  return { perRow, mean, hyper };
}

interface RefLoss {
  loss: number;
  lossQ: number;
  lossSym: number;
  hyper: Mat;
  query: RefSide;
  sym: RefSide;
}

function refLoss(q: Mat, v: Mat, items: Mat, mask: Mat, cfg: LossConfig): RefLoss {
  const query = refSide(q, v, v, items, mask, cfg);
  const sym = refSide(v, q, q, items, mask, cfg);
  const withSym = cfg.symmetric && cfg.symmetricWeight !== 0;
  const lossSym = withSym ? sym.mean : 0;
  return { loss: query.mean + cfg.symmetricWeight * lossSym, lossQ: query.mean, lossSym, hyper: query.hyper, query, sym };
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

const unit = (angle: number): number[] => [Math.cos(angle), Math.sin(angle)];

function assertClose(actual: number, expected: number, tol: number, msg: string): void {
  assert.ok(Number.isFinite(actual), `${msg}: not finite (${actual})`);
  const err = Math.abs(actual - expected);
  assert.ok(err <= tol * Math.max(1, Math.abs(expected)), `${msg}: got ${actual}, expected ${expected} (err ${err})`);
}

function assertMatClose(actual: Mat, expected: Mat, mask: Mat | null, tol: number, msg: string): void {
  for (let j = 0; j < expected.length; j++) {
    for (let i = 0; i < expected[j].length; i++) {
      if (mask && mask[j][i] !== 1) continue;
      assertClose(actual[j][i], expected[j][i], tol, `${msg}[${j}][${i}]`);
    }
  }
}

function cfgOf(over: Partial<LossConfig>): LossConfig {
  return { ...DEFAULT_LOSS_CONFIG, ...over };
}

interface Batch {
  q: Mat;
  v: Mat;
  items: Mat;
  mask: Mat;
}

function toInputs(b: Batch): LossInputs {
  return {
    q: tf.tensor2d(b.q),
    v: tf.tensor2d(b.v),
    items: tf.tensor2d(b.items),
    negMask: tf.tensor2d(b.mask),
  };
}

function disposeInputs(x: LossInputs): void {
  tf.dispose([x.q, x.v, x.items, x.negMask]);
}

interface TfResult {
  loss: number;
  lossQ: number;
  lossSym: number;
  sQV: Mat;
  sVV: Mat;
  hyper: Mat;
}

function runLoss(b: Batch, cfg: LossConfig): TfResult {
  const inputs = toInputs(b);
  const out = tf.tidy(() => {
    const r = referenceLoss(inputs, cfg);
    return {
      loss: r.loss.arraySync(),
      lossQ: r.lossQ.arraySync(),
      lossSym: r.lossSym.arraySync(),
      sQV: r.sQV.arraySync(),
      sVV: r.sVV.arraySync(),
      hyper: r.hyper.arraySync(),
    };
  });
  disposeInputs(inputs);
  return out;
}

/**
 * Tiny batch: B = 3 pairs, D = 2, unit vectors, one explicit negative n0 (row 3) for pair 0.
 * Item ids: v0 = A, v1 = B, v2 = B (an accidental hit: pair 2's positive is the same item as
 * pair 1's, so it has the same embedding), n0 = C.
 *   row 0: v1, v2, n0 valid;
 *   row 1: only v0 (v2 masked out: same item as its positive; n0 belongs to pair 0);
 *   row 2: only v0 (v1 masked out: same item).
 */
const TINY: Batch = {
  q: [unit(0.1), unit(0.95), unit(0.8)],
  v: [unit(0.3), unit(1.0), unit(1.0)],
  items: [unit(0.3), unit(1.0), unit(1.0), unit(0.55)],
  mask: [
    [0, 1, 1, 1],
    [1, 0, 0, 0],
    [1, 0, 0, 0],
  ],
};

/** Same batch, but row 2 has no valid negative at all (must be excluded from the mean). */
const TINY_EMPTY_ROW: Batch = {
  ...TINY,
  mask: [
    [0, 1, 1, 1],
    [1, 0, 0, 0],
    [0, 0, 0, 0],
  ],
};

const VARIANTS: { name: string; cfg: Partial<LossConfig> }[] = [
  { name: 'fixed margin', cfg: { type: 'margin', adaptive: false, margin: 0.3 } },
  { name: 'fixed softmax', cfg: { type: 'softmax', adaptive: false, temperature: 0.2 } },
  { name: 'fixed softmax τ=1/30', cfg: { type: 'softmax', adaptive: false, temperature: 1 / 30 } },
  { name: 'adaptive margin', cfg: { type: 'margin', adaptive: true, delta0: 0.1, alpha: 1 } },
  { name: 'adaptive margin (defaults)', cfg: { type: 'margin', adaptive: true, delta0: 0.01, alpha: 0.5 } },
  { name: 'adaptive softmax', cfg: { type: 'softmax', adaptive: true, tau0: 0.1, alpha: 0.5 } },
  { name: 'adaptive softmax τ0=1/30', cfg: { type: 'softmax', adaptive: true, tau0: 1 / 30, alpha: 0.5 } },
];

const SYMMETRY: { name: string; cfg: Partial<LossConfig> }[] = [
  { name: 'no symmetric term', cfg: { symmetric: false, symmetricWeight: 0.05 } },
  { name: 'w = 0', cfg: { symmetric: true, symmetricWeight: 0 } },
  { name: 'symmetric w = 0.05', cfg: { symmetric: true, symmetricWeight: 0.05 } },
  { name: 'symmetric w = 0.7', cfg: { symmetric: true, symmetricWeight: 0.7 } },
];

// ---------------------------------------------------------------------------------------------
// Values
// ---------------------------------------------------------------------------------------------

test('reference sanity: fixed margin on the tiny batch, worked out by hand', () => {
  // Row 0: s(q0,v0) = cos 0.2; negatives v1, v2 (cos 0.9 each: 0.3 − 0.980 + 0.622 < 0, inactive)
  //        and n0 (cos 0.45: 0.3 − 0.980 + 0.900 = 0.220, active) → (0 + 0 + 0.220) / 3.
  // Row 1: s(q1,v1) = cos 0.05, s(q1,v0) = cos 0.65 → 0.3 − 0.999 + 0.796 = 0.097.
  // Row 2: s(q2,v2) = cos 0.2,  s(q2,v0) = cos 0.5  → 0.3 − 0.980 + 0.878 = 0.197.
  const h = (x: number) => Math.max(0, x);
  const row0 = (2 * h(0.3 - Math.cos(0.2) + Math.cos(0.9)) + h(0.3 - Math.cos(0.2) + Math.cos(0.45))) / 3;
  const row1 = h(0.3 - Math.cos(0.05) + Math.cos(0.65));
  const row2 = h(0.3 - Math.cos(0.2) + Math.cos(0.5));
  const cfg = cfgOf({ type: 'margin', adaptive: false, margin: 0.3, symmetric: false });
  assert.equal(h(0.3 - Math.cos(0.2) + Math.cos(0.9)), 0, 'an inactive hinge');
  assert.ok(row0 > 0 && row1 > 0 && row2 > 0, 'every row has an active hinge');
  assertClose(row0, 0.22 / 3, 1e-2, 'row 0 by hand');
  assertClose(row1, 0.097, 1e-2, 'row 1 by hand');
  assertClose(row2, 0.197, 1e-2, 'row 2 by hand');
  assertClose(refLoss(TINY.q, TINY.v, TINY.items, TINY.mask, cfg).lossQ, (row0 + row1 + row2) / 3, 1e-12, 'ref');
  assertClose(runLoss(TINY, cfg).lossQ, (row0 + row1 + row2) / 3, 1e-5, 'referenceLoss');
});

for (const variant of VARIANTS) {
  for (const sym of SYMMETRY) {
    for (const [batchName, batch] of [
      ['tiny batch', TINY],
      ['tiny batch with an empty row', TINY_EMPTY_ROW],
    ] as const) {
      test(`${variant.name}, ${sym.name}, ${batchName}: matches the plain-JS reference`, () => {
        const cfg = cfgOf({ ...variant.cfg, ...sym.cfg });
        const ref = refLoss(batch.q, batch.v, batch.items, batch.mask, cfg);
        const got = runLoss(batch, cfg);
        if (variant.name !== 'adaptive margin (defaults)') assert.ok(ref.lossQ > 1e-3, 'non-trivial loss');
        assertClose(got.lossQ, ref.lossQ, 1e-5, 'lossQ');
        assertClose(got.lossSym, ref.lossSym, 1e-5, 'lossSym');
        assertClose(got.loss, ref.loss, 1e-5, 'loss');
        const withSym = cfg.symmetric && cfg.symmetricWeight !== 0;
        if (!withSym) {
          assert.equal(got.lossSym, 0);
          assert.equal(got.loss, got.lossQ);
        } else {
          assert.ok(ref.sym.mean > 1e-4, 'symmetric term is non-trivial in this setting');
        }
        assertMatClose(got.hyper, ref.hyper, batch.mask, 1e-5, 'hyper');
        const sQV = batch.q.map((qj) => batch.items.map((it) => dot(qj, it)));
        const sVV = batch.v.map((vj) => batch.items.map((it) => dot(vj, it)));
        assertMatClose(got.sQV, sQV, null, 1e-6, 'sQV');
        assertMatClose(got.sVV, sVV, null, 1e-6, 'sVV');
      });
    }
  }
}

test('accidental hit: the masked-out column is ignored (unmasking it changes the loss)', () => {
  for (const variant of VARIANTS) {
    const cfg = cfgOf({ ...variant.cfg, symmetric: true, symmetricWeight: 0.5 });
    const got = runLoss(TINY, cfg);
    const unmasked = { ...TINY, mask: TINY.mask.map((r, j) => (j === 1 ? [1, 0, 1, 0] : r)) };
    const refUnmasked = refLoss(unmasked.q, unmasked.v, unmasked.items, unmasked.mask, cfg);
    const refMasked = refLoss(TINY.q, TINY.v, TINY.items, TINY.mask, cfg);
    assert.ok(Math.abs(refUnmasked.loss - refMasked.loss) > 1e-3, `${variant.name}: the hit would matter`);
    assertClose(got.loss, refMasked.loss, 1e-5, `${variant.name} loss`);
    const gotUnmasked = runLoss(unmasked, cfg);
    assertClose(gotUnmasked.loss, refUnmasked.loss, 1e-5, `${variant.name} unmasked loss`);
  }
});

test('a row without valid negatives is excluded from the mean; no negatives at all gives 0', () => {
  for (const variant of VARIANTS) {
    const cfg = cfgOf({ ...variant.cfg, symmetric: true, symmetricWeight: 0.3 });
    const ref = refLoss(TINY_EMPTY_ROW.q, TINY_EMPTY_ROW.v, TINY_EMPTY_ROW.items, TINY_EMPTY_ROW.mask, cfg);
    const [r0, r1, r2] = ref.query.perRow;
    assert.equal(r2, null);
    if ((r0 as number) + (r1 as number) < 1e-3) continue; // all hinges inactive: nothing to tell apart
    const got = runLoss(TINY_EMPTY_ROW, cfg);
    // Mean over the two rows that have negatives, not over all three.
    assertClose(got.lossQ, ((r0 as number) + (r1 as number)) / 2, 1e-5, `${variant.name} lossQ`);
    assert.ok(Math.abs(got.lossQ - ((r0 as number) + (r1 as number)) / 3) > 1e-4, `${variant.name}: differs from /B`);

    const none = runLoss({ ...TINY, mask: TINY.mask.map((r) => r.map(() => 0)) }, cfg);
    assert.equal(none.loss, 0);
    assert.equal(none.lossQ, 0);
    assert.equal(none.lossSym, 0);
  }
});

test('fixed losses report a constant hyper matrix', () => {
  const m = runLoss(TINY, cfgOf({ type: 'margin', adaptive: false, margin: 0.25 }));
  const s = runLoss(TINY, cfgOf({ type: 'softmax', adaptive: false, temperature: 0.07 }));
  for (const row of m.hyper) for (const x of row) assertClose(x, 0.25, 1e-7, 'δ');
  for (const row of s.hyper) for (const x of row) assertClose(x, 0.07, 1e-7, 'τ');
  assert.deepEqual([m.hyper.length, m.hyper[0].length], [3, 4]);
});

test('softmax is stable for τ = 1/30 with scores that overflow a naive exp', () => {
  // Unnormalised vectors so that (s_neg − s_pos)/τ = (5 − 1)·30 = 120: exp(120) overflows float32.
  const batch: Batch = {
    q: [
      [3, 0],
      [0, 3],
    ],
    v: [
      [1 / 3, 0],
      [0, 1 / 3],
    ],
    items: [
      [1 / 3, 0],
      [0, 1 / 3],
      [5 / 3, 0], // explicit negative of pair 0: s(q0, n0) = 5
      [0, -2], // explicit negative of pair 1: s(q1, n1) = −6
    ],
    mask: [
      [0, 1, 1, 0],
      [1, 0, 0, 1],
    ],
  };
  const naive = tf.tidy(() => tf.exp(tf.scalar(120)).arraySync());
  assert.equal(naive, Infinity, 'the naive exp really overflows');
  const cfg = cfgOf({ type: 'softmax', adaptive: false, temperature: 1 / 30, symmetric: false });
  // Row 0: log(1 + e^{-30} + e^{120}) = 120 + log(1 + e^{-150} + e^{-120}) ≈ 120.
  // Row 1: log(1 + e^{-30} + e^{-210}) ≈ e^{-30}.
  const expected = (120 + Math.log1p(Math.exp(-150) + Math.exp(-120)) + Math.log1p(Math.exp(-30) + Math.exp(-210))) / 2;
  const got = runLoss(batch, cfg);
  assertClose(got.lossQ, expected, 1e-6, 'lossQ');
  assertClose(refLoss(batch.q, batch.v, batch.items, batch.mask, cfg).lossQ, expected, 1e-12, 'ref');

  // Adaptive τ with the same scores, and the symmetric term: still finite and correct.
  const cfgA = cfgOf({ type: 'softmax', adaptive: true, tau0: 1 / 30, alpha: 0.5, symmetric: true, symmetricWeight: 0.05 });
  const gotA = runLoss(batch, cfgA);
  const refA = refLoss(batch.q, batch.v, batch.items, batch.mask, cfgA);
  assertClose(gotA.loss, refA.loss, 1e-5, 'adaptive loss');

  // Gradients are finite too.
  const inputs = toInputs(batch);
  const grads = tf.tidy(() => {
    const g = tf.grads(
      (q: tf.Tensor, v: tf.Tensor, items: tf.Tensor) =>
        referenceLoss({ q: q as tf.Tensor2D, v: v as tf.Tensor2D, items: items as tf.Tensor2D, negMask: inputs.negMask }, cfgA).loss,
    );
    return g([inputs.q, inputs.v, inputs.items]).map((t) => Array.from(t.dataSync()));
  });
  disposeInputs(inputs);
  for (const g of grads) for (const x of g) assert.ok(Number.isFinite(x), 'finite gradient');
});

// ---------------------------------------------------------------------------------------------
// Stop-gradient and the adaptive-form registry
// ---------------------------------------------------------------------------------------------

test('stopGradient: identity forward, zero gradient backward', () => {
  const x = tf.tensor1d([0.5, -1, 2]);
  const [value, gSum, gProd] = tf.tidy(() => {
    const value = stopGradient(x).arraySync();
    const gSum = tf
      .grad((t: tf.Tensor) => tf.sum(stopGradient(t)))(x)
      .arraySync();
    // d/dx Σ x·sg[x] = sg[x] = x (not 2x).
    const gProd = tf
      .grad((t: tf.Tensor) => tf.sum(tf.mul(t, stopGradient(t))))(x)
      .arraySync();
    return [value, gSum, gProd] as number[][];
  });
  x.dispose();
  assert.deepEqual(value, [0.5, -1, 2]);
  assert.deepEqual(gSum, [0, 0, 0]);
  assert.deepEqual(gProd, [0.5, -1, 2]);
});

test('adaptive form registry: linear values and slopes (host and tfjs reference), unknown forms rejected', () => {
  const lin = getAdaptiveForm('linear');
  assert.equal(lin, ADAPTIVE_FORMS.linear);
  // The host forms read a row at an offset: s = [1, 0.5, −0.2] at offset 1.
  const sim = new Float32Array([9, 1, 0.5, -0.2]);
  const [d, t, dd, dt] = [0, 1, 2, 3].map(() => new Float64Array(3));
  lin.margin.values(sim, 1, 3, 0.01, 0.5, d);
  lin.temperature.values(sim, 1, 3, 0.1, 0.5, t);
  lin.margin.grads(sim, 1, 3, 0.01, 0.5, dd);
  lin.temperature.grads(sim, 1, 3, 0.1, 0.5, dt);
  const [dRef, tRef] = tf.tidy(() => {
    const s = tf.tensor1d([1, 0.5, -0.2]);
    const f = TFJS_ADAPTIVE_FORMS.linear;
    return [f.margin(s, 0.01, 0.5).arraySync(), f.temperature(s, 0.1, 0.5).arraySync()] as number[][];
  });
  // δ = 0.01 + 0.5(1 − s); τ = 0.1(1 + 0.5(1 − s)); dδ/ds = −0.5, dτ/ds = −0.05.
  [0.01, 0.26, 0.61].forEach((e, k) => (assertClose(d[k], e, 1e-6, 'δ'), assertClose(dRef[k], e, 1e-6, 'δ (tfjs)')));
  [0.1, 0.125, 0.16].forEach((e, k) => (assertClose(t[k], e, 1e-6, 'τ'), assertClose(tRef[k], e, 1e-6, 'τ (tfjs)')));
  assert.deepEqual([...dd], [-0.5, -0.5, -0.5]);
  dt.forEach((g) => assertClose(g, -0.05, 1e-12, 'dτ/ds'));
  assert.throws(() => getAdaptiveForm('quadratic'), /Unknown adaptive form "quadratic"/);
  assert.throws(() => getAdaptiveForm('toString'), /Unknown adaptive form/);
  const inputs = toInputs(TINY);
  const bad = { ...DEFAULT_LOSS_CONFIG, adaptiveForm: 'nope' } as unknown as LossConfig;
  assert.throws(() => tf.tidy(() => referenceLoss(inputs, bad).loss), /Unknown adaptive form/);
  assert.throws(() => tf.tidy(() => referenceLoss({ ...inputs, negMask: tf.zeros([3, 3]) }, DEFAULT_LOSS_CONFIG).loss), /inconsistent shapes/);
  disposeInputs(inputs);
});

test('pairwiseScores: a·bᵀ with the same value and gradients as tf.matMul(a, transpose(b))', () => {
  const rng = seedrandom('pairwise');
  const rand = (r: number, c: number): Mat => Array.from({ length: r }, () => Array.from({ length: c }, () => rng() - 0.5));
  const [aArr, bArr, wArr] = [rand(3, 4), rand(5, 4), rand(3, 5)];
  const [a, b, w] = [tf.tensor2d(aArr), tf.tensor2d(bArr), tf.tensor2d(wArr)];
  const [mine, native] = tf.tidy(() => {
    const run = (f: (x: tf.Tensor2D, y: tf.Tensor2D) => tf.Tensor) => {
      const value = f(a, b).arraySync();
      const grads = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(f(x as tf.Tensor2D, y as tf.Tensor2D), w)))([a, b]);
      return [value, ...grads.map((g) => g.arraySync())] as Mat[];
    };
    return [run(pairwiseScores), run((x, y) => tf.matMul(x, tf.transpose(y)))];
  });
  tf.dispose([a, b, w]);
  for (let k = 0; k < 3; k++) assertMatClose(mine[k], native[k], null, 1e-6, ['value', 'd/da', 'd/db'][k]);
  // By hand: value a_j·b_i; d/da_jk Σ w∘(a·bᵀ) = Σ_i w_ji b_ik; d/db_ik = Σ_j w_ji a_jk.
  const value = aArr.map((aj) => bArr.map((bi) => dot(aj, bi)));
  const dA = aArr.map((_, j) => [0, 1, 2, 3].map((k) => bArr.reduce((acc, bi, i) => acc + wArr[j][i] * bi[k], 0)));
  const dB = bArr.map((_, i) => [0, 1, 2, 3].map((k) => aArr.reduce((acc, aj, j) => acc + wArr[j][i] * aj[k], 0)));
  [value, dA, dB].forEach((e, k) => assertMatClose(mine[k], e, null, 1e-6, `by hand ${k}`));
});

test('logOnePlusSumExp: value and gradient (softmax over [0, z]) in plain JS, no overflow', () => {
  const zs = [
    [0.5, -1, 2],
    [200, 150, -1e9],
    [-300, -1e9, -1e9],
  ];
  const z = tf.tensor2d(zs);
  const [value, grad] = tf.tidy(() => [
    logOnePlusSumExp(z).arraySync(),
    tf
      .grad((x: tf.Tensor) => tf.sum(logOnePlusSumExp(x as tf.Tensor2D)))(z)
      .arraySync(),
  ]) as [number[], Mat];
  z.dispose();
  zs.forEach((row, j) => {
    assertClose(value[j], log1PlusSumExp(row), 1e-6, `value[${j}]`);
    const m = Math.max(0, ...row);
    const denom = Math.exp(-m) + row.reduce((acc, x) => acc + Math.exp(x - m), 0);
    row.forEach((x, i) => assertClose(grad[j][i], Math.exp(x - m) / denom, 1e-6, `grad[${j}][${i}]`));
  });
});

// ---------------------------------------------------------------------------------------------
// Gradients
// ---------------------------------------------------------------------------------------------

/** Random batch: B pairs, E explicit negatives (owner e % B), unit vectors, seeded. */
function randomBatch(seed: string, B: number, E: number, D: number): Batch {
  const rng = seedrandom(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
  const unitVec = () => {
    const x = Array.from({ length: D }, gauss);
    const n = Math.hypot(...x);
    return x.map((y) => y / n);
  };
  const q = Array.from({ length: B }, unitVec);
  const v = Array.from({ length: B }, unitVec);
  const negs = Array.from({ length: E }, unitVec);
  const items = [...v.map((r) => [...r]), ...negs];
  const mask = q.map((_, j) => items.map((_, i) => (i < B ? (i === j ? 0 : 1) : (i - B) % B === j ? 1 : 0)));
  return { q, v, items, mask };
}

type GradTriple = [Mat, Mat, Mat];

/** Gradients of f(q, v, items) w.r.t. q, v and items, as plain arrays. */
function gradsOf(b: Batch, f: (x: LossInputs) => tf.Scalar): GradTriple {
  const inputs = toInputs(b);
  const out = tf.tidy(() => {
    const g = tf.grads((q: tf.Tensor, v: tf.Tensor, items: tf.Tensor) =>
      f({ q: q as tf.Tensor2D, v: v as tf.Tensor2D, items: items as tf.Tensor2D, negMask: inputs.negMask }),
    );
    return g([inputs.q, inputs.v, inputs.items]).map((t) => t.arraySync() as Mat);
  });
  disposeInputs(inputs);
  return out as GradTriple;
}

/** Central finite differences (float64) of the reference loss w.r.t. q, v and items. */
function finiteDiffGrads(b: Batch, cfg: LossConfig, eps = 1e-6): GradTriple {
  const f = (x: Batch) => refLoss(x.q, x.v, x.items, x.mask, cfg).loss;
  const one = (key: 'q' | 'v' | 'items'): Mat =>
    b[key].map((row, r) =>
      row.map((_, c) => {
        const shifted = (d: number): Batch => ({
          ...b,
          [key]: b[key].map((rr, r2) => rr.map((x, c2) => (r2 === r && c2 === c ? x + d : x))),
        });
        return (f(shifted(eps)) - f(shifted(-eps))) / (2 * eps);
      }),
    );
  return [one('q'), one('v'), one('items')];
}

function maxAbsDiff(a: GradTriple, b: GradTriple): number {
  let m = 0;
  for (let k = 0; k < 3; k++)
    for (let r = 0; r < a[k].length; r++)
      for (let c = 0; c < a[k][r].length; c++) {
        m = Math.max(m, Math.abs(a[k][r][c] - b[k][r][c]));
      }
  return m;
}

function assertGradsClose(got: GradTriple, expected: GradTriple, absTol: number, relTol: number, msg: string): void {
  const names = ['q', 'v', 'items'];
  for (let k = 0; k < 3; k++) {
    for (let r = 0; r < expected[k].length; r++) {
      for (let c = 0; c < expected[k][r].length; c++) {
        const a = got[k][r][c];
        const e = expected[k][r][c];
        assert.ok(Math.abs(a - e) <= absTol + relTol * Math.abs(e), `${msg}: d/d${names[k]}[${r}][${c}] got ${a}, expected ${e}`);
      }
    }
  }
}

/** Smallest |δ_ji − pos_j + neg_ji| over valid pairs of both sides (distance to the hinge kink). */
function kinkDistance(b: Batch, cfg: LossConfig): number {
  let m = Infinity;
  for (const [anchor, positive, ref] of [
    [b.q, b.v, b.v],
    [b.v, b.q, b.q],
  ]) {
    for (let j = 0; j < anchor.length; j++) {
      for (let i = 0; i < b.items.length; i++) {
        if (b.mask[j][i] !== 1) continue;
        const x = refHyper(dot(ref[j], b.items[i]), cfg) - dot(anchor[j], positive[j]) + dot(anchor[j], b.items[i]);
        m = Math.min(m, Math.abs(x));
      }
    }
  }
  return m;
}

const GRAD_CASES: { name: string; cfg: LossConfig; frozen: typeof marginLoss }[] = [
  {
    name: 'margin/δ',
    cfg: cfgOf({ type: 'margin', adaptive: true, delta0: 0.05, alpha: 0.8, symmetric: true, symmetricWeight: 0.5 }),
    frozen: marginLoss,
  },
  {
    name: 'softmax/τ',
    cfg: cfgOf({ type: 'softmax', adaptive: true, tau0: 0.1, alpha: 0.8, symmetric: true, symmetricWeight: 0.5 }),
    frozen: softmaxLoss,
  },
];

for (const gc of GRAD_CASES) {
  test(`gradients (${gc.name}): stop-gradient equals the frozen-hyper loss; without it, finite differences`, () => {
    const batch = randomBatch(`grad-${gc.name}`, 5, 3, 4);
    if (gc.cfg.type === 'margin') {
      assert.ok(kinkDistance(batch, gc.cfg) > 1e-3, 'setup keeps every hinge away from its kink');
    }
    const cfgSg = { ...gc.cfg, stopGradient: true };
    const cfgNoSg = { ...gc.cfg, stopGradient: false };
    const ref = refLoss(batch.q, batch.v, batch.items, batch.mask, gc.cfg);

    const gSg = gradsOf(batch, (x) => referenceLoss(x, cfgSg).loss);
    // The fixed loss with the same per-pair δ/τ (computed in plain JS) held constant.
    const hyperQ = tf.tensor2d(ref.query.hyper);
    const hyperSym = tf.tensor2d(ref.sym.hyper);
    const gFrozen = gradsOf(batch, ({ q, v, items, negMask }) => {
      const itemsT = tf.transpose(items);
      const pos = tf.sum(tf.mul(q, v), 1) as tf.Tensor1D;
      const lq = gc.frozen(pos, tf.matMul(q, itemsT), negMask, hyperQ);
      const ls = gc.frozen(pos, tf.matMul(v, itemsT), negMask, hyperSym);
      return tf.add(lq, tf.mul(gc.cfg.symmetricWeight, ls));
    });
    tf.dispose([hyperQ, hyperSym]);
    assertGradsClose(gSg, gFrozen, 1e-5, 1e-4, 'sg vs frozen');

    const gNoSg = gradsOf(batch, (x) => referenceLoss(x, cfgNoSg).loss);
    assert.ok(maxAbsDiff(gNoSg, gSg) > 1e-2, 'without stop-gradient the gradient differs');
    const fd = finiteDiffGrads(batch, gc.cfg);
    assertGradsClose(gNoSg, fd, 1e-4, 1e-3, 'no-sg vs finite differences');
    assert.ok(maxAbsDiff(gSg, fd) > 1e-2, 'stop-gradient gradient is not the full derivative');

    // Every input receives gradient.
    for (const g of gSg)
      assert.ok(
        g.flat().some((x) => Math.abs(x) > 1e-6),
        'non-zero gradient',
      );
  });
}

test('fixed losses: gradients match finite differences of the reference', () => {
  const batch = randomBatch('grad-fixed', 4, 2, 3);
  for (const cfg of [
    cfgOf({ type: 'margin', adaptive: false, margin: 0.4, symmetric: true, symmetricWeight: 0.3 }),
    cfgOf({ type: 'softmax', adaptive: false, temperature: 0.2, symmetric: true, symmetricWeight: 0.3 }),
  ]) {
    if (cfg.type === 'margin') assert.ok(kinkDistance(batch, cfg) > 1e-3, 'away from kinks');
    const g = gradsOf(batch, (x) => referenceLoss(x, cfg).loss);
    assertGradsClose(g, finiteDiffGrads(batch, cfg), 1e-4, 1e-3, `${cfg.type} fixed`);
  }
});

// ---------------------------------------------------------------------------------------------
// Memory
// ---------------------------------------------------------------------------------------------

test('no tensor leak: tidy(referenceLoss + grads) leaves the tensor count unchanged', () => {
  const batch = randomBatch('leak', 6, 2, 8);
  const inputs = toInputs(batch);
  for (const variant of VARIANTS) {
    for (const sym of SYMMETRY) {
      for (const sg of [true, false]) {
        const cfg = cfgOf({ ...variant.cfg, ...sym.cfg, stopGradient: sg });
        const before = tf.memory().numTensors;
        const value = tf.tidy(() => {
          const { value, grads } = tf.valueAndGrads(
            (q: tf.Tensor, v: tf.Tensor, items: tf.Tensor) =>
              referenceLoss({ q: q as tf.Tensor2D, v: v as tf.Tensor2D, items: items as tf.Tensor2D, negMask: inputs.negMask }, cfg).loss,
          )([inputs.q, inputs.v, inputs.items]);
          assert.equal(grads.length, 3);
          return value.arraySync();
        });
        assert.ok(Number.isFinite(value));
        assert.equal(tf.memory().numTensors, before, `${variant.name}, ${sym.name}, sg=${sg}`);
      }
    }
  }
  disposeInputs(inputs);
});
