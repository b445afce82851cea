import * as tf from '@tensorflow/tfjs';
import type { LossConfig } from '../losses/types';
import { computeLoss } from '../losses';
import { Adam, AdamSlot } from '../model/adam';
import { bagBackward, bagForward, type SparseRowGrads } from '../model/embeddingBag';
import { namedTowers, type DenseParams, type TowerParams, type TwoTowerParams } from '../model/params';
import { DENSE_KEYS, denseTensors, towerForward } from '../model/towerForward';
import type { Batch } from './batcher';

/** Host copies of one step's results; the similarity matrices only on steps that asked for them. */
export interface StepResult {
  loss: number;
  lossQ: number;
  lossSym: number;
  /** Global L2 norm of every gradient (dense weights and touched embedding rows). */
  gradNorm: number;
  /** Present when `withDiagnostics`: [B×N] matrices and the [B×D] positives, from the same forward pass. */
  host?: { sQV: Float32Array; sVV: Float32Array; hyper: Float32Array; itemEmb: Float32Array };
}

/** Adam moments of every tower parameter. */
interface TowerSlots {
  table: AdamSlot;
  dense: Record<keyof DenseParams, AdamSlot>;
}

/**
 * One optimisation step of the two-tower model: host-side embedding bags (sparse gradients), towers and
 * loss in tfjs, Adam on the host (lazy for embedding rows). Holds the optimizer state between steps.
 */
export class TwoTowerTrainer {
  readonly adam: Adam;
  private readonly slots = new Map<TowerParams, TowerSlots>();
  private readonly slotOf: Int32Array;

  constructor(readonly params: TwoTowerParams, private readonly loss: LossConfig, learningRate: number) {
    this.adam = new Adam({ learningRate });
    for (const { tower } of namedTowers(params)) {
      this.slots.set(tower, {
        table: new AdamSlot(tower.table.length),
        dense: {
          w1: new AdamSlot(tower.dense.w1.length),
          b1: new AdamSlot(tower.dense.b1.length),
          w2: new AdamSlot(tower.dense.w2.length),
          b2: new AdamSlot(tower.dense.b2.length),
        },
      });
    }
    this.slotOf = new Int32Array(params.dims.vocab).fill(-1);
  }

  /** Runs forward + backward on a batch and applies the update. Leaves no tensors behind. */
  step(batch: Batch, withDiagnostics: boolean): StepResult {
    const { dims: d, query: qt, item: it } = this.params;
    const { B, N } = batch;
    const bagQ = bagForward(qt.table, d.embed, batch.queryFeats);
    const bagI = bagForward(it.table, d.embed, batch.itemFeats);

    const out = tf.tidy(() => {
      const qw = denseTensors(qt.dense, d);
      const iw = this.params.shared ? qw : denseTensors(it.dense, d);
      const weights = this.params.shared ? DENSE_KEYS.map((k) => qw[k]) : [...DENSE_KEYS.map((k) => qw[k]), ...DENSE_KEYS.map((k) => iw[k])];
      const mask = tf.tensor2d(batch.negMask, [B, N]);
      let kept: tf.Tensor[] = [];
      let parts: tf.Scalar[] = [];
      const f = (...args: tf.Tensor[]): tf.Scalar => {
        const [bq, bi, ...ws] = args;
        const wq = Object.fromEntries(DENSE_KEYS.map((k, i) => [k, ws[i]])) as typeof qw;
        const wi = this.params.shared ? wq : (Object.fromEntries(DENSE_KEYS.map((k, i) => [k, ws[4 + i]])) as typeof qw);
        const q = towerForward(bq as tf.Tensor2D, wq);
        const items = towerForward(bi as tf.Tensor2D, wi);
        const v = tf.slice(items, [0, 0], [B, d.out]) as tf.Tensor2D;
        const o = computeLoss({ q, v, items, negMask: mask }, this.loss);
        parts = [tf.keep(o.lossQ), tf.keep(o.lossSym)];
        if (withDiagnostics) kept = [tf.keep(o.sQV), tf.keep(o.sVV), tf.keep(o.hyper), tf.keep(v)];
        return o.loss;
      };
      const { value, grads } = tf.valueAndGrads(f)([tf.tensor2d(bagQ, [B, d.embed]), tf.tensor2d(bagI, [N, d.embed]), ...weights]);
      const hostGrads = grads.map((g) => g.dataSync() as Float32Array);
      const host = withDiagnostics
        ? { sQV: kept[0].dataSync() as Float32Array, sVV: kept[1].dataSync() as Float32Array, hyper: kept[2].dataSync() as Float32Array, itemEmb: kept[3].dataSync() as Float32Array }
        : undefined;
      const scalars = { loss: value.dataSync()[0], lossQ: parts[0].dataSync()[0], lossSym: parts[1].dataSync()[0] };
      [...kept, ...parts].forEach((t) => t.dispose());
      return { hostGrads, host, scalars };
    });

    const [gBagQ, gBagI, ...gDense] = out.hostGrads;
    const rowsQ = bagBackward(gBagQ, d.embed, batch.queryFeats, this.slotOf);
    const rowsI = this.params.shared ? undefined : bagBackward(gBagI, d.embed, batch.itemFeats, this.slotOf);
    // With shared towers both bags index the same table: merge their row gradients.
    const tableGrads = this.params.shared ? [mergeRows(rowsQ, bagBackward(gBagI, d.embed, batch.itemFeats, this.slotOf), d.embed, this.slotOf)] : [rowsQ, rowsI!];
    const gradNorm = Math.sqrt([...gDense, ...tableGrads.map((r) => r.grads)].reduce((s, g) => s + sumSquares(g), 0));

    if (Number.isFinite(out.scalars.loss) && Number.isFinite(gradNorm)) {
      this.adam.beginStep();
      namedTowers(this.params).forEach(({ tower }, t) => {
        const slots = this.slots.get(tower)!;
        DENSE_KEYS.forEach((k, i) => this.adam.updateDense(tower.dense[k], gDense[4 * t + i], slots.dense[k]));
        this.adam.updateRows(tower.table, d.embed, tableGrads[t].rows, tableGrads[t].grads, slots.table);
      });
    }
    return { ...out.scalars, gradNorm, host: out.host };
  }
}

function sumSquares(a: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * a[i];
  return s;
}

/** Sums two sparse row-gradient sets over the same table. */
function mergeRows(a: SparseRowGrads, b: SparseRowGrads, dim: number, slotOf: Int32Array): SparseRowGrads {
  const rows: number[] = Array.from(a.rows);
  a.rows.forEach((r, k) => (slotOf[r] = k));
  b.rows.forEach((r) => {
    if (slotOf[r] < 0) {
      slotOf[r] = rows.length;
      rows.push(r);
    }
  });
  const grads = new Float32Array(rows.length * dim);
  grads.set(a.grads);
  b.rows.forEach((r, k) => {
    const s = slotOf[r] * dim;
    for (let x = 0; x < dim; x++) grads[s + x] += b.grads[k * dim + x];
  });
  for (const r of rows) slotOf[r] = -1;
  return { rows: Int32Array.from(rows), grads };
}
