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
/** The button that applies the stop-gradient + symmetric fix (the message names the fix: see `fixSentence`). */
export const APPLY_FIX_LABEL = 'Apply Fix';
/** The button that offers the next remedies once stop-gradient and symmetric are on. */
export const CHOOSE_REMEDY_LABEL = 'Choose a remedy…';

/**
 * Room for a notification's buttons in VS Code 1.100 (code-server 4.100): the toast is 450 px wide with a 4 px
 * margin, its item 5 px padding each side, the details row 5 px more on the left (the source label there
 * shrinks first); each button has 10 px padding and 5 px margin each side, 12 px text. Wider buttons shrink
 * and end in "…" (what made "Stop Run" read "Stop …" beside the 39-character fix label).
 */
export const NOTIFICATION_BUTTON_ROOM_PX = 450 - 2 * 4 - 2 * 5 - 5;
/** Per button: padding and margin (px). */
const BUTTON_CHROME_PX = 2 * 10 + 2 * 5;
/** Upper bound of the mean character width of 12 px UI text (0.6 em: DejaVu Sans, the widest common UI font). */
const BUTTON_CHAR_PX = 7.2;

/** Whether buttons with these labels fit a notification without VS Code truncating any (the estimate above). */
export function buttonsFitNotification(labels: readonly string[]): boolean {
  return labels.reduce((w, l) => w + BUTTON_CHROME_PX + [...l].length * BUTTON_CHAR_PX, 0) <= NOTIFICATION_BUTTON_ROOM_PX;
}

/**
 * The buttons of a run's alert: the collapse fix for that run's config ("Apply Fix" when the first remedy is
 * the stop-gradient/symmetric fix, else "Choose a remedy…"; none for a warning or when no remedy would change
 * the config), "Stop Run" and "Show Dashboard" of that run. Short labels, so that all three fit a notification
 * (buttonsFitNotification); the message names the fix (fixSentence).
 */
export function alertActions(alert: VerdictAlert, firstRemedy: string | null, enableFixLabel = ENABLE_FIX_LABEL): AlertAction[] {
  const actions: AlertAction[] = [];
  if (alert.kind !== 'warning' && alert.kind !== 'recovered' && firstRemedy !== null)
    actions.push({ kind: 'fix', label: firstRemedy === enableFixLabel ? APPLY_FIX_LABEL : CHOOSE_REMEDY_LABEL });
  actions.push({ kind: 'stop', label: STOP_RUN_LABEL }, { kind: 'dashboard', label: 'Show Dashboard' });
  return actions;
}

/** What an alert's fix button does, said in its message ("" without a fix button). */
export function fixSentence(actions: readonly AlertAction[], firstRemedy: string | null): string {
  const fix = actions.find((a) => a.kind === 'fix');
  if (!fix || firstRemedy === null) return '';
  return fix.label === APPLY_FIX_LABEL
    ? ` ${APPLY_FIX_LABEL}: ${firstRemedy.charAt(0).toLowerCase()}${firstRemedy.slice(1)} in its config.`
    : ` ${CHOOSE_REMEDY_LABEL}: the next remedies for its config (stop-gradient and symmetric loss are on).`;
}
