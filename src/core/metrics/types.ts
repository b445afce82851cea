/**
 * Schemas and types of the per-step diagnostics (TypeBox: one definition gives the TypeScript type and the
 * runtime check). They are written verbatim into the `diagnostics` field of step events in
 * events.jsonl (docs/run-format.md §4.2) and streamed to the UI, so they are plain JSON.
 */
import { Type, type Static, type TNull, type TSchema, type TUnion } from '@sinclair/typebox';

/**
 * A measured number. JSON has no NaN/Infinity, so a non-finite value is written as null
 * (docs/run-format.md): the check accepts a finite number or null, and the static type is
 * `number | null` to match — every reader handles the null (a gap in a chart, "n/a" in a text).
 * Code that computes diagnostics in process may hold NaN; serialisation turns it into null.
 */
export const Measured = <T extends TSchema = ReturnType<typeof Type.Number>>(of?: T) =>
  Type.Union([of ?? Type.Number(), Type.Null()], { errorMessage: `must be ${of?.type === 'integer' ? 'an integer' : 'a number'} or null` }) as TUnion<
    [T, TNull]
  >;

/** A number that is null when undefined or non-finite (in the type too). */
export const NumberOrNull = (options: { errorMessage?: string } = {}) =>
  Type.Union([Type.Number(), Type.Null()], { errorMessage: 'must be a number or null', ...options });

/** The collapse verdict's states (docs/diagnostics.md, "Collapse verdict"). */
export const COLLAPSE_STATE_NAMES = ['initialising', 'healthy', 'warning', 'collapsing', 'collapsed', 'never-separated'] as const;
export const CollapseStateSchema = Type.Union(
  COLLAPSE_STATE_NAMES.map((s) => Type.Literal(s)),
  { errorMessage: `must be one of ${COLLAPSE_STATE_NAMES.join('|')}` },
);
export type CollapseState = Static<typeof CollapseStateSchema>;

/** Summary of a distribution of values, with a 32-bin histogram over a fixed range [lo, hi]. */
export const DistributionSummarySchema = Type.Object({
  count: Measured(Type.Integer({ minimum: 0 })),
  mean: Measured(),
  std: Measured(),
  min: Measured(),
  p05: Measured(),
  p25: Measured(),
  p50: Measured(),
  p75: Measured(),
  p95: Measured(),
  max: Measured(),
  /** counts.length === 32 as written; values below lo go to bin 0, above hi to bin 31. lo < hi (checked by stepEventProblem). */
  hist: Type.Object({
    lo: Type.Number(),
    hi: Type.Number(),
    counts: Type.Array(Type.Number({ minimum: 0 }), { minItems: 1, errorMessage: 'must be a non-empty array of counts' }),
  }),
});
export type DistributionSummary = Static<typeof DistributionSummarySchema>;
/** A summary as computed in process (summarizeDistribution): every statistic a finite number; null only in JSON read back. */
export type ComputedSummary = DistributionSummary & { [K in Exclude<keyof DistributionSummary, 'hist'>]: number };

export const CollapseIndicatorsSchema = Type.Object({
  /**
   * R = (1 − mean s(v,v⁻)) / (1 − mean s(q,v)) (event schema v2; v1 had mean s(q,v) / mean s(v,v⁻)).
   * null only when 1 − mean s(q,v) ≈ 0 or there is no valid negative; `ratioNote` says which.
   */
  ratio: NumberOrNull(),
  /** Why `ratio` is null; absent (or null) when R is defined. */
  ratioNote: Type.Optional(Type.Union([Type.String(), Type.Null()], { errorMessage: 'must be a string or null' })),
  /** gap = mean s(q,v) − mean s(v,v⁻). */
  gap: Measured(),
  /** Share of valid (j,i) pairs with s(q_j,v_j) <= s(v_j,v_i). */
  violationRate: Measured(),
  /** Mean off-diagonal cosine among the batch's positive items v. */
  itemCosine: Measured(),
  /** log mean_{x≠y} exp(−2‖x−y‖²) over the batch's positive items. */
  uniformity: Measured(),
  /** Mean over dimensions of the per-dimension std of the batch's positive items. */
  dimStd: Measured(),
  /** exp(entropy of normalised singular values) of the item batch; null on steps where it is not computed. */
  effectiveRank: NumberOrNull(),
});
export type CollapseIndicators = Static<typeof CollapseIndicatorsSchema>;

const SummaryOrNull = Type.Union([DistributionSummarySchema, Type.Null()]);

export const StepDiagnosticsSchema = Type.Object({
  dist: Type.Object({
    /** δ_ji over valid pairs; null for softmax losses. */
    delta: SummaryOrNull,
    /** τ_ji over valid pairs; null for margin losses. */
    tau: SummaryOrNull,
    /** s(q_j, v_j), one per pair. */
    sQV: DistributionSummarySchema,
    /** s(q_j, v_i) over valid negatives. */
    sQNeg: DistributionSummarySchema,
    /** s(v_j, v_i) over valid negatives. */
    sVNeg: DistributionSummarySchema,
  }),
  collapse: CollapseIndicatorsSchema,
  /** In-batch recall@k: share of pairs whose positive ranks in the top k among {v_j} ∪ N(j) by s(q_j,·). */
  recall: Type.Object({
    at1: Measured(),
    at5: Measured(),
    at10: Measured(),
    /** Pairs left out of recall because they had no valid negative (absent in runs written before). */
    excludedRows: Type.Optional(Type.Integer({ minimum: 0 })),
  }),
});
export type StepDiagnostics = Static<typeof StepDiagnosticsSchema>;
/**
 * Diagnostics as computeStepDiagnostics returns them in process: every measured number is finite
 * (a NaN or ±Infinity in a used value fails the step instead); R and the effective rank stay
 * `number | null` as in the schema. Everything read back from events.jsonl is a StepDiagnostics.
 */
export type ComputedStepDiagnostics = StepDiagnostics & {
  dist: { delta: ComputedSummary | null; tau: ComputedSummary | null; sQV: ComputedSummary; sQNeg: ComputedSummary; sVNeg: ComputedSummary };
  collapse: { gap: number; violationRate: number; itemCosine: number; uniformity: number; dimStd: number };
  recall: { at1: number; at5: number; at10: number };
};

export const CollapseVerdictSchema = Type.Object({
  state: CollapseStateSchema,
  /** Human-readable reason naming the indicator and threshold, e.g. "item cosine 0.93 > 0.90 for 3 logged steps". */
  reason: Type.String(),
});
export type CollapseVerdict = Static<typeof CollapseVerdictSchema>;
