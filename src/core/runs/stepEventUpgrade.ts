/**
 * Reading step events written with an older event schema: v1 stored R = mean s(q,v) / mean s(v,v⁻)
 * (null when mean s(v,v⁻) ≤ 0.05); v2 defines R = (1 − mean s(v,v⁻)) / (1 − mean s(q,v)). A v1
 * step event is read with R recomputed from its stored means, and the stored value kept, labelled,
 * as `collapse.ratioV1`. The v1 verdict states are a subset of v2's.
 */
import { isPlainObject } from '../jsonGuards';
import { similarityRatio } from '../metrics/similarityRatio';

/** Recompute R of a v1 step event in place (no-op for other versions or when the means are missing). */
export function upgradeStepEvent(o: Record<string, unknown>): void {
  if (o.v !== 1 || o.type !== 'step') return;
  const d = o.diagnostics;
  if (!isPlainObject(d) || !isPlainObject(d.dist) || !isPlainObject(d.collapse)) return;
  const qv = d.dist.sQV;
  const vneg = d.dist.sVNeg;
  if (!isPlainObject(qv) || !isPlainObject(vneg) || typeof qv.mean !== 'number' || typeof vneg.mean !== 'number') return;
  const collapse = d.collapse as Record<string, unknown>;
  if (!('ratioV1' in collapse)) collapse.ratioV1 = collapse.ratio ?? null;
  const r = similarityRatio(qv.mean, vneg.mean, typeof vneg.count === 'number' ? vneg.count : 1);
  collapse.ratio = r.ratio;
  collapse.ratioNote = r.note;
}
