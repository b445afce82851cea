/**
 * One live collapse notification per run, replaced in place. VS Code cannot close a toast made by
 * showWarningMessage, so each run's alert is a notification the extension owns (in VS Code a
 * `withProgress` notification, see trainingNotifications.ts): a newer verdict rewrites its message,
 * and it closes when the run recovers (a short "recovered" notice takes its place), when the run
 * ends, or when the user dismisses it. Its actions are links in the message (command links), the
 * same fixes stand as quick fixes on the verdict in the Problems panel. Pure, unit-tested with a
 * fake window.
 */
import type { CollapseState } from '../../core/metrics/types';
import { isAlertLevel, VerdictAlertPolicy, type AlertLevel, type VerdictAlert } from './verdictAlerts';

/** A notification the extension can rewrite and close. */
export interface LiveToast {
  update(message: string): void;
  close(): void;
}

/** What the notifier needs of the window (VS Code's, or a fake in tests). */
export interface ToastWindow {
  /** Show a notification that stays until `close()`; `onDismiss` when the user dismisses it. */
  open(message: string, onDismiss: () => void): LiveToast;
  /** A transient notice (no actions, fades by itself). */
  notice(message: string): void;
}

/** The text of a run's alert for a level or "recovered" (with its action links). */
export type AlertText = (alert: VerdictAlert) => string;

export class VerdictNotifier {
  private readonly policy = new VerdictAlertPolicy();
  /** The open notification of each run and the level it shows. */
  private readonly live = new Map<string, { toast: LiveToast; level: AlertLevel }>();

  constructor(private readonly window: ToastWindow) {}

  /**
   * Feed the verdict of a run's latest logged step. A first alert of a level opens the run's
   * notification or rewrites the open one; while it is open, a change to another alert level
   * (already alerted once) rewrites it too, so it always shows the current state; "healthy" after
   * an alert closes it and shows a "recovered" notice.
   */
  observe(runKey: string, state: CollapseState, text: AlertText): void {
    const alert = this.policy.observe(runKey, state);
    const open = this.live.get(runKey);
    if (alert?.kind === 'recovered') {
      this.close(runKey);
      this.window.notice(text(alert));
      return;
    }
    const level = alert?.kind ?? (open && isAlertLevel(state) && state !== open.level ? state : null);
    if (!level) return;
    if (open) {
      open.level = level;
      open.toast.update(text({ kind: level }));
      return;
    }
    if (!alert) return;
    const entry = {
      level,
      toast: this.window.open(text({ kind: level }), () => {
        if (this.live.get(runKey) === entry) this.live.delete(runKey);
      }),
    };
    this.live.set(runKey, entry);
  }

  /** The level a run's open notification shows (undefined when none is open). */
  shown(runKey: string): AlertLevel | undefined {
    return this.live.get(runKey)?.level;
  }

  /** The run ended: close its notification and forget it. */
  end(runKey: string): void {
    this.close(runKey);
    this.policy.forget(runKey);
  }

  /** Close every open notification (extension deactivation). */
  closeAll(): void {
    for (const key of [...this.live.keys()]) this.close(key);
  }

  private close(runKey: string): void {
    const open = this.live.get(runKey);
    this.live.delete(runKey);
    open?.toast.close();
  }
}
