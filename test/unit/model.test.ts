import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import seedrandom from 'seedrandom';
import { lossAndGradHost } from '../../src/core/losses/lossAndGrad';
import type { LossConfig } from '../../src/core/losses/types';
import { DEFAULT_LOSS_CONFIG } from '../reference/defaultLossConfig';
import { hostLossBatch } from '../helpers/hostLossBatch';
import { dpsrScoresTf } from '../reference/tfjsDpsr';
import { DPSR_BETA, dpsrScores } from '../../src/core/model/towers/dpsr';
import { referenceLoss } from '../reference/tfjsLoss';
import { Adam, AdamSlot, lazyAdamFromBags } from '../../src/core/model/adam';
import { loadCheckpoint, saveCheckpoint } from '../../src/core/model/checkpoint';
import { bagBackward, bagForward, bagForwardRange, buildRowIndexOf, flattenBags, rowIndexScratch } from '../../src/core/model/embeddingBag';
import { matMulHost, transposeHost } from '../../src/core/numeric/matMul';
import { arenaOf, initTwoTower, newTableArena, type DenseParams, type TwoTowerParams } from '../../src/core/model/params';
import { simdKernels, simdModule } from '../../src/core/numeric/simdKernels';
import { DENSE_KEYS, denseTensors, headsOf, towerBackwardHost, towerForward, towerForwardHost } from '../../src/core/model/towerForward';
import { buildBatch, type Batch } from '../../src/core/training/batcher';
import type { FeaturizedExample } from '../../src/core/training/featurizedData';
import { TwoTowerTrainer } from '../../src/core/training/trainStep';
import type { ModelConfig } from '../../src/core/config/types';

before(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

function randArray(rng: () => number, n: number, scale = 1): Float32Array {
  return Float32Array.from({ length: n }, () => (rng() * 2 - 1) * scale);
}

/** Bags with an empty one, repeated ids within a bag, and ids shared between bags. */
function randomBags(rng: () => number, n: number, vocab: number, maxLen: number): Int32Array[] {
  return Array.from({ length: n }, (_, r) => {
    if (r === 2) return new Int32Array(0);
    const len = 1 + Math.floor(rng() * maxLen);
    const ids = Int32Array.from({ length: len }, () => Math.floor(rng() * vocab));
    if (len > 2) ids[len - 1] = ids[0]; // a repeat
    return ids;
  });
}

function assertAllClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, msg: string): void {
  assert.equal(actual.length, expected.length, `${msg}: length`);
  for (let i = 0; i < expected.length; i++) {
    const err = Math.abs(actual[i] - expected[i]);
    assert.ok(err <= tol * Math.max(1, Math.abs(expected[i])), `${msg}[${i}]: got ${actual[i]}, expected ${expected[i]} (err ${err})`);
  }
}

function assertIdentical(actual: ArrayLike<number>, expected: ArrayLike<number>, msg: string): void {
  assert.equal(actual.length, expected.length, `${msg}: length`);
  for (let i = 0; i < expected.length; i++) {
    if (!Object.is(actual[i], expected[i])) assert.fail(`${msg}[${i}]: ${actual[i]} !== ${expected[i]}`);
  }
}

const SMALL: ModelConfig = {
  vocabBuckets: 300,
  embeddingDim: 8,
  hiddenDim: 12,
  outputDim: 8,
  maxQueryTokens: 30,
  maxItemTokens: 100,
  charTrigrams: true,
  sharedTowers: false,
  preset: 'dssm',
};

/** A small featurised data set: variable lengths, an empty item, duplicate item ids, explicit negatives. */
function smallData(vocab: number, n = 40, seed = 'data'): FeaturizedExample[] {
  const rng = seedrandom(seed);
  const ids = (len: number) => Int32Array.from({ length: len }, () => Math.floor(rng() * vocab));
  return Array.from({ length: n }, (_, i) => {
    const positive = { id: `i${i % 31}`, text: '', source: { file: '-', line: i + 1 } };
    const negative = { id: `n${i}`, text: '', source: positive.source };
    return {
      example: { queryId: `q${i}`, query: '', positive, negatives: [negative], source: positive.source },
      query: ids(1 + (i % 7)),
      positive: ids(i === 5 ? 0 : 3 + (i % 11)),
      negatives: [{ id: `n${i}`, feats: ids(4) }],
    } as unknown as FeaturizedExample;
  });
}

function batchOf(data: FeaturizedExample[], step: number, B: number): Batch {
  return buildBatch(
    data,
    Array.from({ length: B }, (_, k) => (step * B + k) % data.length),
    1,
  );
}

function cloneParams(p: TwoTowerParams): TwoTowerParams {
  const tower = (t: TwoTowerParams['query']) => ({
    table: t.table.slice(),
    dense: Object.fromEntries(DENSE_KEYS.map((k) => [k, t.dense[k].slice()])) as unknown as DenseParams,
  });
  const query = tower(p.query);
  return { dims: { ...p.dims }, query, item: p.shared ? query : tower(p.item), shared: p.shared };
}

