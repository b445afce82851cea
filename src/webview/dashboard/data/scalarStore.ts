/**
 * The user's own numbers of a run (`scalars` events, `retrieval_lens.Lens.log_scalars`): per name its
 * steps and exact values, and their decimated display version. A name's steps only go forward: a value
 * at a step not above its newest one is skipped (already shown), as for step events.
 */
import { DecimatedSeries } from '../../shared/decimatedSeries';
import { GrowableFloat64 } from '../../shared/growableArray';
import type { ScalarPoint } from '../protocol';

export interface ScalarSeries {
  readonly steps: GrowableFloat64;
  readonly values: GrowableFloat64;
  readonly display: DecimatedSeries;
}

export class ScalarStore {
  private readonly byName = new Map<string, ScalarSeries>();
  private changes = 0;

  /** Names seen so far, in the order they first appeared. */
  get names(): string[] {
    return [...this.byName.keys()];
  }

  /** Grows whenever a value was appended or the store was cleared. */
  get changeCount(): number {
    return this.changes;
  }

  get(name: string): ScalarSeries | undefined {
    return this.byName.get(name);
  }

  /** Appends points in order; returns the number of values appended. */
  append(points: readonly ScalarPoint[]): number {
    let added = 0;
    for (const p of points) {
      for (const [name, v] of Object.entries(p.values)) {
        let s = this.byName.get(name);
        if (!s) {
          const steps = new GrowableFloat64();
          const values = new GrowableFloat64();
          s = { steps, values, display: new DecimatedSeries(steps, values, 'minmax') };
          this.byName.set(name, s);
        }
        if (s.steps.length > 0 && p.step <= s.steps.last()) continue;
        s.steps.push(p.step);
        s.values.push(typeof v === 'number' && Number.isFinite(v) ? v : NaN);
        added++;
      }
    }
    if (added > 0) {
      for (const s of this.byName.values()) s.display.sync();
      this.changes++;
    }
    return added;
  }

  clear(): void {
    this.byName.clear();
    this.changes++;
  }
}
