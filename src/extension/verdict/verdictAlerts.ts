/**
 * When a collapse verdict deserves a notification. Per run: one toast per alert level (warning,
 * never separated, collapsing, collapsed), the first time the run enters that level; a newer
 * alert replaces the run's older toast; and a "recovered" notice when a run that was alerted
 * about becomes healthy again. "initialising" never alerts (a fresh model is not a collapse).
 * Pure, unit-tested without VS Code.
 */
import { stateLabel } from '../../core/metrics/collapseMonitor';
import type { CollapseState } from '../../core/metrics/types';
import { ENABLE_FIX_LABEL } from './collapseFix';

/** The states that raise a toast. */
export type AlertLevel = Extract<CollapseState, 'warning' | 'never-separated' | 'collapsing' | 'collapsed'>;
export const ALERT_LEVELS: readonly AlertLevel[] = ['warning', 'never-separated', 'collapsing', 'collapsed'];

export interface VerdictAlert {
  kind: AlertLevel | 'recovered';
}

export function isAlertLevel(s: CollapseState): s is AlertLevel {
  return (ALERT_LEVELS as readonly string[]).includes(s);
}

/** The toast text of an alert: names the run, the step and the reason. */
export function alertMessage(alert: VerdictAlert, run: { name: string; step: number; reason: string; ratio: string }): string {
  const head = `Retrieval Lens · run ${run.name}:`;
  switch (alert.kind) {
    case 'collapsed':
      return `${head} training has collapsed at step ${run.step} (${run.ratio}; ${run.reason}). Items are becoming indistinguishable.`;
    case 'collapsing':
      return `${head} training is collapsing at step ${run.step} (${run.ratio}; ${run.reason}).`;
    case 'never-separated':
      return `${head} the towers have not separated items by step ${run.step} (${run.ratio}; ${run.reason}).`;
    case 'warning':
      return `${head} collapse warning at step ${run.step} (${run.ratio}; ${run.reason}).`;
    case 'recovered':
      return `${head} recovered at step ${run.step}: the collapse verdict is ${stateLabel('healthy')} again (${run.ratio}).`;
  }
}

export class VerdictAlertPolicy {
  private readonly lastState = new Map<string, CollapseState>();
  private readonly alerted = new Map<string, Set<AlertLevel>>();
  /** Runs with an alert shown and no "recovered" notice after it. */
  private readonly open = new Set<string>();

  /**
   * Feed the verdict of a run's latest logged step; returns the notification to show (replacing
   * the run's earlier one), or null. Alerts only on a transition.
   */
  observe(runKey: string, state: CollapseState): VerdictAlert | null {
    const previous = this.lastState.get(runKey) ?? 'initialising';
    this.lastState.set(runKey, state);
    if (state === previous) return null;
    if (state === 'healthy' && this.open.has(runKey)) {
      this.open.delete(runKey);
      return { kind: 'recovered' };
    }
    if (!isAlertLevel(state)) return null;
    const seen = this.alerted.get(runKey) ?? new Set<AlertLevel>();
    this.alerted.set(runKey, seen);
    if (seen.has(state)) return null;
    seen.add(state);
    this.open.add(runKey);
    return { kind: state };
  }

  /** Forget a run (its trainer ended). */
  forget(runKey: string): void {
    this.lastState.delete(runKey);
    this.alerted.delete(runKey);
    this.open.delete(runKey);
  }
}

/** A button of a run's alert: the collapse fix of its config, stopping it, or its dashboard. */
export interface AlertAction {
  kind: 'fix' | 'stop' | 'dashboard';
  label: string;
}

/** "Stop Run": the button that stops the alerted run. */
export const STOP_RUN_LABEL = 'Stop Run';

/**
 * The buttons of a run's alert: the collapse fix for that run's config (the first remedy's label when it is
 * the stop-gradient/symmetric fix, else "Choose a remedy…"; none for a warning or when no remedy would change
 * the config), "Stop Run" and "Show Dashboard" of that run.
 */
export function alertActions(alert: VerdictAlert, firstRemedy: string | null, enableFixLabel = ENABLE_FIX_LABEL): AlertAction[] {
  const actions: AlertAction[] = [];
  if (alert.kind !== 'warning' && alert.kind !== 'recovered' && firstRemedy !== null)
    actions.push({ kind: 'fix', label: firstRemedy === enableFixLabel ? firstRemedy : 'Choose a remedy…' });
  actions.push({ kind: 'stop', label: STOP_RUN_LABEL }, { kind: 'dashboard', label: 'Show Dashboard' });
  return actions;
}
