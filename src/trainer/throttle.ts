/**
 * Latest-wins throttle: `push` keeps only the newest value and sends at most one value per
 * `intervalMs`; `flush` sends a pending value now. Used to cap step messages to the parent
 * (events.jsonl keeps every logged step).
 */
export class LatestWinsThrottle<T> {
  private pending: T | undefined;
  private hasPending = false;
  private lastSent = -Infinity;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly intervalMs: number,
    private readonly send: (value: T) => void,
  ) {}

  push(value: T): void {
    this.pending = value;
    this.hasPending = true;
    const wait = this.lastSent + this.intervalMs - Date.now();
    if (wait <= 0) this.flush();
    else if (!this.timer) this.timer = setTimeout(() => this.flush(), wait);
  }

  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.hasPending) return;
    const v = this.pending as T;
    this.pending = undefined;
    this.hasPending = false;
    this.lastSent = Date.now();
    this.send(v);
  }
}
