/**
 * The per-step series the dashboard charts: an id, how to read it from a step event and how to
 * decimate it for display. Every number of a step event may be null (non-finite values are written
 * as null, docs/run-format.md); a null reads as NaN, a gap.
 */
import type { DistributionSummary } from '../../../core/metrics/types';
import type { StepEvent } from '../protocol';
import type { DecimationMode } from '../../shared/decimatedSeries';

/** Series read straight from step events. */
export const RAW_SERIES = [
  'hyper.p05',
  'hyper.p25',
  'hyper.p50',
  'hyper.p75',
  'hyper.p95',
  'sim.qv',
  'sim.vneg',
  'sim.qv.p05',
  'sim.qv.p95',
  'sim.vneg.p05',
  'sim.vneg.p95',
  'collapse.ratio',
  'collapse.violationRate',
  'collapse.itemCosine',
  'loss.total',
  'loss.q',
  'loss.sym',
  'recall.at1',
  'recall.at5',
  'recall.at10',
  // Logged but formerly not drawn (issue 19): optimiser and throughput, and the effective rank.
  'train.gradNorm',
  'train.lr',
  'train.stepsPerSec',
  'collapse.effectiveRank',
  'falseNegatives.share',
] as const;
export type RawSeriesId = (typeof RAW_SERIES)[number];

/** Loss series that also get a smoothed twin (`<id>.smoothed`). */
export const SMOOTHED_SOURCES = ['loss.total', 'loss.q', 'loss.sym'] as const;
export type SmoothedSourceId = (typeof SMOOTHED_SOURCES)[number];
export type SmoothedSeriesId = `${SmoothedSourceId}.smoothed`;

export type SeriesId = RawSeriesId | SmoothedSeriesId;

export const SMOOTHED_SERIES: readonly SmoothedSeriesId[] = SMOOTHED_SOURCES.map((s) => `${s}.smoothed` as const);
export const ALL_SERIES: readonly SeriesId[] = [...RAW_SERIES, ...SMOOTHED_SERIES];

/** A number or NaN for null / missing. */
function num(x: number | null | undefined): number {
  return typeof x === 'number' && Number.isFinite(x) ? x : NaN;
}

/** Which adaptive hyper-parameter a step carries: δ (margin loss), τ (softmax loss) or neither. */
export type HyperKind = 'delta' | 'tau';

/** The δ or τ distribution of a step (whichever is not null), with its kind. */
export function hyperOf(e: StepEvent): { kind: HyperKind; dist: DistributionSummary } | null {
  const { delta, tau } = e.diagnostics.dist;
  if (delta) return { kind: 'delta', dist: delta };
  if (tau) return { kind: 'tau', dist: tau };
  return null;
}

/** A statistic of a distribution, NaN (a gap: "no values") when it summarises no values. */
function stat(d: DistributionSummary | null | undefined, s: keyof Omit<DistributionSummary, 'hist'>): number {
  return d && d.count !== null && d.count > 0 ? num(d[s]) : NaN;
}

function hyperStat(s: 'p05' | 'p25' | 'p50' | 'p75' | 'p95'): (e: StepEvent) => number {
  return (e) => stat(hyperOf(e)?.dist, s);
}

/** How each raw series is read from a step event. */
export const EXTRACT: Readonly<Record<RawSeriesId, (e: StepEvent) => number>> = {
  'hyper.p05': hyperStat('p05'),
  'hyper.p25': hyperStat('p25'),
  'hyper.p50': hyperStat('p50'),
  'hyper.p75': hyperStat('p75'),
  'hyper.p95': hyperStat('p95'),
  'sim.qv': (e) => stat(e.diagnostics.dist.sQV, 'mean'),
  'sim.vneg': (e) => stat(e.diagnostics.dist.sVNeg, 'mean'),
  'sim.qv.p05': (e) => stat(e.diagnostics.dist.sQV, 'p05'),
  'sim.qv.p95': (e) => stat(e.diagnostics.dist.sQV, 'p95'),
  'sim.vneg.p05': (e) => stat(e.diagnostics.dist.sVNeg, 'p05'),
  'sim.vneg.p95': (e) => stat(e.diagnostics.dist.sVNeg, 'p95'),
  'collapse.ratio': (e) => num(e.diagnostics.collapse.ratio),
  'collapse.violationRate': (e) => num(e.diagnostics.collapse.violationRate),
  'collapse.itemCosine': (e) => num(e.diagnostics.collapse.itemCosine),
  'loss.total': (e) => num(e.loss),
  'loss.q': (e) => num(e.lossQ),
  'loss.sym': (e) => num(e.lossSym),
  'recall.at1': (e) => num(e.diagnostics.recall.at1),
  'recall.at5': (e) => num(e.diagnostics.recall.at5),
  'recall.at10': (e) => num(e.diagnostics.recall.at10),
  'train.gradNorm': (e) => num(e.gradNorm),
  'train.lr': (e) => num(e.lr),
  // steps/s of this step alone: 1000 / its wall-clock duration (a gap when the duration is missing or 0)
  'train.stepsPerSec': (e) => (typeof e.stepMs === 'number' && e.stepMs > 0 ? 1000 / e.stepMs : NaN),
  'collapse.effectiveRank': (e) => num(e.diagnostics.collapse.effectiveRank),
  // Share of valid negatives suspected false negatives (step samples, issue 25); a gap in runs without it.
  'falseNegatives.share': (e) => num(e.suspectedFalseNegatives?.share),
};

/** Decimation of each series: band edges keep their envelope, every line its min and max. */
export function decimationMode(id: SeriesId): DecimationMode {
  if (id === 'hyper.p05' || id === 'hyper.p25' || id === 'sim.qv.p05' || id === 'sim.vneg.p05') return 'min';
  if (id === 'hyper.p75' || id === 'hyper.p95' || id === 'sim.qv.p95' || id === 'sim.vneg.p95') return 'max';
  return 'minmax';
}
