/**
 * When live held-out evaluation runs during training (evaluation.every).
 *
 * - every N > 0: after every N-th step and after the last.
 * - every "auto": after step s when   spent + Ê ≤ budget × trained(s)
 *   where `spent` is the wall time held-out evaluation has cost so far (preparing the sample and the BM25
 *   reference, the evaluations, the best checkpoints they write), Ê the expected cost of one evaluation
 *   (the last one measured; before the first, the probe's estimate) and trained(s) the wall time of the
 *   training steps so far. With an evaluation time E and a step time S this evaluates about every
 *   E / (budget × S) steps, and held-out evaluation never costs more than `budget` of the training time
 *   at any point (up to the error of Ê). When no evaluation fitted by the last step, the last step is
 *   evaluated anyway (the run then has one held-out value, and says it went over the budget).
 */
export class HeldOutSchedule {
  private spentMs = 0;
  private expectedMs: number;
  private evaluations = 0;
  /** The last step was evaluated although it did not fit in the budget (no evaluation had run). */
  forcedLast = false;

  constructor(
    private readonly every: number | 'auto',
    private readonly budget: number,
    private readonly totalSteps: number,
    /** Cost already spent before training (preparation), ms. */
    prepMs: number,
    /** Estimated cost of one evaluation before any was measured, ms. */
    estimateMs: number,
  ) {
    this.spentMs = prepMs;
    this.expectedMs = estimateMs;
  }

  /** Whether to evaluate after `step`, given the wall time of the training steps so far. */
  due(step: number, trainedMs: number): boolean {
    if (this.every === 0) return false;
    if (this.every !== 'auto') return step % this.every === 0 || step === this.totalSteps;
    if (this.spentMs + this.expectedMs <= this.budget * trainedMs) return true;
    this.forcedLast = step === this.totalSteps && this.evaluations === 0;
    return this.forcedLast;
  }

  /** An evaluation, with the best checkpoint it may have written, took `ms`. */
  spent(ms: number): void {
    this.spentMs += ms;
    this.expectedMs = ms;
    this.evaluations++;
  }

  /** Held-out time so far, ms (for the run log). */
  get spentTotalMs(): number {
    return this.spentMs;
  }

  /** The rule in words, for the run log. */
  describe(): string {
    if (this.every === 'auto')
      return `evaluation.every "auto": evaluate when held-out time so far + one evaluation (≈ ${(this.expectedMs / 1000).toFixed(2)} s) ≤ ${this.budget} × training time so far`;
    return `evaluation.every ${this.every}: every ${this.every} steps and after the last`;
  }
}
