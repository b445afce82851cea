/**
 * Runs overlaid on the dashboard's per-step charts beside the run shown (at most MAX_OVERLAY_RUNS): each
 * with its own exact columns (StepStore) and decimated display series, fed live like the run shown.
 */
import { MAX_OVERLAY_RUNS, type StepEvent } from '../protocol';
import { DisplaySeries } from './displaySeries';
import { StepStore } from './stepStore';
import { WallTimeMap } from './xAxis';

/**
 * Decimation buckets of an overlaid run's series (the run shown: DEFAULT_MAX_BUCKETS = 500): ≤ ~300 points
 * per line, so five overlaid runs add about as many points to a chart as the run shown has.
 */
export const OVERLAY_MAX_BUCKETS = 150;

export interface OverlayRun {
  readonly runDir: string;
  name: string;
  readonly store: StepStore;
  readonly display: DisplaySeries;
  /** Its steps' wall time since its own first step (for the wall-time x axis). */
  readonly wallTime: WallTimeMap;
}

export class OverlayRuns {
  private readonly runs = new Map<string, OverlayRun>();
  private version = 0;

  /** The runs overlaid, in the order they were added. */
  get list(): OverlayRun[] {
    return [...this.runs.values()];
  }

  /** Grows when a run is added or removed (charts rebuild their overlay lines then). */
  get setVersion(): number {
    return this.version;
  }

  /**
   * A run's history (`reset`) or its new steps. Returns a problem when refused (a run beyond the limit),
   * else null.
   */
  apply(runDir: string, name: string, reset: boolean, steps: readonly StepEvent[]): string | null {
    let run = this.runs.get(runDir);
    if (!run) {
      if (this.runs.size >= MAX_OVERLAY_RUNS) return `overlay: at most ${MAX_OVERLAY_RUNS} runs are overlaid; ${runDir} ignored`;
      const store = new StepStore();
      run = { runDir, name, store, display: new DisplaySeries(store, OVERLAY_MAX_BUCKETS), wallTime: new WallTimeMap(store.steps, store.times) };
      this.runs.set(runDir, run);
      this.version++;
    }
    run.name = name;
    if (reset) {
      run.store.clear();
      run.wallTime.forget();
    }
    run.store.append(steps);
    if (reset) run.display.rebuild();
    else run.display.sync();
    return null;
  }

  remove(runDir: string): boolean {
    const had = this.runs.delete(runDir);
    if (had) this.version++;
    return had;
  }
}
