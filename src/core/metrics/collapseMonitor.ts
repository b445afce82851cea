/**
 * The collapse verdict: a small state machine over the collapse indicators of consecutive logged
 * steps. A rule changes the state only after holding for a number of consecutive logged steps;
 * the state drops back as soon as no rule of that level holds any more. Rules and defaults are
 * documented in docs/diagnostics.md ("Collapse verdict").
 */
import type { CollapseState, CollapseVerdict, StepDiagnostics } from './types';

export interface CollapseThresholds {
  /** collapsed: item cosine > this … */
  collapsedItemCosine: number;
  /** collapsed: gap <= this and violation rate > collapsedViolationRate … */
  collapsedGap: number;
  collapsedViolationRate: number;
  /** … for this many consecutive logged steps. */
  collapsedSteps: number;
  /** warning: item cosine > this … */
  warningItemCosine: number;
  /** warning: R defined and R < this … */
  warningRatio: number;
  /** warning: violation rate > this … */
  warningViolationRate: number;
  /** … for this many consecutive logged steps. */
  warningSteps: number;
  /**
   * warning: effective rank of the item batch < this (the latest computed value is carried over the
   * logged steps where it is not computed): items squeezed into a few directions, e.g. two opposite
   * clusters, which the item cosine misses.
   */
  warningEffectiveRank: number;
  /** Logged steps with step < warmupSteps are reported healthy and do not count towards any rule. */
  warmupSteps: number;
}

/** Defaults; see docs/diagnostics.md for the reasoning. */
export const DEFAULT_COLLAPSE_THRESHOLDS: Readonly<CollapseThresholds> = Object.freeze({
  collapsedItemCosine: 0.9,
  collapsedGap: 0,
  collapsedViolationRate: 0.5,
  collapsedSteps: 3,
  warningItemCosine: 0.7,
  warningRatio: 1.2,
  warningViolationRate: 0.2,
  warningSteps: 2,
  warningEffectiveRank: 2,
  warmupSteps: 20,
});

/** Reason of a healthy verdict when no rule holds. */
export const HEALTHY_REASON = 'all indicators within thresholds';

type RuleLevel = Exclude<CollapseState, 'healthy'>;

/** Diagnostics of a step plus the latest effective rank computed so far (null before the first). */
interface RuleInput extends StepDiagnostics {
  latestEffectiveRank: number | null;
}

interface Rule {
  level: RuleLevel;
  /** Consecutive logged steps needed. */
  steps: number;
  holds(d: RuleInput): boolean;
  /** Condition with the current values, e.g. "item cosine 0.93 > 0.90". */
  describe(d: RuleInput): string;
}

/** Two decimals, as in every reason string. */
function fmt(x: number): string {
  return x.toFixed(2);
}

function buildRules(t: CollapseThresholds): Rule[] {
  return [
    {
      level: 'collapsed',
      steps: t.collapsedSteps,
      holds: (d) => d.collapse.itemCosine > t.collapsedItemCosine,
      describe: (d) => `item cosine ${fmt(d.collapse.itemCosine)} > ${fmt(t.collapsedItemCosine)}`,
    },
    {
      level: 'collapsed',
      steps: t.collapsedSteps,
      holds: (d) => d.collapse.gap <= t.collapsedGap && d.collapse.violationRate > t.collapsedViolationRate,
      describe: (d) =>
        `gap ${fmt(d.collapse.gap)} <= ${fmt(t.collapsedGap)} and violation rate ` +
        `${fmt(d.collapse.violationRate)} > ${fmt(t.collapsedViolationRate)}`,
    },
    {
      level: 'warning',
      steps: t.warningSteps,
      holds: (d) => d.collapse.itemCosine > t.warningItemCosine,
      describe: (d) => `item cosine ${fmt(d.collapse.itemCosine)} > ${fmt(t.warningItemCosine)}`,
    },
    {
      level: 'warning',
      steps: t.warningSteps,
      holds: (d) => d.collapse.ratio !== null && d.collapse.ratio < t.warningRatio,
      describe: (d) => `R ${fmt(d.collapse.ratio ?? NaN)} < ${fmt(t.warningRatio)}`,
    },
    {
      level: 'warning',
      steps: t.warningSteps,
      holds: (d) => d.collapse.violationRate > t.warningViolationRate,
      describe: (d) => `violation rate ${fmt(d.collapse.violationRate)} > ${fmt(t.warningViolationRate)}`,
    },
    {
      level: 'warning',
      steps: t.warningSteps,
      holds: (d) => d.latestEffectiveRank !== null && d.latestEffectiveRank < t.warningEffectiveRank,
      describe: (d) => `effective rank ${fmt(d.latestEffectiveRank ?? NaN)} < ${fmt(t.warningEffectiveRank)}`,
    },
  ];
}

