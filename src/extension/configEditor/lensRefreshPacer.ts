/**
 * Paces a CodeLens provider's change events so that a live lens keeps updating on a loaded machine.
 *
 * VS Code's CodeLens controller answers `onDidChangeCodeLenses` by restarting a debounce timer whose
 * delay is the running average of how long its previous lens requests took (at least 250 ms). An event
 * that arrives before the timer ends restarts it. A provider that fires more often than that delay — a
 * live lens refreshed every second while, under load, each request round trip to the extension host
 * takes longer — is never asked again and its lenses freeze for as long as the run keeps stepping.
 *
 * So a live change is fired only once VS Code has asked for the lenses since the previous event (the
 * request reads the newest values anyway), at most once per `minIntervalMs`; if no request comes within
 * `patienceMs` (the editor is hidden, or VS Code dropped it) the next change is fired regardless.
 * An event VS Code never answers is fired again after `patienceMs`, up to MAX_UNANSWERED times in a row: an
 * event that arrives while VS Code is fetching the lenses (with the older values) can be dropped, and without a
 * later change the lens would keep the old text until the next one (a safeguard: the data lens froze once at an
 * old count in a clean-clone CI run, see now()).
 * No `vscode` import: the timing is unit-tested on node:test's mock clock.
 */
/** Unanswered events re-fired in a row at most (a hidden editor never asks; its lenses are fetched when shown). */
const MAX_UNANSWERED = 3;

export class LensRefreshPacer {
  private lastFire = Number.NEGATIVE_INFINITY;
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** An event was fired and VS Code has not asked for the lenses since. */
  private awaitingRequest = false;
  /** A live change is waiting to be fired. */
  private wanted = false;
  /** Events fired in a row without a request in between, beyond the first. */
  private unanswered = 0;

  constructor(
    private readonly minIntervalMs: number,
    private readonly patienceMs: number,
    private readonly fire: () => void,
  ) {}

  /**
   * A change to show at once (a run started or ended, data counts, trust): fired now. When an earlier event is
   * still unanswered, VS Code may be fetching the lenses with the older values and drop this event (a data
   * file's "counting…" and its result come milliseconds apart), so it is fired once more after the next request.
   */
  now(): void {
    const unanswered = this.awaitingRequest;
    this.fireNow();
    if (unanswered) this.wanted = true;
  }

  /** A live change (a new step): fired when VS Code has asked since the last event, at most once per interval. */
  soon(): void {
    this.wanted = true;
    this.schedule();
  }

  /** VS Code asked for the lenses (provideCodeLenses): they show the newest values. */
  requested(): void {
    this.awaitingRequest = false;
    this.unanswered = 0;
    this.clearTimer();
    this.schedule();
  }

  dispose(): void {
    this.clearTimer();
    this.wanted = false;
  }

  private schedule(): void {
    const retry = this.awaitingRequest && this.unanswered < MAX_UNANSWERED;
    if (this.timer || !(this.wanted || retry)) return;
    const due = this.lastFire + (this.awaitingRequest ? this.patienceMs : this.minIntervalMs);
    const wait = due - Date.now();
    if (wait <= 0) this.fireNow();
    else
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.schedule();
      }, wait);
  }

  private fireNow(): void {
    this.clearTimer();
    if (this.awaitingRequest) this.unanswered++;
    this.wanted = false;
    this.awaitingRequest = true;
    this.lastFire = Date.now();
    this.fire();
    this.schedule(); // fired again after patienceMs if VS Code does not ask
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