/**
 * The trainer as it was before the hand-written backward pass: tfjs autodiff (tf.valueAndGrads) over
 * towerForward + referenceLoss, bagBackward, global norm, then Adam (updateRows / updateDense).
 */
class ReferenceTrainer {
  readonly adam: Adam;
  private readonly slots = new Map<object, { table: AdamSlot; dense: Record<string, AdamSlot> }>();
  private readonly slotOf: Int32Array;
  constructor(
    readonly params: TwoTowerParams,
    private readonly loss: LossConfig,
    lr: number,
  ) {
    this.adam = new Adam({ learningRate: lr });
    const towers = params.shared ? [params.query] : [params.query, params.item];
    for (const t of towers)
      this.slots.set(t, { table: new AdamSlot(t.table.length), dense: Object.fromEntries(DENSE_KEYS.map((k) => [k, new AdamSlot(t.dense[k].length)])) });
    this.slotOf = new Int32Array(params.dims.vocab).fill(-1);
  }
  step(batch: Batch): { loss: number; gradNorm: number } {
    const { dims: d, shared } = this.params;
    const { B, N } = batch;
    const K = headsOf(this.params.query.dense, d);
    const bagQ = bagForward(this.params.query.table, d.embed, batch.queryFeats);
    const bagI = bagForward(this.params.item.table, d.embed, batch.itemFeats);
    let loss = 0;
    let hostGrads: Float32Array[] = [];
    tf.tidy(() => {
      const qw = denseTensors(this.params.query.dense, d);
      const iw = shared ? qw : denseTensors(this.params.item.dense, d);
      const weights = shared ? DENSE_KEYS.map((k) => qw[k]) : [...DENSE_KEYS.map((k) => qw[k]), ...DENSE_KEYS.map((k) => iw[k])];
      const mask = tf.tensor2d(batch.negMask, [B, N]);
      const f = (...args: tf.Tensor[]): tf.Scalar => {
        const [bq, bi, ...ws] = args;
        const wq = Object.fromEntries(DENSE_KEYS.map((k, i) => [k, ws[i]])) as typeof qw;
        const wi = shared ? wq : (Object.fromEntries(DENSE_KEYS.map((k, i) => [k, ws[4 + i]])) as typeof qw);
        const q = towerForward(bq as tf.Tensor2D, wq, K);
        const items = towerForward(bi as tf.Tensor2D, wi);
        const v = tf.slice(items, [0, 0], [B, d.out]) as tf.Tensor2D;
        const sQV = K > 1 ? dpsrScoresTf(q, items, K, DPSR_BETA) : undefined;
        return referenceLoss({ q, v, items, negMask: mask, sQV }, this.loss).loss;
      };
      const { value, grads } = tf.valueAndGrads(f)([tf.tensor2d(bagQ, [B, d.embed]), tf.tensor2d(bagI, [N, d.embed]), ...weights]);
      loss = value.dataSync()[0];
      hostGrads = grads.map((g) => g.dataSync().slice() as Float32Array);
    });
    const [gBagQ, gBagI, ...gDense] = hostGrads;
    const seqs = shared ? [[...batch.queryFeats, ...batch.itemFeats]] : [batch.queryFeats, batch.itemFeats];
    const gBags = shared ? [Float32Array.from([...gBagQ, ...gBagI])] : [gBagQ, gBagI];
    const rows = seqs.map((s, t) => bagBackward(gBags[t], d.embed, s, this.slotOf));
    const ss = (a: Float32Array) => a.reduce((s, x) => s + x * x, 0);
    const gradNorm = Math.sqrt([...gDense, ...rows.map((r) => r.grads)].reduce((s, g) => s + ss(g), 0));
    if (Number.isFinite(loss) && Number.isFinite(gradNorm)) {
      this.adam.beginStep();
      (shared ? [this.params.query] : [this.params.query, this.params.item]).forEach((tower, t) => {
        const slots = this.slots.get(tower)!;
        DENSE_KEYS.forEach((k, i) => this.adam.updateDense(tower.dense[k], gDense[4 * t + i], slots.dense[k]));
        this.adam.updateRows(tower.table, d.embed, rows[t].rows, rows[t].grads, slots.table);
      });
    }
    return { loss, gradNorm };
  }
}

// ---------------------------------------------------------------------------------------------
// Embedding bag
// ---------------------------------------------------------------------------------------------

