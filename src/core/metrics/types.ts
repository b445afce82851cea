/**
 * Types of the per-step diagnostics. They are written verbatim into the `diagnostics` field of
 * step events in events.jsonl (see docs/run-format.md) and streamed to the UI, so keep them plain JSON.
 */

/** Summary of a distribution of values, with a 32-bin histogram over a fixed range [lo, hi]. */
export interface DistributionSummary {
  count: number;
  mean: number;
  std: number;
  min: number;
  p05: number;
  p25: number;
  p50: number;
  p75: number;
  p95: number;
  max: number;
  /** counts.length === 32; values below lo go to bin 0, above hi to bin 31. */
  hist: { lo: number; hi: number; counts: number[] };
}

/** The collapse verdict's states (docs/diagnostics.md, "Collapse verdict"). */
export type CollapseState = 'initialising' | 'healthy' | 'warning' | 'collapsing' | 'collapsed' | 'never-separated';

export interface CollapseIndicators {
  /**
   * R = (1 − mean s(v,v⁻)) / (1 − mean s(q,v)) (event schema v2; v1 had mean s(q,v) / mean s(v,v⁻)).
   * null only when 1 − mean s(q,v) ≈ 0 or there is no valid negative; `ratioNote` says which.
   */
  ratio: number | null;
  /** Why `ratio` is null; absent (or null) when R is defined. */
  ratioNote?: string | null;
  /** gap = mean s(q,v) − mean s(v,v⁻). */
  gap: number;
  /** Share of valid (j,i) pairs with s(q_j,v_j) <= s(v_j,v_i). */
  violationRate: number;
  /** Mean off-diagonal cosine among the batch's positive items v. */
  itemCosine: number;
  /** log mean_{x≠y} exp(−2‖x−y‖²) over the batch's positive items. */
  uniformity: number;
  /** Mean over dimensions of the per-dimension std of the batch's positive items. */
  dimStd: number;
  /** exp(entropy of normalised singular values) of the item batch; null on steps where it is not computed. */
  effectiveRank: number | null;
}

export interface StepDiagnostics {
  dist: {
    /** δ_ji over valid pairs; null for softmax losses. */
    delta: DistributionSummary | null;
    /** τ_ji over valid pairs; null for margin losses. */
    tau: DistributionSummary | null;
    /** s(q_j, v_j), one per pair. */
    sQV: DistributionSummary;
    /** s(q_j, v_i) over valid negatives. */
    sQNeg: DistributionSummary;
    /** s(v_j, v_i) over valid negatives. */
    sVNeg: DistributionSummary;
  };
  collapse: CollapseIndicators;
  /** In-batch recall@k: share of pairs whose positive ranks in the top k among {v_j} ∪ N(j) by s(q_j,·). */
  recall: {
    at1: number;
    at5: number;
    at10: number;
    /** Pairs left out of recall because they had no valid negative (absent in runs written before). */
    excludedRows?: number;
  };
}

export interface CollapseVerdict {
  state: CollapseState;
  /** Human-readable reason naming the indicator and threshold, e.g. "item cosine 0.93 > 0.90 for 3 logged steps". */
  reason: string;
}
