/**
 * Paces chart redraws so that no animation frame blocks the webview for long, however many charts are
 * on screen: a redraw pass starts at most every `intervalMs` (the trainer streams ≤ 10 messages/s;
 * charts need not follow every one), and a pass is spread over consecutive frames, drawing charts
 * until `budgetMs` of the frame is used (always at least one chart per frame). The header and badge
 * are not paced. A Chart.js update costs a few ms per chart, mostly fixed (option resolution, layout,
 * ticks), so this, not the number of points, is what keeps frames short.
 */
export class ChartPacer {
  private passStartedAt = -Infinity;
  private inPass = false;
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly intervalMs: number,
    private readonly budgetMs: number,
    private readonly requestFrame: () => void,
  ) {}

  /** A pass is waiting for its interval or still spread over frames. */
  get busy(): boolean {
    return this.timer !== null || this.inPass;
  }

  /**
   * Called in a frame with the charts that need a redraw (in drawing order): draws as many as the
   * budget allows, or schedules the next pass when the last one is too recent.
   */
  run<T>(due: readonly T[], draw: (item: T) => void): void {
    if (due.length === 0) {
      this.inPass = false;
      return;
    }
    const now = performance.now();
    if (!this.inPass) {
      const wait = this.passStartedAt + this.intervalMs - now;
      if (wait > 0) {
        if (this.timer === null) {
          this.timer = setTimeout(() => {
            this.timer = null;
            this.requestFrame();
          }, wait);
        }
        return;
      }
      this.inPass = true;
      this.passStartedAt = now;
    }
    let drawn = 0;
    for (const item of due) {
      if (drawn > 0 && performance.now() - now >= this.budgetMs) break;
      draw(item);
      drawn++;
    }
    if (drawn < due.length) this.requestFrame();
    else this.inPass = false;
  }
}