test('bagForward / bagBackward match tf.gather + mean and its tf.grads gradient', () => {
  const rng = seedrandom('bag');
  const V = 50;
  const E = 6;
  const table = randArray(rng, V * E);
  const seqs = randomBags(rng, 7, V, 9);
  const gradBag = randArray(rng, seqs.length * E);
  const bags = bagForward(table, E, seqs);

  // Reference: bag r = mean over rows gather(table, ids) (zeros for an empty bag); L = Σ bag ⊙ W.
  const [refBags, refGrad] = tf.tidy(() => {
    const t = tf.tensor2d(table, [V, E]);
    const w = tf.tensor2d(gradBag, [seqs.length, E]);
    const f = (tt: tf.Tensor) =>
      tf.stack(seqs.map((ids) => (ids.length === 0 ? tf.zeros([E]) : tf.mean(tf.gather(tt, tf.tensor1d(ids, 'int32')), 0)))) as tf.Tensor2D;
    const value = f(t).dataSync().slice();
    const g = tf
      .grad((tt: tf.Tensor) => tf.sum(tf.mul(f(tt), w)))(t)
      .dataSync()
      .slice();
    return [value, g];
  });
  assertAllClose(bags, refBags, 1e-6, 'forward');

  const slotOf = new Int32Array(V).fill(-1);
  const sparse = bagBackward(gradBag, E, seqs, slotOf);
  const dense = new Float32Array(V * E);
  sparse.rows.forEach((row, k) => dense.set(sparse.grads.subarray(k * E, (k + 1) * E), row * E));
  assertAllClose(dense, refGrad, 1e-6, 'backward');
  assert.ok(
    slotOf.every((s) => s === -1),
    'slotOf restored',
  );
  const touched = new Set(seqs.flatMap((s) => Array.from(s)));
  assert.deepEqual(new Set(sparse.rows), touched, 'exactly the touched rows');
});

test('bagForwardRange: four-rows-at-a-time sums are bit-identical to a plain loop; ranges compose', () => {
  const rng = seedrandom('unroll');
  const V = 64;
  const E = 12;
  const table = randArray(rng, V * E);
  const seqs = randomBags(rng, 9, V, 23);
  const plain = new Float32Array(seqs.length * E);
  seqs.forEach((ids, r) => {
    for (const t of ids) for (let d = 0; d < E; d++) plain[r * E + d] += table[t * E + d];
    if (ids.length) for (let d = 0; d < E; d++) plain[r * E + d] *= 1 / ids.length;
  });
  assertIdentical(bagForward(table, E, seqs), plain, 'bagForward');
  const flat = flattenBags(seqs);
  const split = new Float32Array(seqs.length * E).fill(NaN);
  bagForwardRange(table, E, flat.ids, flat.offsets, 0, 4, split);
  bagForwardRange(table, E, flat.ids, flat.offsets, 4, seqs.length, split);
  assertIdentical(split, plain, 'two ranges');
});

test('RowIndex: distinct rows ascending, and for each the bags containing it in bag order', () => {
  const rng = seedrandom('index');
  const V = 70;
  const seqs = randomBags(rng, 12, V, 15);
  const scratch = rowIndexScratch(V);
  const idx = buildRowIndexOf(flattenBags(seqs), scratch);
  const rows = Array.from(idx.rows.subarray(0, idx.count));
  assert.deepEqual(
    rows,
    [...new Set(seqs.flatMap((s) => Array.from(s)))].sort((a, b) => a - b),
  );
  rows.forEach((row, u) => {
    const expected: number[] = [];
    seqs.forEach((ids, r) => ids.forEach((t) => t === row && expected.push(r)));
    assert.deepEqual(Array.from(idx.bagOf.subarray(idx.start[u], idx.start[u + 1])), expected, `row ${row}`);
  });
  assert.ok(
    scratch.mark.every((w) => w === 0),
    'bitmap cleared for the next call',
  );
  // Reusing the index arrays gives the same result.
  const again = buildRowIndexOf(flattenBags(seqs), scratch, idx);
  assert.equal(again, idx);
  assert.deepEqual(Array.from(again.rows.subarray(0, again.count)), rows);
});

// ---------------------------------------------------------------------------------------------
// Adam
// ---------------------------------------------------------------------------------------------

test('Adam.updateDense follows tf.train.adam over several steps', () => {
  const rng = seedrandom('adam');
  const n = 40;
  const init = randArray(rng, n);
  const grads = Array.from({ length: 6 }, () => randArray(rng, n));
  const lr = 0.01;
  const param = init.slice();
  const adam = new Adam({ learningRate: lr });
  const slot = new AdamSlot(n);
  const variable = tf.variable(tf.tensor1d(init));
  const opt = tf.train.adam(lr, 0.9, 0.999, 1e-7);
  for (const g of grads) {
    adam.beginStep();
    adam.updateDense(param, g, slot);
    tf.tidy(() => opt.applyGradients([{ name: variable.name, tensor: tf.tensor1d(g) }]));
  }
  // tfjs adds ε to the bias-corrected √v̂, the host Adam (like Keras) to √v: equal to ~ε.
  assertAllClose(param, variable.dataSync(), 1e-6, 'param');
  opt.dispose();
  variable.dispose();
});

