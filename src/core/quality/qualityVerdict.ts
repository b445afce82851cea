/**
 * The quality verdict: beside the collapse verdict (is the geometry healthy?), is the model getting good at
 * the real task, compared with the obvious baseline? Judged after each live held-out evaluation from the
 * held-out exact recall@10 so far, BM25's recall@10 on the same sample, and the smoothed in-batch recall@10.
 * First matching rule wins:
 *
 * The window is the last K = 3 evaluations (while there are at most K, all but the first); "rising" means the
 * best held-out recall@10 in the window exceeds the best before it by more than 0.005 (one noisy low value
 * does not end "learning", one noisy high value does not start it for long).
 *
 * 1. saturated      in-batch recall@10 ≥ 0.99 while the latest held-out recall@10 ≤ in-batch − 0.25: the in-batch
 *                   task is solved, so its negatives no longer teach much (harder negatives, a larger batch, more data).
 * 2. below-lexical  the window's best held-out recall@10 < BM25 recall@10 − 0.02, and not rising (≥ 2 evaluations).
 * 3. learning       rising.
 * 4. plateau        more than K evaluations and not rising (the reason says when recall fell from its best).
 * 5. measuring      otherwise (one evaluation, or too few for a trend).
 *
 * Each state carries the remedies worth trying (qualityRemedies.ts turns them into config edits).
 */
import { Type, type Static } from '@sinclair/typebox';

export const QUALITY_STATE_NAMES = ['measuring', 'learning', 'plateau', 'saturated', 'below-lexical'] as const;
export type QualityState = (typeof QUALITY_STATE_NAMES)[number];

export const QUALITY_REMEDY_IDS = ['hard-negatives', 'larger-batch', 'more-steps'] as const;
export type QualityRemedyId = (typeof QUALITY_REMEDY_IDS)[number];

export const QualityVerdictSchema = Type.Object({
  state: Type.Union(
    QUALITY_STATE_NAMES.map((s) => Type.Literal(s)),
    { errorMessage: `must be one of ${QUALITY_STATE_NAMES.join('|')}` },
  ),
  /** Why, naming the values, e.g. "in-batch recall@10 1.00 ≥ 0.99 while held-out recall@10 is 0.40". */
  reason: Type.String(),
  /** Remedies worth trying, most promising first (each a config edit; see qualityRemedies.ts). */
  remedies: Type.Array(
    Type.Union(
      QUALITY_REMEDY_IDS.map((s) => Type.Literal(s)),
      { errorMessage: `must be one of ${QUALITY_REMEDY_IDS.join('|')}` },
    ),
  ),
});
export type QualityVerdict = Static<typeof QualityVerdictSchema>;

/** The thresholds of the rules (module comment). */
export const QUALITY_THRESHOLDS = {
  saturatedInBatch: 0.99,
  farBelow: 0.25,
  lexicalMargin: 0.02,
  plateauWindow: 3,
  minGain: 0.005,
} as const;

export interface QualityInput {
  /** Held-out exact recall@10 of every evaluation so far, in step order. */
  heldOut: readonly number[];
  /** BM25 recall@10 on the same sample (null: not computed). */
  bm25: number | null;
  /** Smoothed in-batch recall@10 at the latest evaluation (null: no logged step yet). */
  inBatch: number | null;
}

const f2 = (x: number) => x.toFixed(2);

/** The verdict after the latest evaluation of `input.heldOut` (at least one). */
export function qualityVerdict(input: QualityInput): QualityVerdict {
  const T = QUALITY_THRESHOLDS;
  const h = input.heldOut;
  if (h.length === 0) throw new Error('qualityVerdict: no held-out evaluation');
  const now = h[h.length - 1];
  // The window: the last K evaluations (fewer while there are at most K), against the best before it.
  const w = Math.min(T.plateauWindow, h.length - 1);
  const recent = w > 0 ? Math.max(...h.slice(-w)) : now;
  const before = w > 0 ? Math.max(...h.slice(0, -w)) : null;
  const best = Math.max(...h);
  const rising = before !== null && recent > before + T.minGain;
  const vsBm25 = input.bm25 === null ? '' : ` (BM25 ${f2(input.bm25)})`;
  const fell = now < best - 2 * T.lexicalMargin ? `; it fell to ${f2(now)} from its best ${f2(best)}` : '';
  if (input.inBatch !== null && input.inBatch >= T.saturatedInBatch && now <= input.inBatch - T.farBelow) {
    return {
      state: 'saturated',
      reason: `in-batch task saturated: in-batch recall@10 ${f2(input.inBatch)} ≥ ${T.saturatedInBatch} while held-out recall@10 is ${f2(now)}${vsBm25}; the in-batch negatives are too easy to teach more`,
      remedies: ['hard-negatives', 'larger-batch', 'more-steps'],
    };
  }
  if (input.bm25 !== null && before !== null && recent < input.bm25 - T.lexicalMargin && !rising) {
    return {
      state: 'below-lexical',
      reason: `below the lexical baseline: held-out recall@10 ${f2(recent)} (best of the last ${w} evaluation${w === 1 ? '' : 's'}) < BM25 ${f2(input.bm25)} − ${T.lexicalMargin}, not rising${fell}`,
      remedies: ['hard-negatives', 'more-steps', 'larger-batch'],
    };
  }
  if (rising) {
    return {
      state: 'learning',
      reason: `learning: held-out recall@10 reached ${f2(recent)} in the last ${w} evaluation${w === 1 ? '' : 's'}, up from ${f2(before!)}${vsBm25}`,
      remedies: ['more-steps'],
    };
  }
  if (h.length > T.plateauWindow) {
    return {
      state: 'plateau',
      reason: `plateau: held-out recall@10 gained ${f2(recent - before!)} (≤ ${T.minGain}) over the last ${w} evaluations (best ${f2(recent)}, before them ${f2(before!)})${vsBm25}${fell}`,
      remedies: ['hard-negatives', 'larger-batch'],
    };
  }
  return {
    state: 'measuring',
    reason:
      before === null
        ? `first held-out evaluation: recall@10 ${f2(now)}${vsBm25}; the trend needs more`
        : `held-out recall@10 ${f2(now)} (best ${f2(best)})${vsBm25}: no trend over ${h.length} evaluations yet`,
    remedies: [],
  };
}
