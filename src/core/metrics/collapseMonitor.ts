/**
 * The collapse verdict: a state machine over the collapse indicators of consecutive logged steps,
 * judged with levels AND trends. States, rules and defaults (with the measurements behind them):
 * docs/diagnostics.md ("Collapse verdict").
 *
 * - initialising: the towers have not separated items from positives yet (R has never reached
 *   `separatedRatio`). A fresh model maps all items close together, and in healthy runs the item
 *   cosine even spikes to ≈ 0.99 over the first steps; that is not collapse while R is climbing.
 * - collapsing: the collapse signature (item cosine > `collapsedItemCosine` AND R < 1: items
 *   closer to each other than queries to their positives) has held for `windowSteps` steps without
 *   progress (R did not grow by `progressFactor` and the violation rate did not fall by
 *   `progressViolationDrop` over the window); after separation, the signature for `warningSteps`
 *   logged steps, or two warning rules at once.
 * - collapsed: collapsing for `collapsedSteps` consecutive logged steps with the signature holding.
 * - warning (after separation): a trend away from the best values since separation held for
 *   `warningSteps` logged steps: item cosine up by `cosineRise`, R down to within `ratioKeep` of
 *   its best excess over 1, violation rate up by `violationRise`, or a low effective rank.
 * - never separated: still initialising after `neverSeparatedSteps` steps.
 * - healthy: separated and no rule holds.
 */
import type { CollapseState, CollapseVerdict, StepDiagnostics } from './types';

/** The thresholds and windows of the verdict (config: `diagnostics.collapse.*`). */
export interface CollapseThresholds {
  /** Separation is reached the first time R >= this. */
  separatedRatio: number;
  /** Collapse signature: item cosine > this (and R < 1). */
  collapsedItemCosine: number;
  /** Training steps the signature must hold, without progress, before "collapsing" (before separation). */
  windowSteps: number;
  /** Progress over the window: R grew by at least this factor (R now / lowest R in the window) … */
  progressFactor: number;
  /** … or the violation rate fell by at least this much (highest in the window − now). */
  progressViolationDrop: number;
  /** "collapsed" once the run has been collapsing for this many consecutive logged steps (this one included) with the signature. */
  collapsedSteps: number;
  /** Consecutive logged steps a warning rule must hold (after separation). */
  warningSteps: number;
  /** Warning: item cosine >= best (lowest, since separation) + this. */
  cosineRise: number;
  /** Warning: R <= 1 + ratioKeep · (best R since separation − 1). */
  ratioKeep: number;
  /** Warning: violation rate >= best (lowest, since separation) + this. */
  violationRise: number;
  /** Warning: the latest effective rank of the item batch < this. */
  warningEffectiveRank: number;
  /** "never separated" after this many steps; null: max(100, ⌈total steps / 4⌉). */
  neverSeparatedSteps: number | null;
}

/** Defaults; see docs/diagnostics.md for the measurements behind them. */
export const DEFAULT_COLLAPSE_THRESHOLDS: Readonly<CollapseThresholds> = Object.freeze({
  separatedRatio: 1.5,
  collapsedItemCosine: 0.9,
  windowSteps: 20,
  progressFactor: 2,
  progressViolationDrop: 0.1,
  collapsedSteps: 2,
  warningSteps: 2,
  cosineRise: 0.25,
  ratioKeep: 0.3,
  violationRise: 0.15,
  warningEffectiveRank: 2,
  neverSeparatedSteps: null,
});

/**
 * The collapse thresholds named in `raw` (e.g. a run config's `diagnostics.collapse`): the known
 * keys with a number (or null for `neverSeparatedSteps`); anything else is left out.
 */
export function pickCollapseThresholds(raw: unknown): Partial<CollapseThresholds> {
  const out: Record<string, number | null> = {};
  if (typeof raw !== 'object' || raw === null) return out;
  const rec = raw as Record<string, unknown>;
  for (const key of Object.keys(DEFAULT_COLLAPSE_THRESHOLDS)) {
    const v = rec[key];
    if (typeof v === 'number' || (v === null && key === 'neverSeparatedSteps')) out[key] = v;
  }
  return out as Partial<CollapseThresholds>;
}

/** Reason of a healthy verdict when no rule holds. */
export const HEALTHY_REASON = 'separated; no indicator moving away from its best';

/** Display label of a state ("never-separated" reads "never separated"). */
export function stateLabel(s: CollapseState): string {
  return s === 'never-separated' ? 'never separated' : s;
}

/** Every state, mildest first (the order of severity used by notifications). */
export const COLLAPSE_STATES: readonly CollapseState[] = ['initialising', 'healthy', 'warning', 'never-separated', 'collapsing', 'collapsed'];