test('fused bag backward + lazy Adam (JS and SIMD) equals bagBackward + updateRows bit for bit; untouched rows unchanged', () => {
  const rng = seedrandom('fused');
  const V = 120;
  const E = 8;
  const seqs = randomBags(rng, 10, V, 30);
  const flat = flattenBags(seqs);
  const gradBag = randArray(rng, seqs.length * E);
  const invLen = Float64Array.from(seqs, (s) => (s.length ? 1 / s.length : 0));
  const table0 = randArray(rng, V * E);
  const m0 = randArray(rng, V * E, 0.01);
  const v0 = Float32Array.from(randArray(rng, V * E, 0.01), Math.abs);

  // Reference: two passes, twice (so that the second step starts from non-trivial moments).
  const adamRef = new Adam({ learningRate: 0.01 });
  const ref = { table: table0.slice(), slot: new AdamSlot(V * E) };
  ref.slot.m.set(m0);
  ref.slot.v.set(v0);
  const slotOf = new Int32Array(V).fill(-1);
  let refSS = 0;
  for (let s = 0; s < 2; s++) {
    adamRef.beginStep();
    const sparse = bagBackward(gradBag, E, seqs, slotOf);
    refSS = sparse.grads.reduce((a, x) => a + x * x, 0);
    adamRef.updateRows(ref.table, E, sparse.rows, sparse.grads, ref.slot);
  }

  // JS fused kernel through Adam.updateRowsFromBags.
  const adam = new Adam({ learningRate: 0.01 });
  const js = { table: table0.slice(), slot: new AdamSlot(V * E) };
  js.slot.m.set(m0);
  js.slot.v.set(v0);
  const idx = buildRowIndexOf(flat, rowIndexScratch(V));
  let ss = 0;
  for (let s = 0; s < 2; s++) {
    adam.beginStep();
    ss = adam.updateRowsFromBags(js.table, E, idx, gradBag, invLen, js.slot, 0, 5) + adam.updateRowsFromBags(js.table, E, idx, gradBag, invLen, js.slot, 5);
  }
  assertIdentical(js.table, ref.table, 'JS table');
  assertIdentical(js.slot.m, ref.slot.m, 'JS m');
  assertIdentical(js.slot.v, ref.slot.v, 'JS v');
  assert.ok(Math.abs(ss - refSS) <= 1e-12 * refSS, `Σg² ${ss} vs ${refSS}`);
  const touched = new Set(seqs.flatMap((q) => Array.from(q)));
  for (let row = 0; row < V; row++) {
    if (touched.has(row)) continue;
    assertIdentical(js.table.subarray(row * E, (row + 1) * E), table0.subarray(row * E, (row + 1) * E), `untouched row ${row}`);
    assert.ok(
      js.slot.m.subarray(row * E, (row + 1) * E).every((x, k) => Object.is(x, m0[row * E + k])),
      `untouched m ${row}`,
    );
  }

  // WebAssembly SIMD kernels on arena memory.
  const mod = simdModule();
  assert.ok(mod, 'WebAssembly SIMD is available on Node ≥ 20');
  const arena = newTableArena(V * E, table0);
  const k = simdKernels(mod, arena.memory!);
  const put = <T extends Float32Array | Int32Array | Float64Array>(
    ctor: { new (b: ArrayBufferLike, o: number, n: number): T; BYTES_PER_ELEMENT: number },
    from: ArrayLike<number>,
  ) => {
    const a = arena.alloc(ctor, from.length);
    a.set(from);
    return a;
  };
  const m = put(Float32Array, m0);
  const v = put(Float32Array, v0);
  const ids = put(Int32Array, flat.ids);
  const offsets = put(Int32Array, flat.offsets);
  const out = arena.alloc(Float32Array, seqs.length * E);
  k.bag_forward(arena.table.byteOffset, E, ids.byteOffset, offsets.byteOffset, 0, seqs.length, out.byteOffset);
  assertIdentical(out, bagForward(table0, E, seqs), 'SIMD bag_forward');
  const rows = put(Int32Array, idx.rows.subarray(0, idx.count));
  const start = put(Int32Array, idx.start.subarray(0, idx.count + 1));
  const bagOf = put(Int32Array, idx.bagOf.subarray(0, flat.ids.length));
  const gb = put(Float32Array, gradBag);
  const inv = put(Float64Array, invLen);
  const g = arena.alloc(Float32Array, 4 * E);
  const adamW = new Adam({ learningRate: 0.01 });
  for (let s = 0; s < 2; s++) {
    adamW.beginStep();
    ss = k.adam_rows(
      arena.table.byteOffset,
      m.byteOffset,
      v.byteOffset,
      E,
      rows.byteOffset,
      start.byteOffset,
      bagOf.byteOffset,
      0,
      idx.count,
      gb.byteOffset,
      inv.byteOffset,
      g.byteOffset,
      adamW.stepSize(),
      0.9,
      0.999,
      1e-7,
    );
  }
  assertIdentical(arena.table, ref.table, 'SIMD table');
  assertIdentical(m, ref.slot.m, 'SIMD m');
  assertIdentical(v, ref.slot.v, 'SIMD v');
  assert.ok(Math.abs(ss - refSS) <= 1e-12 * refSS, `SIMD Σg² ${ss} vs ${refSS}`);
  assert.equal(lazyAdamFromBags.length, 16, 'kernel signature');
});

