import { normaliseText } from '../data/itemId';
import { words } from '../model/featurize';
import type { TriageLabel } from './types';

export interface TriageThresholds {
  /** s(v, v̂) at or above this: near-duplicate. */
  nearDuplicate: number;
  /** max − min of the top-k scores below this: collapsed neighbourhood. */
  collapsedSpread: number;
}

export interface TriageInput {
  query: string;
  positiveText: string;
  /** Retrieved items that are not relevant: id, text, s(v, item). */
  retrieved: { id: string; text: string; simToPositive: number; relevant: boolean }[];
  /** s(q, item) of the top-k, best first. */
  topScores: number[];
}

/**
 * Why a query failed, first matching rule wins:
 * 1. near-duplicate — a retrieved, non-relevant item is almost the positive: s(v, v̂) ≥ nearDuplicate, or the
 *    same normalised text (likely a missing label: a false negative);
 * 2. collapsed-neighbourhood — the top-k scores are nearly equal: max − min < collapsedSpread;
 * 3. missing-terms — no query word appears among the positive's words;
 * 4. ranked-low — none of the above.
 */
export function triage(x: TriageInput, t: TriageThresholds): { label: TriageLabel; reason: string } {
  const posNorm = normaliseText(x.positiveText);
  for (const r of x.retrieved) {
    if (r.relevant) continue;
    if (normaliseText(r.text) === posNorm) return { label: 'near-duplicate', reason: `${r.id} has the same normalised text as the positive` };
  }
  const closest = x.retrieved.filter((r) => !r.relevant).sort((a, b) => b.simToPositive - a.simToPositive)[0];
  if (closest && closest.simToPositive >= t.nearDuplicate) {
    return { label: 'near-duplicate', reason: `s(v, v̂) ${closest.simToPositive.toFixed(3)} ≥ ${t.nearDuplicate} for ${closest.id}` };
  }
  if (x.topScores.length > 1) {
    const spread = Math.max(...x.topScores) - Math.min(...x.topScores);
    if (spread < t.collapsedSpread) return { label: 'collapsed-neighbourhood', reason: `top-${x.topScores.length} scores spread ${spread.toFixed(4)} < ${t.collapsedSpread}` };
  }
  const posWords = new Set(words(x.positiveText));
  const qWords = words(x.query);
  if (qWords.length > 0 && !qWords.some((w) => posWords.has(w))) {
    return { label: 'missing-terms', reason: `none of the query words (${qWords.slice(0, 6).join(', ')}) appears in the positive` };
  }
  return { label: 'ranked-low', reason: 'the positive scores below the top-k without a more specific cause' };
}
