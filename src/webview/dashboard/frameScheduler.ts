/**
 * Coalesces redraws: any number of messages within one animation frame cause one redraw. While the
 * webview is hidden no frames run, so nothing is drawn; the data keeps up and the next visible frame
 * draws the newest state.
 */
export class FrameScheduler {
  private handle: number | null = null;

  constructor(private readonly frame: () => void) {}

  /** A redraw is scheduled and has not run yet. */
  get pending(): boolean {
    return this.handle !== null;
  }

  request(): void {
    if (this.handle !== null) return;
    this.handle = requestAnimationFrame(() => {
      this.handle = null;
      this.frame();
    });
  }
}

/**
 * Which elements are on screen (IntersectionObserver), so offscreen charts are not redrawn until
 * scrolled into view. Unknown elements count as visible.
 */
export class VisibilityTracker {
  private readonly state = new Map<Element, boolean>();
  private readonly observer: IntersectionObserver;

  constructor(onBecameVisible: () => void) {
    this.observer = new IntersectionObserver(
      (entries) => {
        let shown = false;
        for (const e of entries) {
          const was = this.state.get(e.target);
          this.state.set(e.target, e.isIntersecting);
          if (e.isIntersecting && was === false) shown = true;
        }
        if (shown) onBecameVisible();
      },
      { rootMargin: '100px 0px' },
    );
  }

  observe(el: Element): void {
    this.observer.observe(el);
  }

  isVisible(el: Element): boolean {
    return this.state.get(el) ?? true;
  }

  /** Forgets what is known (e.g. after the container was hidden): every element counts as visible until observed again. */
  forget(): void {
    this.state.clear();
  }
}