function checkThresholds(t: CollapseThresholds): void {
  for (const [key, value] of Object.entries(t)) {
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw new RangeError(`CollapseThresholds.${key} must be a finite number, got ${String(value)}`);
    }
  }
  for (const key of ['collapsedSteps', 'warningSteps'] as const) {
    if (!Number.isInteger(t[key]) || t[key] < 1) {
      throw new RangeError(`CollapseThresholds.${key} must be an integer >= 1, got ${t[key]}`);
    }
  }
}

/**
 * Turns the diagnostics of consecutive logged steps into a CollapseVerdict. Feed every logged
 * step, in order. See docs/diagnostics.md for the rules and the reason-string format.
 */
export class CollapseMonitor {
  readonly thresholds: Readonly<CollapseThresholds>;
  private readonly rules: Rule[];
  /** Consecutive logged steps each rule has held, and the step its current streak began. */
  private readonly streaks: number[];
  private readonly since: number[];
  private lastStep: number | null = null;
  private latestEffectiveRank: number | null = null;

  /** Missing thresholds take DEFAULT_COLLAPSE_THRESHOLDS; throws a RangeError on invalid values. */
  constructor(thresholds: Partial<CollapseThresholds> = {}) {
    const t: CollapseThresholds = { ...DEFAULT_COLLAPSE_THRESHOLDS, ...thresholds };
    checkThresholds(t);
    this.thresholds = Object.freeze(t);
    this.rules = buildRules(t);
    this.streaks = this.rules.map(() => 0);
    this.since = this.rules.map(() => 0);
  }

  /**
   * Verdict after the logged step `step` with diagnostics `d`. Steps must increase strictly
   * (throws a RangeError otherwise).
   */
  update(diag: StepDiagnostics, step: number): CollapseVerdict {
    if (!Number.isFinite(step)) throw new RangeError(`CollapseMonitor.update: step must be a finite number, got ${step}`);
    if (this.lastStep !== null && step <= this.lastStep) {
      throw new RangeError(`CollapseMonitor.update: step ${step} must be after the previous logged step ${this.lastStep}`);
    }
    this.lastStep = step;
    if (diag.collapse.effectiveRank !== null) this.latestEffectiveRank = diag.collapse.effectiveRank;
    const d: RuleInput = { ...diag, latestEffectiveRank: this.latestEffectiveRank };
    if (step < this.thresholds.warmupSteps) {
      this.streaks.fill(0);
      return { state: 'healthy', reason: `warm-up: verdict starts at step ${this.thresholds.warmupSteps}` };
    }
    this.rules.forEach((rule, k) => {
      if (rule.holds(d)) {
        if (this.streaks[k] === 0) this.since[k] = step;
        this.streaks[k]++;
      } else {
        this.streaks[k] = 0;
      }
    });
    const active = (level: RuleLevel): string[] =>
      this.rules.flatMap((rule, k) => {
        const n = this.streaks[k];
        if (rule.level !== level || n < rule.steps) return [];
        return [`${rule.describe(d)} for ${n} logged step${n === 1 ? '' : 's'} (since step ${this.since[k]})`];
      });
    const pending = (levels: RuleLevel[]): string[] =>
      this.rules.flatMap((rule, k) => {
        const n = this.streaks[k];
        if (!levels.includes(rule.level) || n === 0 || n >= rule.steps) return [];
        return [`${rule.describe(d)} for ${n} of ${rule.steps} logged steps`];
      });
    const withPending = (parts: string[], waiting: string[]): string =>
      [...parts, ...(waiting.length > 0 ? [`pending: ${waiting.join('; ')}`] : [])].join('; ');

    const collapsed = active('collapsed');
    if (collapsed.length > 0) return { state: 'collapsed', reason: collapsed.join('; ') };
    const warning = active('warning');
    if (warning.length > 0) return { state: 'warning', reason: withPending(warning, pending(['collapsed'])) };
    const waiting = pending(['collapsed', 'warning']);
    return { state: 'healthy', reason: waiting.length > 0 ? withPending([], waiting) : HEALTHY_REASON };
  }
}
