/**
 * The expected cost of one held-out evaluation before any was measured: the item tower featurizes and encodes a
 * probe of up to 512 sample items twice and times the second pass (the backend's first calls compile and
 * allocate: timed cold, the probe said 7.3–8.6 s for pycode evaluations that took ≈ 1.5 s on one
 * core, and no evaluation fitted before the last step), and the time per item is scaled to the sample's items plus
 * queries (× 1.2 for the exact search and scoring). It only places the first "auto" evaluation; from then on the
 * measured time of the slowest evaluation is used.
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
  const encode = (texts: { text: string }[]) =>
    encodeFeatures(
      params,
      'item',
      texts.map((it) => featurize(it.text, opts)),
    );
  encode(items); // untimed warm-up
  const t0 = performance.now();
  encode(items);
  const perItem = (performance.now() - t0) / rows.length;
  return perItem * (data.corpus.count + data.queries.length) * 1.2;
}
