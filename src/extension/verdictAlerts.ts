/**
 * When a collapse verdict deserves a notification: every time a run enters "collapsed", and the
 * first time it enters "warning" (later warnings of the same run stay in the dashboard and status
 * bar). Pure, unit-tested without VS Code.
 */
import type { CollapseState } from '../core/metrics/types';

export class VerdictAlertPolicy {
  private readonly lastState = new Map<string, CollapseState>();
  private readonly warned = new Set<string>();

  /**
   * Feed the verdict of a run's latest logged step; returns the state to alert about, or null.
   * Alerts only on a transition (the first step of a run in collapsed counts as one).
   */
  observe(runKey: string, state: CollapseState): Exclude<CollapseState, 'healthy'> | null {
    const previous = this.lastState.get(runKey) ?? 'healthy';
    this.lastState.set(runKey, state);
    if (state === previous) return null;
    if (state === 'collapsed') return 'collapsed';
    if (state === 'warning' && previous === 'healthy' && !this.warned.has(runKey)) {
      this.warned.add(runKey);
      return 'warning';
    }
    return null;
  }

  /** Forget a run (its trainer ended). */
  forget(runKey: string): void {
    this.lastState.delete(runKey);
    this.warned.delete(runKey);
  }
}