/** The default "never separated" step for a run of `totalSteps`. */
export function defaultNeverSeparatedSteps(totalSteps: number | null): number {
  return Math.max(100, Math.ceil((totalSteps ?? 400) / 4));
}

/** Two decimals; "n/a" for a value the step did not have (null: not finite, written as null). */
function fmt(x: number | null): string {
  return x === null || !Number.isFinite(x) ? 'n/a' : x.toFixed(2);
}
function fmtR(x: number | null): string {
  if (x === null) return 'n/a';
  return Math.abs(x) >= 0.1 ? x.toFixed(2) : x.toPrecision(2);
}

function checkThresholds(t: CollapseThresholds): void {
  for (const [key, value] of Object.entries(t)) {
    if (key === 'neverSeparatedSteps' && value === null) continue;
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw new RangeError(`CollapseThresholds.${key} must be a finite number, got ${String(value)}`);
    }
  }
  for (const key of ['collapsedSteps', 'warningSteps'] as const) {
    if (!Number.isInteger(t[key]) || t[key] < 1) throw new RangeError(`CollapseThresholds.${key} must be an integer >= 1, got ${t[key]}`);
  }
  if (!(t.windowSteps >= 1)) throw new RangeError(`CollapseThresholds.windowSteps must be >= 1, got ${t.windowSteps}`);
  if (!(t.progressFactor > 1)) throw new RangeError(`CollapseThresholds.progressFactor must be > 1, got ${t.progressFactor}`);
  if (!(t.separatedRatio > 1)) throw new RangeError(`CollapseThresholds.separatedRatio must be > 1, got ${t.separatedRatio}`);
}

/** One logged step as the monitor keeps it. */
interface Point {
  step: number;
  ratio: number | null;
  /** null when the step's value was not finite (a run read back from JSON): no rule on it holds. */
  itemCosine: number | null;
  violationRate: number | null;
  signature: boolean;
}

/** Median of up to three numbers (the smoothing of the best-so-far values), nulls left out; null when none. */
function median(xs: readonly (number | null)[]): number | null {
  const s = xs.filter((x): x is number => x !== null && Number.isFinite(x)).sort((a, b) => a - b);
  return s.length === 0 ? null : s[Math.floor(s.length / 2)];
}

/** The smaller of two values, a null standing for "no value". */
function minOf(a: number | null, b: number | null): number | null {
  return a === null ? b : b === null ? a : Math.min(a, b);
}

interface WarningRule {
  name: string;
  holds: boolean;
  text: string;
}

export interface CollapseMonitorOptions {
  /** Planned steps of the run (for the default `neverSeparatedSteps`). */
  totalSteps?: number | null;
}

/**
 * Turns the diagnostics of consecutive logged steps into a CollapseVerdict. Feed every logged
 * step, in order. See docs/diagnostics.md for the rules and the reason strings.
 */
export class CollapseMonitor {
  readonly thresholds: Readonly<CollapseThresholds>;
  /** The "never separated" step in effect (resolved from the run length when the threshold is null). */
  readonly neverSeparatedAt: number;
  private lastStep: number | null = null;
  private latestEffectiveRank: number | null = null;
  private readonly points: Point[] = [];
  /** Step from which the signature has held at every logged step; null when it does not hold now. */
  private signatureSince: number | null = null;
  private bestRatioBefore: number | null = null;
  private separatedAt: number | null = null;
  private best: { ratio: number; itemCosine: number | null; violationRate: number | null } | null = null;
  private readonly streaks = new Map<string, number>();
  private collapsingStreak = 0;
  private state: CollapseState = 'initialising';

  /** Missing thresholds take DEFAULT_COLLAPSE_THRESHOLDS; throws a RangeError on invalid values. */
  constructor(thresholds: Partial<CollapseThresholds> = {}, opts: CollapseMonitorOptions = {}) {
    const defined = Object.fromEntries(Object.entries(thresholds).filter(([, v]) => v !== undefined));
    const t: CollapseThresholds = { ...DEFAULT_COLLAPSE_THRESHOLDS, ...defined };
    checkThresholds(t);
    this.thresholds = Object.freeze(t);
    this.neverSeparatedAt = t.neverSeparatedSteps ?? defaultNeverSeparatedSteps(opts.totalSteps ?? null);
  }

  /** Step at which R first reached `separatedRatio`; null before. */
  get separatedStep(): number | null {
    return this.separatedAt;
  }

  /**
   * The best (lowest, smoothed as the median of 3 logged steps) violation rate since separation,
   * the base of the `violationRise` warning rule; null before separation.
   */
  get bestViolationRate(): number | null {
    return this.best?.violationRate ?? null;
  }