// ---------------------------------------------------------------------------------------------
// Hand-written backward pass: loss, towers
// ---------------------------------------------------------------------------------------------

const LOSS_VARIANTS: { name: string; cfg: Partial<LossConfig> }[] = [
  { name: 'adaptive softmax + symmetric (default)', cfg: {} },
  { name: 'adaptive softmax, no stop-gradient', cfg: { stopGradient: false } },
  { name: 'fixed softmax, no symmetric term', cfg: { adaptive: false, symmetric: false, temperature: 0.2 } },
  { name: 'adaptive margin + symmetric, no stop-gradient', cfg: { type: 'margin', delta0: 0.2, alpha: 0.7, stopGradient: false, symmetricWeight: 0.5 } },
  { name: 'fixed margin + symmetric', cfg: { type: 'margin', adaptive: false, margin: 0.3 } },
  { name: 'adaptive margin + symmetric, stop-gradient', cfg: { type: 'margin', delta0: 0.2, alpha: 0.7, stopGradient: true, symmetricWeight: 0.5 } },
  { name: 'fixed softmax + symmetric', cfg: { adaptive: false, symmetric: true, temperature: 0.2, symmetricWeight: 0.3 } },
  { name: "adaptive softmax + symmetric, the paper's τ₀ = 1/30", cfg: { tau0: 1 / 30 } },
];

test('lossAndGradHost: a NaN or Infinity in a used score makes the loss non-finite on every variant (never a silently dropped row)', () => {
  const B = 4;
  const N = 6;
  const rng = seedrandom('host-nan');
  const mask = new Float32Array(B * N);
  for (let j = 0; j < B; j++) for (let i = 0; i < N; i++) mask[j * N + i] = i !== j ? 1 : 0;
  const base = Float32Array.from({ length: 2 * B * N }, () => rng() * 2 - 1);
  const pos = Float64Array.from({ length: B }, () => rng());
  for (const variant of LOSS_VARIANTS) {
    const cfg: LossConfig = { ...DEFAULT_LOSS_CONFIG, type: 'softmax', tau0: 0.1, ...variant.cfg };
    assert.ok(Number.isFinite(lossAndGradHost({ scores: base, pos, negMask: mask, B, N }, cfg).loss), `${variant.name}: finite inputs, finite loss`);
    for (const [where, bad] of [
      ['s(q,v⁻)', 1],
      ['s(v,v⁻) (reference of δ/τ, symmetric candidates)', B * N + 1],
    ] as const) {
      for (const value of [NaN, Infinity]) {
        const scores = base.slice();
        scores[bad] = value;
        const lo = lossAndGradHost({ scores, pos, negMask: mask, B, N }, cfg);
        assert.ok(!Number.isFinite(lo.loss), `${variant.name}: ${value} in ${where} → loss ${lo.loss}`);
      }
    }
    const nanPos = pos.slice();
    nanPos[2] = NaN;
    assert.ok(Number.isNaN(lossAndGradHost({ scores: base, pos: nanPos, negMask: mask, B, N }, cfg).loss), `${variant.name}: NaN positive score`);
  }
});

