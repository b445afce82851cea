/**
 * The exact per-step values of the run shown, one column per series (Float64, NaN = missing), plus
 * the newest step event (for its histogram and verdict). Step events themselves are not kept, so a
 * 100k-step history costs ~16 MB, not the hundreds of MB of its JSON.
 */
import { CollapseMonitor, pickCollapseThresholds, type CollapseThresholds } from '../../../core/metrics/collapseMonitor';
import type { CollapseState } from '../../../core/metrics/types';
import type { StepEvent } from '../protocol';
import { GrowableFloat64 } from '../../shared/growableArray';
import { EmaSmoother } from '../../shared/smoothing';
import { EXTRACT, RAW_SERIES, SMOOTHED_SOURCES, hyperOf, type HyperKind, type SeriesId } from './seriesCatalog';

/** TensorBoard's default smoothing weight. */
export const DEFAULT_SMOOTHING = 0.6;

/**
 * Where the collapse verdict's reference lines stand: the run's thresholds, the step R first
 * reached `separatedRatio`, and the best violation rate since then (the base of the warning rule).
 * Replayed from the logged steps with the verdict's own CollapseMonitor, so the lines are the
 * numbers the trainer's verdict used.
 */
export interface CollapseReference {
  thresholds: Readonly<CollapseThresholds>;
  separatedStep: number | null;
  bestViolationRate: number | null;
}

/** A run of consecutive logged steps with the same verdict state (the reason is the first step's). */
export interface VerdictSegment {
  state: CollapseState;
  from: number;
  to: number;
  /** Reason at the first and the last step of the segment. */
  firstReason: string;
  lastReason: string;
}

export class StepStore {
  /** The verdict timeline, run-length encoded (a handful of segments, not one entry per step). */
  private readonly segments: VerdictSegment[] = [];
  /** x of every series: the step numbers. */
  readonly steps = new GrowableFloat64();
  /** Event times (ms since the epoch; NaN when unparseable), for steps/s. */
  readonly times = new GrowableFloat64();
  private readonly columns = new Map<SeriesId, GrowableFloat64>();
  private smoothers = new Map<SeriesId, EmaSmoother>();
  private smoothingWeight = DEFAULT_SMOOTHING;
  private newest: StepEvent | null = null;
  private readonly kinds = new Set<HyperKind>();
  private thresholdsIn: Partial<CollapseThresholds> = {};
  private monitor = new CollapseMonitor();

  constructor() {
    for (const id of RAW_SERIES) this.columns.set(id, new GrowableFloat64());
    for (const id of SMOOTHED_SOURCES) this.columns.set(`${id}.smoothed`, new GrowableFloat64());
    this.resetSmoothers();
  }

  /** Number of logged steps held. */
  get length(): number {
    return this.steps.length;
  }

  /** The newest step event, or null. */
  get latest(): StepEvent | null {
    return this.newest;
  }

  /** δ and/or τ, as seen in the steps so far. */
  get hyperKinds(): ReadonlySet<HyperKind> {
    return this.kinds;
  }

  get smoothing(): number {
    return this.smoothingWeight;
  }

  /** The exact column of a series. */
  column(id: SeriesId): GrowableFloat64 {
    return this.columns.get(id) as GrowableFloat64;
  }

  /** The verdict timeline: consecutive logged steps of one state, oldest first. */
  get verdictSegments(): readonly VerdictSegment[] {
    return this.segments;
  }

  /** The collapse verdict's reference lines after the steps held. */
  get collapseReference(): CollapseReference {
    return { thresholds: this.monitor.thresholds, separatedStep: this.monitor.separatedStep, bestViolationRate: this.monitor.bestViolationRate };
  }

  /**
   * The run's collapse thresholds (its config's `diagnostics.collapse`; missing or invalid ones
   * take the defaults). Set before appending the run's steps (a reset clears the store first).
   */
  setCollapseThresholds(raw: unknown): void {
    this.thresholdsIn = pickCollapseThresholds(raw);
    this.monitor = this.newMonitor();
  }

  private newMonitor(): CollapseMonitor {
    try {
      return new CollapseMonitor(this.thresholdsIn);
    } catch {
      return new CollapseMonitor();
    }
  }

  /** Step number of the newest step, or null. */
  lastStep(): number | null {
    return this.steps.length === 0 ? null : this.steps.last();
  }

  /**
   * Appends step events in order. A step not above the newest one held is skipped (already shown).
   * Returns the number appended.
   */
  append(events: readonly StepEvent[]): number {
    let added = 0;
    for (const e of events) {
      const last = this.lastStep();
      if (last !== null && e.step <= last) continue;
      this.steps.push(e.step);
      const t = Date.parse(e.time);
      this.times.push(Number.isNaN(t) ? NaN : t);
      for (const id of RAW_SERIES) this.columns.get(id)!.push(EXTRACT[id](e));
      for (const id of SMOOTHED_SOURCES) {
        this.columns.get(`${id}.smoothed`)!.push(this.smoothers.get(id)!.next(this.columns.get(id)!.last()));
      }
      const hyper = hyperOf(e);
      if (hyper) this.kinds.add(hyper.kind);
      const seg = this.segments.at(-1);
      if (seg && seg.state === e.verdict.state) {
        seg.to = e.step;
        seg.lastReason = e.verdict.reason;
      } else {
        this.segments.push({ state: e.verdict.state, from: e.step, to: e.step, firstReason: e.verdict.reason, lastReason: e.verdict.reason });
      }
      try {
        this.monitor.track(e.diagnostics, e.step);
      } catch {
        // a step the monitor refuses (not after the previous one) leaves the reference as it was
      }
      this.newest = e;
      added++;
    }
    return added;
  }

  /** Forgets everything (a new run, or a reset). */
  clear(): void {
    this.steps.clear();
    this.times.clear();
    for (const c of this.columns.values()) c.clear();
    this.kinds.clear();
    this.segments.length = 0;
    this.newest = null;
    this.monitor = this.newMonitor();
    this.resetSmoothers();
  }

  /** Changes the EMA weight and recomputes the smoothed columns from the exact ones. */
  setSmoothing(weight: number): void {
    this.smoothingWeight = weight;
    this.resetSmoothers();
    for (const id of SMOOTHED_SOURCES) {
      const raw = this.columns.get(id)!;
      const out = this.columns.get(`${id}.smoothed`)!;
      const smoother = this.smoothers.get(id)!;
      for (let i = 0; i < raw.length; i++) out.set(i, smoother.next(raw.get(i)));
    }
  }

  private resetSmoothers(): void {
    this.smoothers = new Map(SMOOTHED_SOURCES.map((id) => [id, new EmaSmoother(this.smoothingWeight)]));
  }
}