  /**
   * Verdict after the logged step `step` with diagnostics `diag`. Steps must increase strictly
   * (throws a RangeError otherwise).
   */
  update(diag: StepDiagnostics, step: number): CollapseVerdict {
    const point = this.observe(diag, step);
    const verdict = this.separatedAt === null ? this.beforeSeparation(point) : this.afterSeparation(point);
    this.collapsingStreak = verdict.state === 'collapsing' || verdict.state === 'collapsed' ? this.collapsingStreak + 1 : 0;
    this.state = verdict.state;
    return verdict;
  }

  /**
   * Track a logged step's separation and best values only (`separatedStep`, `bestViolationRate`)
   * without judging it: what the dashboard's threshold lines need, at a fraction of update()'s cost.
   * A monitor fed with track() gives no verdicts; don't mix the two on one monitor.
   */
  track(diag: StepDiagnostics, step: number): void {
    this.observe(diag, step);
  }

  /** Record a logged step: its point, the signature streak, separation and the best values. */
  private observe(diag: StepDiagnostics, step: number): Point {
    if (!Number.isFinite(step)) throw new RangeError(`CollapseMonitor.update: step must be a finite number, got ${step}`);
    if (this.lastStep !== null && step <= this.lastStep) {
      throw new RangeError(`CollapseMonitor.update: step ${step} must be after the previous logged step ${this.lastStep}`);
    }
    this.lastStep = step;
    const t = this.thresholds;
    const c = diag.collapse;
    if (c.effectiveRank !== null && c.effectiveRank !== undefined) this.latestEffectiveRank = c.effectiveRank;
    const ratio = typeof c.ratio === 'number' && Number.isFinite(c.ratio) ? c.ratio : null;
    const finite = (x: number | null) => (x !== null && Number.isFinite(x) ? x : null);
    const itemCosine = finite(c.itemCosine);
    const signature = ratio !== null && ratio < 1 && itemCosine !== null && itemCosine > t.collapsedItemCosine;
    const point: Point = { step, ratio, itemCosine, violationRate: finite(c.violationRate), signature };
    this.points.push(point);
    if (signature) this.signatureSince ??= step;
    else this.signatureSince = null;
    if (this.separatedAt === null && ratio !== null && ratio >= t.separatedRatio) this.separatedAt = step;
    if (this.separatedAt === null && ratio !== null) this.bestRatioBefore = Math.max(this.bestRatioBefore ?? -Infinity, ratio);
    this.trackBest();
    // Keep the points the window and the smoothing need.
    while (this.points.length > 3 && this.points[0].step < step - t.windowSteps) this.points.shift();
    return point;
  }

  /** Best (smoothed: median of the last three logged values) R, item cosine and violation rate since separation. */
  private trackBest(): void {
    if (this.separatedAt === null) return;
    const recent = this.points.filter((p) => p.step >= this.separatedAt!).slice(-3);
    const r = median(recent.map((p) => p.ratio));
    const cos = median(recent.map((p) => p.itemCosine));
    const viol = median(recent.map((p) => p.violationRate));
    if (this.best === null) this.best = { ratio: r ?? 1, itemCosine: cos, violationRate: viol };
    else {
      if (r !== null) this.best.ratio = Math.max(this.best.ratio, r);
      this.best.itemCosine = minOf(this.best.itemCosine, cos);
      this.best.violationRate = minOf(this.best.violationRate, viol);
    }
  }

  /** The signature held over the whole window, and the window shows no progress. */
  private stalled(p: Point): { stalled: boolean; text: string } | null {
    const t = this.thresholds;
    if (this.signatureSince === null || this.signatureSince > p.step - t.windowSteps) return null;
    const window = this.points.filter((q) => q.step >= p.step - t.windowSteps);
    const lowR = Math.min(...window.map((q) => q.ratio ?? Infinity));
    const viols = window.map((q) => q.violationRate).filter((v): v is number => v !== null);
    const highViol = viols.length > 0 ? Math.max(...viols) : null;
    const rising = p.ratio !== null && p.ratio >= t.progressFactor * lowR;
    const falling = highViol !== null && p.violationRate !== null && highViol - p.violationRate >= t.progressViolationDrop;
    const from = window[0].step;
    const text =
      `R ${fmtR(lowR)} → ${fmtR(p.ratio)} (×${p.ratio !== null && lowR > 0 ? (p.ratio / lowR).toFixed(2) : 'n/a'}, progress needs ×${fmt(t.progressFactor)}) ` +
      `and violation rate ${fmt(highViol)} → ${fmt(p.violationRate)} since step ${from}`;
    return { stalled: !rising && !falling, text };
  }