test('lossAndGradHost: loss and gradients match referenceLoss + tf.grads for every variant', () => {
  const rng = seedrandom('host-loss');
  const { B, N, D, q, items, v, mask, qv, scores, pos } = hostLossBatch(rng, randArray);
  for (const variant of LOSS_VARIANTS) {
    const cfg: LossConfig = { ...DEFAULT_LOSS_CONFIG, type: 'softmax', tau0: 0.1, ...variant.cfg };
    // Host: scores, loss, ∂L/∂scores, then the chain to q and items (v = items[0:B]).
    const lo = lossAndGradHost({ scores, pos, negMask: mask, B, N }, cfg);
    const dQV = matMulHost(lo.dScores, items, 2 * B, N, D);
    const dItems = matMulHost(transposeHost(lo.dScores, 2 * B, N), qv, N, 2 * B, D);
    for (let j = 0; j < B; j++) {
      for (let k = 0; k < D; k++) {
        dQV[j * D + k] += lo.dPos[j] * v[j * D + k];
        dItems[j * D + k] += dQV[(B + j) * D + k] + lo.dPos[j] * q[j * D + k];
      }
    }
    const ref = tf.tidy(() => {
      const negMask = tf.tensor2d(mask, [B, N]);
      const f = (tq: tf.Tensor, ti: tf.Tensor) => {
        const tv = tf.slice(ti, [0, 0], [B, D]) as tf.Tensor2D;
        return referenceLoss({ q: tq as tf.Tensor2D, v: tv, items: ti as tf.Tensor2D, negMask }, cfg);
      };
      const out = f(tf.tensor2d(q, [B, D]), tf.tensor2d(items, [N, D]));
      const { value, grads } = tf.valueAndGrads((tq: tf.Tensor, ti: tf.Tensor) => f(tq, ti).loss)([tf.tensor2d(q, [B, D]), tf.tensor2d(items, [N, D])]);
      return {
        loss: value.dataSync()[0],
        lossQ: out.lossQ.dataSync()[0],
        lossSym: out.lossSym.dataSync()[0],
        hyper: out.hyper.dataSync().slice(),
        dq: grads[0].dataSync().slice(),
        dItems: grads[1].dataSync().slice(),
      };
    });
    assertAllClose([lo.loss, lo.lossQ, lo.lossSym], [ref.loss, ref.lossQ, ref.lossSym], 1e-5, `${variant.name}: losses`);
    assertAllClose(lo.hyper, ref.hyper, 1e-5, `${variant.name}: hyper`);
    assertAllClose(dQV.subarray(0, B * D), ref.dq, 1e-5, `${variant.name}: ∂L/∂q`);
    assertAllClose(dItems, ref.dItems, 1e-5, `${variant.name}: ∂L/∂items`);
  }
});

test('towerForwardHost / towerBackwardHost match towerForward and its tf.grads gradients', () => {
  const rng = seedrandom('tower');
  const d = { vocab: 1, embed: 6, hidden: 10, out: 5 };
  const rows = 7;
  const p: DenseParams = { w1: randArray(rng, 60, 0.5), b1: randArray(rng, 10, 0.1), w2: randArray(rng, 50, 0.5), b2: randArray(rng, 5, 0.1) };
  const x = randArray(rng, rows * d.embed);
  const w = randArray(rng, rows * d.out); // L = Σ tower(x) ⊙ w
  const acts = towerForwardHost(x, rows, p, d);
  const back = towerBackwardHost(acts, w.slice(), p, d);
  const ref = tf.tidy(() => {
    const wt = denseTensors(p, d);
    const f = (tx: tf.Tensor, w1: tf.Tensor, b1: tf.Tensor, w2: tf.Tensor, b2: tf.Tensor) => towerForward(tx as tf.Tensor2D, { w1, b1, w2, b2 });
    const value = f(tf.tensor2d(x, [rows, d.embed]), wt.w1, wt.b1, wt.w2, wt.b2)
      .dataSync()
      .slice();
    const grads = tf.grads((tx: tf.Tensor, w1: tf.Tensor, b1: tf.Tensor, w2: tf.Tensor, b2: tf.Tensor) =>
      tf.sum(tf.mul(f(tx, w1, b1, w2, b2), tf.tensor2d(w, [rows, d.out]))),
    )([tf.tensor2d(x, [rows, d.embed]), wt.w1, wt.b1, wt.w2, wt.b2]);
    return { value, grads: grads.map((g) => g.dataSync().slice()) };
  });
  assertAllClose(acts.e, ref.value, 1e-5, 'forward');
  assertAllClose(back.dx, ref.grads[0], 1e-5, 'dx');
  DENSE_KEYS.forEach((k, i) => assertAllClose(back.grads[k], ref.grads[1 + i], 1e-5, k));
});

// ---------------------------------------------------------------------------------------------
// Trainer
// ---------------------------------------------------------------------------------------------

/**
 * Four steps of TwoTowerTrainer against ReferenceTrainer (tfjs autodiff) from the same weights `pRef`: loss, gradient
 * norm and every weight after the steps within 1e-4; the first step's diagnostics are [B × N] scores.
 */
function stepsMatchReference(pRef: TwoTowerParams, loss: LossConfig, data: FeaturizedExample[]): void {
  const pNew = cloneParams(pRef);
  const ref = new ReferenceTrainer(pRef, loss, 0.01);
  const trainer = new TwoTowerTrainer(pNew, loss, 0.01, { threads: 1 });
  try {
    for (let s = 0; s < 4; s++) {
      const batch = batchOf(data, s, 12);
      const a = ref.step(batch);
      const b = trainer.step(batch, s === 0);
      assertAllClose([b.loss, b.gradNorm], [a.loss, a.gradNorm], 1e-4, `step ${s}`);
      if (s === 0) assert.ok(b.host && b.host.sQV.length === batch.B * batch.N && b.host.itemEmb.length === batch.B * pRef.dims.out, 'diagnostics');
    }
    for (const t of pRef.shared ? (['query'] as const) : (['query', 'item'] as const)) {
      assertAllClose(pNew[t].table, pRef[t].table, 1e-4, `${t} table`);
      for (const k of DENSE_KEYS) assertAllClose(pNew[t].dense[k], pRef[t].dense[k], 1e-4, `${t} ${k}`);
    }
  } finally {
    trainer.dispose();
  }
}

