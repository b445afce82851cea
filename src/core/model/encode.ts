import * as tf from '@tensorflow/tfjs';
import { bagForward } from './embeddingBag';
import { towerInputDim, type TwoTowerParams } from './params';
import { queryBagSeqs, queryTowerInput } from './towers';
import { denseTensors, headsOf, towerForward } from './towerForward';

/**
 * Embeds featurised texts with one tower, in batches; returns [n × out] L2-normalised rows ([n × K·out], K unit
 * vectors per text, for a DPSR query tower of K heads: towers/dpsr.ts).
 * `onProgress(done, total)` is called after each batch. Query features are the query preset's (towers/index.ts).
 */
export function encodeFeatures(
  params: TwoTowerParams,
  tower: 'query' | 'item',
  feats: Int32Array[],
  opts: { batchSize?: number; onProgress?: (done: number, total: number) => void } = {},
): Float32Array {
  const d = params.dims;
  const p = tower === 'query' ? params.query : params.item;
  const batch = opts.batchSize ?? 1024;
  const K = headsOf(p.dense, d);
  const width = K * d.out;
  const out = new Float32Array(feats.length * width);
  const preset = tower === 'query' ? (params.preset ?? 'dssm') : 'dssm';
  const inDim = towerInputDim(params, tower);
  const w = denseTensors(p.dense, { ...d, embed: inDim });
  try {
    for (let start = 0; start < feats.length; start += batch) {
      const part = feats.slice(start, start + batch);
      const bags = bagForward(p.table, d.embed, queryBagSeqs(preset, part));
      const x = queryTowerInput(preset, bags, part.length, d.embed);
      // dataSync outside tf.tidy: tidy would walk a returned typed array element by element.
      const t = tf.tidy(() => towerForward(tf.tensor2d(x, [part.length, inDim]), w, K));
      out.set(t.dataSync() as Float32Array, start * width);
      t.dispose();
      opts.onProgress?.(Math.min(start + batch, feats.length), feats.length);
    }
  } finally {
    Object.values(w).forEach((t) => t.dispose());
  }
  return out;
}