  private signatureText(p: Point): string {
    return `item cosine ${fmt(p.itemCosine)} > ${fmt(this.thresholds.collapsedItemCosine)} and R ${fmtR(p.ratio)} < 1 since step ${this.signatureSince}`;
  }

  /** collapsing → collapsed after `collapsedSteps` logged steps with the signature. */
  private collapseVerdict(p: Point, why: string): CollapseVerdict {
    const n = this.collapsingStreak + 1;
    if (p.signature && n >= this.thresholds.collapsedSteps) {
      return { state: 'collapsed', reason: `${why}; collapsing for ${n} logged steps` };
    }
    return { state: 'collapsing', reason: why };
  }

  private beforeSeparation(p: Point): CollapseVerdict {
    const t = this.thresholds;
    const stall = this.stalled(p);
    if (stall?.stalled) return this.collapseVerdict(p, `${this.signatureText(p)}, no progress: ${stall.text}`);
    const best = this.bestRatioBefore;
    const notYet = `not separated yet: R ${fmtR(p.ratio)} (best ${fmtR(best)}) < ${fmt(t.separatedRatio)}`;
    if (p.step >= this.neverSeparatedAt) {
      return { state: 'never-separated', reason: `${notYet} after ${p.step} steps (limit ${this.neverSeparatedAt})` };
    }
    if (p.signature) {
      const progress = stall ? `progress: ${stall.text}` : `watching for ${t.windowSteps} steps`;
      return { state: 'initialising', reason: `${notYet}; items bunched (${this.signatureText(p)}), ${progress}` };
    }
    return { state: 'initialising', reason: notYet };
  }

  private afterSeparation(p: Point): CollapseVerdict {
    const t = this.thresholds;
    const best = this.best!;
    const rules: WarningRule[] = [
      {
        name: 'cosine',
        holds: p.itemCosine !== null && best.itemCosine !== null && p.itemCosine >= best.itemCosine + t.cosineRise,
        text: `item cosine ${fmt(p.itemCosine)} up from its best ${fmt(best.itemCosine)} by > ${fmt(t.cosineRise)}`,
      },
      {
        name: 'ratio',
        holds: p.ratio !== null && p.ratio <= 1 + t.ratioKeep * (best.ratio - 1),
        text: `R ${fmtR(p.ratio)} fell toward 1 from its best ${fmtR(best.ratio)} (≤ ${fmtR(1 + t.ratioKeep * (best.ratio - 1))})`,
      },
      {
        name: 'violation',
        holds: p.violationRate !== null && best.violationRate !== null && p.violationRate >= best.violationRate + t.violationRise,
        text: `violation rate ${fmt(p.violationRate)} up from its best ${fmt(best.violationRate)} by > ${fmt(t.violationRise)}`,
      },
      {
        name: 'rank',
        holds: this.latestEffectiveRank !== null && this.latestEffectiveRank < t.warningEffectiveRank,
        text: `effective rank ${fmt(this.latestEffectiveRank ?? NaN)} < ${fmt(t.warningEffectiveRank)}`,
      },
      {
        name: 'signature',
        holds: p.signature,
        text: p.signature ? this.signatureText(p) : '',
      },
    ];
    const active: WarningRule[] = [];
    const pending: string[] = [];
    for (const r of rules) {
      const n = r.holds ? (this.streaks.get(r.name) ?? 0) + 1 : 0;
      this.streaks.set(r.name, n);
      if (n >= t.warningSteps) active.push(r);
      else if (n > 0) pending.push(`${r.text} for ${n} of ${t.warningSteps} logged steps`);
    }
    const describe = (rs: WarningRule[]) => rs.map((r) => `${r.text} for ${this.streaks.get(r.name)} logged steps`).join('; ');
    const signature = active.find((r) => r.name === 'signature');
    const trends = active.filter((r) => r.name !== 'signature');
    if (signature) return this.collapseVerdict(p, `separation lost after step ${this.separatedAt}: ${describe(active)}`);
    if (trends.length >= 2) return this.collapseVerdict(p, `separation being lost after step ${this.separatedAt}: ${describe(trends)}`);
    if (trends.length === 1) {
      return { state: 'warning', reason: [describe(trends), ...(pending.length ? [`pending: ${pending.join('; ')}`] : [])].join('; ') };
    }
    const reason = pending.length > 0 ? `pending: ${pending.join('; ')}` : `${HEALTHY_REASON} (separated at step ${this.separatedAt}, R ${fmtR(p.ratio)})`;
    return { state: 'healthy', reason };
  }
}