for (const shared of [false, true]) {
  test(`TwoTowerTrainer matches the tfjs-autodiff reference step (${shared ? 'shared' : 'separate'} towers)`, () => {
    const model = { ...SMALL, sharedTowers: shared };
    const data = smallData(model.vocabBuckets);
    const loss: LossConfig = { ...DEFAULT_LOSS_CONFIG, type: 'softmax', tau0: 0.1 };
    stepsMatchReference(initTwoTower(model, 4), loss, data);
  });
}

// DPSR multi-head query tower (model.preset "dpsr"): score, gradients and training step against tfjs autodiff.

test('dpsrScores equals the tfjs reference attention score; one head is the dot product', () => {
  const rng = seedrandom('dpsr-scores');
  const unit = (rows: number, D: number) => {
    const a = randArray(rng, rows * D);
    for (let r = 0; r < rows; r++) {
      const n = Math.hypot(...a.subarray(r * D, (r + 1) * D));
      for (let k = 0; k < D; k++) a[r * D + k] /= n;
    }
    return a;
  };
  const [B, K, N, D] = [3, 4, 7, 5];
  const q = unit(B * K, D);
  const items = unit(N, D);
  const ref = tf.tidy(() =>
    dpsrScoresTf(tf.tensor2d(q, [B, K * D]), tf.tensor2d(items, [N, D]), K, DPSR_BETA)
      .dataSync()
      .slice(),
  );
  assertAllClose(dpsrScores(q, items, B, K, N, D).s, ref, 1e-5, 'attention score');
  const one = dpsrScores(q.subarray(0, B * D), items, B, 1, N, D).s;
  assertAllClose(one, matMulHost(q.subarray(0, B * D), transposeHost(items, N, D), B, D, N), 1e-6, 'K = 1');
});

for (const [name, loss] of [
  ['adaptive margin', { ...DEFAULT_LOSS_CONFIG, type: 'margin', adaptive: true }],
  ['softmax, symmetric, no stop-gradient', { ...DEFAULT_LOSS_CONFIG, type: 'softmax', tau0: 0.1, symmetric: true, stopGradient: false }],
] as [string, LossConfig][]) {
  test(`TwoTowerTrainer with a DPSR query tower (3 heads) matches the tfjs-autodiff reference step (${name})`, () => {
    const model: ModelConfig = { ...SMALL, preset: 'dpsr', queryHeads: 3 };
    const data = smallData(model.vocabBuckets, 40, 'dpsr');
    const pRef = initTwoTower(model, 5);
    assert.equal(pRef.query.dense.w2.length, model.hiddenDim * model.outputDim * 3, 'three output layers');
    stepsMatchReference(pRef, loss, data);
  });
}

