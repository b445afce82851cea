/**
 * The expected cost of one held-out evaluation before any was measured: the item tower encodes a probe of
 * up to 512 sample items, and the time per item is scaled to the sample's items plus queries (× 1.2 for
 * the exact search and scoring). It only places the first "auto" evaluation; from then on the measured
 * time of the latest evaluation is used.
 */
import type { ModelConfig } from '../config/types';
import type { EvalData } from '../eval/evalData';
import { encodeFeatures } from '../model/encode';
import { featurize, featurizeOptions } from '../model/featurize';
import type { TwoTowerParams } from '../model/params';

const PROBE = 512;

export async function estimateEvalMs(params: TwoTowerParams, model: ModelConfig, data: EvalData): Promise<number> {
  const rows = Array.from({ length: Math.min(PROBE, data.corpus.count) }, (_, r) => r);
  if (rows.length === 0) return 0;
  const items = await data.corpus.items(rows);
  const opts = featurizeOptions(model, 'item');
  const t0 = performance.now();
  encodeFeatures(
    params,
    'item',
    items.map((it) => featurize(it.text, opts)),
  );
  const perItem = (performance.now() - t0) / rows.length;
  return perItem * (data.corpus.count + data.queries.length) * 1.2;
}
