/**
 * The x axis of the step charts: steps, or wall time (seconds since the first logged step, read from each
 * step event's time). A chart keeps its display points in steps and maps them when wall time is chosen.
 */
import type { GrowableFloat64 } from '../../shared/growableArray';

export type XAxisMode = 'step' | 'time';

/** Maps a logged step to the chart's x. */
export interface XMap {
  toX(step: number): number;
}

/**
 * Wall time of logged steps: `steps` ascending, `times` ms since the epoch (NaN when unreadable: the
 * nearest earlier readable time stands in). Reads the columns live; `forget()` after they were cleared
 * (a reset), so charts keep one map per run and remap only the points that changed.
 */
export class WallTimeMap implements XMap {
  private t0 = NaN;

  constructor(
    private readonly steps: GrowableFloat64,
    private readonly times: GrowableFloat64,
  ) {}

  forget(): void {
    this.t0 = NaN;
  }

  /** Seconds from the first logged step to `ms` (ms since the epoch; null when either is unknown). */
  secondsAt(ms: number): number | null {
    this.findStart();
    return Number.isNaN(this.t0) || !Number.isFinite(ms) ? null : (ms - this.t0) / 1000;
  }

  private findStart(): void {
    const n = this.steps.length;
    if (Number.isNaN(this.t0)) for (let i = 0; i < n && Number.isNaN(this.t0); i++) this.t0 = this.times.get(i);
  }

  /** Seconds since the first logged step (0 before any time is known). */
  toX(step: number): number {
    const n = this.steps.length;
    this.findStart();
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.steps.get(mid) <= step) lo = mid;
      else hi = mid - 1;
    }
    for (let i = lo; i >= 0; i--) {
      const t = this.times.get(i);
      if (!Number.isNaN(t)) return (t - this.t0) / 1000;
    }
    return 0;
  }
}

/** Seconds as "42 s", "3:07" (m:ss) or "1:02:03" (h:mm:ss). */
export function formatElapsed(seconds: number): string {
  if (!Number.isFinite(seconds)) return '';
  if (seconds < 60) return `${+seconds.toPrecision(3)} s`;
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const pad = (x: number) => String(x).padStart(2, '0');
  return h > 0 ? `${h}:${pad(m)}:${pad(s % 60)}` : `${m}:${pad(s % 60)}`;
}