test('checkpoints of a DPSR model record preset and heads and read back; a checkpoint without a preset reads as dssm', async () => {
  const model: ModelConfig = { ...SMALL, preset: 'dpsr', queryHeads: 3 };
  const p = initTwoTower(model, 2);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rlens-dpsr-ckpt-'));
  try {
    await saveCheckpoint(dir, p, { step: 1, model });
    const back = loadCheckpoint(dir);
    assert.equal(back.info.model.preset, 'dpsr');
    assert.equal(back.info.model.queryHeads, 3);
    assertIdentical(back.params.query.dense.w2, p.query.dense.w2, 'query w2');
    assert.equal(headsOf(back.params.query.dense, back.params.dims), 3);
    const old = initTwoTower(SMALL, 2);
    const { preset: _drop, ...before } = SMALL;
    await saveCheckpoint(dir, old, { step: 1, model: before as ModelConfig });
    assert.equal(headsOf(loadCheckpoint(dir).params.query.dense, old.dims), 1);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('TwoTowerTrainer: a worker thread gives bit-identical results to one thread; no tensor leak', () => {
  const data = smallData(SMALL.vocabBuckets, 60, 'threads');
  const loss: LossConfig = { ...DEFAULT_LOSS_CONFIG, type: 'softmax', tau0: 0.1, stopGradient: false };
  const p1 = initTwoTower(SMALL, 9);
  const p2 = cloneParams(p1);
  const one = new TwoTowerTrainer(p1, loss, 0.01, { threads: 1 });
  const two = new TwoTowerTrainer(p2, loss, 0.01, { threads: 2 });
  try {
    assert.equal(one.threads, 1);
    assert.equal(two.threads, 2);
    const tensors = tf.memory().numTensors;
    for (let s = 0; s < 5; s++) {
      const batch = batchOf(data, s, 16);
      const a = one.step(batch, false);
      const b = two.step(batch, false);
      assert.deepEqual([b.loss, b.lossQ, b.lossSym, b.gradNorm], [a.loss, a.lossQ, a.lossSym, a.gradNorm], `step ${s}`);
    }
    assert.equal(tf.memory().numTensors, tensors, 'no tensors left behind');
    for (const t of ['query', 'item'] as const) {
      assertIdentical(p2[t].table, p1[t].table, `${t} table`);
      for (const k of DENSE_KEYS) assertIdentical(p2[t].dense[k], p1[t].dense[k], `${t} ${k}`);
    }
    // A bigger batch regrows the step buffers (and re-sends them to the worker).
    const big = batchOf(data, 0, 50);
    assert.deepEqual(two.step(big, false).gradNorm, one.step(big, false).gradNorm);
    assertIdentical(p2.item.table, p1.item.table, 'after regrowth');
  } finally {
    one.dispose();
    two.dispose();
  }
});

test('TwoTowerTrainer: tables outside an arena are adopted; an embedding width without SIMD uses the JS kernels', () => {
  const model = { ...SMALL, embeddingDim: 6 }; // not a multiple of 4
  const data = smallData(model.vocabBuckets, 30, 'js');
  const loss: LossConfig = { ...DEFAULT_LOSS_CONFIG, type: 'margin' };
  const p1 = cloneParams(initTwoTower(model, 2)); // plain arrays
  const p2 = cloneParams(p1);
  assert.equal(arenaOf(p1.query.table), undefined);
  const ref = new ReferenceTrainer(p2, loss, 0.01);
  const trainer = new TwoTowerTrainer(p1, loss, 0.01, { threads: 2 });
  try {
    assert.ok(arenaOf(p1.query.table), 'table moved into an arena');
    for (let s = 0; s < 3; s++) {
      const batch = batchOf(data, s, 10);
      assertAllClose([trainer.step(batch, false).loss], [ref.step(batch).loss], 1e-4, `step ${s}`);
    }
    assertAllClose(p1.item.table, p2.item.table, 1e-4, 'item table');
    // A second trainer on the same params gets its own arena (the first keeps its moments).
    const before = p1.query.table;
    const again = new TwoTowerTrainer(p1, loss, 0.01, { threads: 1 });
    assert.notEqual(p1.query.table, before);
    assertIdentical(p1.query.table, before, 'copied values');
    again.dispose();
  } finally {
    trainer.dispose();
  }
});

test('TwoTowerTrainer: a NaN weight makes the loss non-finite on every loss variant (margin rows are not dropped)', () => {
  const data = smallData(SMALL.vocabBuckets);
  for (const variant of LOSS_VARIANTS) {
    const params = initTwoTower(SMALL, 5);
    const trainer = new TwoTowerTrainer(params, { ...DEFAULT_LOSS_CONFIG, ...variant.cfg }, 0.01, { threads: 1 });
    try {
      params.item.dense.b2[0] = NaN;
      const r = trainer.step(batchOf(data, 0, 12), false);
      assert.ok(!Number.isFinite(r.loss), `${variant.name}: loss ${r.loss}`);
    } finally {
      trainer.dispose();
    }
  }
});

test('TwoTowerTrainer: a non-finite loss leaves every weight unchanged', () => {
  const data = smallData(SMALL.vocabBuckets);
  const params = initTwoTower(SMALL, 5);
  const trainer = new TwoTowerTrainer(params, DEFAULT_LOSS_CONFIG, 0.01, { threads: 2 });
  try {
    params.item.dense.b2[0] = NaN;
    const snapshot = cloneParams(params);
    const r = trainer.step(batchOf(data, 0, 12), false);
    assert.ok(!Number.isFinite(r.loss) || !Number.isFinite(r.gradNorm), 'reported as non-finite');
    for (const t of ['query', 'item'] as const) {
      assertIdentical(params[t].table, snapshot[t].table, `${t} table`);
      for (const k of DENSE_KEYS) assertIdentical(params[t].dense[k], snapshot[t].dense[k], `${t} ${k}`);
    }
    assert.equal(trainer.adam.step, 0, 'no Adam step taken');
  } finally {
    trainer.dispose();
  }
});

test('checkpoints write and read tables that live in an arena', async () => {
  const params = initTwoTower(SMALL, 3);
  assert.ok(arenaOf(params.query.table)?.memory, 'fresh tables live in a WebAssembly memory');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rlens-ckpt-'));
  try {
    await saveCheckpoint(dir, params, { step: 1, model: SMALL });
    const { params: back } = loadCheckpoint(dir);
    assertIdentical(back.query.table, params.query.table, 'query table');
    assertIdentical(back.item.table, params.item.table, 'item table');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
