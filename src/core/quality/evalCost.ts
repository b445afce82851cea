/**
 * The expected cost of one held-out evaluation before any was measured: the item tower featurizes and encodes a
 * probe of up to 512 sample items, once untimed (the backend's first calls compile and allocate) and then
 * PASSES times, keeping the fastest pass (a pass shares the core with the process's other threads — garbage
 * collection after loading the data — and timed once, cold, the probe said 6.2–8.6 s for pycode evaluations that
 * took ≈ 1.5 s on one core: no evaluation fitted before the last step). The time per item is scaled to the
 * sample's items plus queries (× 1.2 for the exact search and scoring). It only places the first "auto"
 * evaluation; from then on the measured time of the slowest evaluation is used.
 */
import type { ModelConfig } from '../config/types';
import type { EvalData } from '../eval/evalData';
import { encodeFeatures } from '../model/encode';
import { featurize, featurizeOptions } from '../model/featurize';
import type { TwoTowerParams } from '../model/params';

const PROBE = 512;
/** Timed passes over the probe; the fastest counts. */
const PASSES = 3;

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
  let fastest = Infinity;
  for (let pass = 0; pass < PASSES; pass++) {
    const t0 = performance.now();
    encode(items);
    fastest = Math.min(fastest, performance.now() - t0);
  }
  const perItem = fastest / rows.length;
  return perItem * (data.corpus.count + data.queries.length) * 1.2;
}
