/**
 * The collapse notifications of a run: one per alert level the run enters (warning, never separated,
 * collapsing, collapsed; verdictAlerts.ts decides when), shown with the severity of the level — a warning
 * icon, an error icon for "collapsed" — and buttons: the collapse fix for the run's config, "Stop Run" and
 * "Show Dashboard"; a "recovered" notice when an alerted run becomes healthy again. (VS Code cannot rewrite
 * or close such a notification, so each level is its own, at most once per run.) Pure, unit-tested with a
 * fake window.
 */
import type { CollapseState } from '../../core/metrics/types';
import { alertActions, fixSentence, VerdictAlertPolicy, type AlertAction, type AlertLevel, type VerdictAlert } from './verdictAlerts';

/** The icon of an alert: an error for a collapsed run, else a warning. */
export type AlertSeverity = 'warning' | 'error';

export function alertSeverity(level: AlertLevel): AlertSeverity {
  return level === 'collapsed' ? 'error' : 'warning';
}

/** What the notifier needs of the window (VS Code's, or a fake in tests). */
export interface ToastWindow {
  /** Show a notification of `severity` with `buttons`; resolves with the button pressed (undefined: dismissed). */
  alert(message: string, severity: AlertSeverity, buttons: readonly string[]): PromiseLike<string | undefined>;
  /** A transient notice (no actions, fades by itself). */
  notice(message: string): void;
}

/** A run as its alerts need it: the message of an alert, and whether its config has a fix (its first remedy's label). */
export interface AlertRun {
  text(alert: VerdictAlert): string;
  firstRemedy: string | null;
  /** Whether "Stop Run" is offered (false for a run another process writes). */
  stoppable?: boolean;
}

export class VerdictNotifier {
  private readonly policy = new VerdictAlertPolicy();

  constructor(private readonly window: ToastWindow) {}

  /**
   * Feed the verdict of a run's latest logged step. A first entry into an alert level shows its notification;
   * the button pressed is handed to `act`. "healthy" after an alert shows a "recovered" notice.
   */
  observe(runKey: string, state: CollapseState, run: () => AlertRun, act: (action: AlertAction) => void): void {
    const alert = this.policy.observe(runKey, state);
    if (!alert) return;
    const r = run();
    if (alert.kind === 'recovered') {
      this.window.notice(r.text(alert));
      return;
    }
    const actions = alertActions(alert, r.firstRemedy).filter((a) => a.kind !== 'stop' || r.stoppable !== false);
    void Promise.resolve(
      this.window.alert(
        r.text(alert) + fixSentence(actions, r.firstRemedy),
        alertSeverity(alert.kind),
        actions.map((a) => a.label),
      ),
    ).then((label) => {
      const chosen = actions.find((a) => a.label === label);
      if (chosen) act(chosen);
    });
  }

  /** The run ended: forget it (a new run of the same folder starts over). */
  end(runKey: string): void {
    this.policy.forget(runKey);
  }
}
