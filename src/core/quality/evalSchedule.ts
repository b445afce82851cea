/**
 * When live held-out evaluation runs during training (evaluation.every).
 *
 * - every N > 0: after every N-th step and after the last.
 * - every "auto": the evaluations that fit in `budget` (0.1) of the whole run's training time, spread evenly,
 *   the last one after the last step. After each step s it re-plans with what was measured so far:
 *
 *     S = training time so far / s                           (mean step time)
 *     k = ⌊(PLAN_SHARE × budget × S × totalSteps − spent) / Ê⌋   (evaluations that still fit)
 *     evaluate when s ≥ last + ⌈(totalSteps − last) / k⌉     (k ≥ 1; last = step of the previous evaluation, 0)
 *
 *   `spent` is the wall time held-out evaluation has cost so far (preparing the sample and the BM25 reference,
 *   the evaluations, the best checkpoints they write) and Ê the cost of one evaluation (the slowest one measured
 *   so far, so one fast evaluation after a slow one does not pull the later ones closer together; before the
 *   first, the probe's estimate). So with an evaluation time E and a step time S it evaluates about
 *   every E / (PLAN_SHARE × budget × S) steps. It plans for PLAN_SHARE (0.6) of the budget: the rest covers
 *   what it cannot time — the training steps after an evaluation run slower (likely the garbage it left, collected
 *   during them: 200-step segments after one ran 2–20% slower than the same segments without evaluation) and
 *   an evaluation can be slower than the slowest before — so that the whole run's extra wall time stays within
 *   `budget`. Measured with `npm run bench:heldout` on pycode, the extra wall time was about 1.5 × the held-out
 *   time itself (held-out 6.5–7.0% of the training time, extra wall time 9.7–11.5% at PLAN_SHARE 0.8). When not even one evaluation fits, none runs until the last step, which is
 *   evaluated anyway (the run then has one held-out value, and its log says it went over the budget); when the
 *   budget is used up mid-run (later evaluations slower than the first), the same: none until the last step.
 */
/** The share of the budget the "auto" plan spends on held-out evaluation (see above). */
export const PLAN_SHARE = 0.6;

export class HeldOutSchedule {
  private spentMs: number;
  private expectedMs: number;
  private evaluations = 0;
  private lastStep = 0;
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
    const fit = this.fits(step, trainedMs);
    if (fit >= 1) return step >= this.lastStep + Math.ceil((this.totalSteps - this.lastStep) / fit);
    // Over the budget: none in between, but the last step is evaluated anyway (the run's final held-out value).
    this.forcedLast = step === this.totalSteps && this.evaluations === 0;
    return step === this.totalSteps;
  }

  /** k: the evaluations that still fit in the budget of the whole run, as measured after `step`. */
  fits(step: number, trainedMs: number): number {
    const perStep = trainedMs / Math.max(1, step);
    return Math.floor((PLAN_SHARE * this.budget * perStep * this.totalSteps - this.spentMs) / Math.max(1e-3, this.expectedMs));
  }

  /** The evaluation after `step`, with the best checkpoint it may have written, took `ms`. */
  spent(step: number, ms: number): void {
    this.spentMs += ms;
    this.expectedMs = this.evaluations === 0 ? ms : Math.max(this.expectedMs, ms);
    this.evaluations++;
    this.lastStep = step;
  }

  /** Held-out time so far, ms (for the run log). */
  get spentTotalMs(): number {
    return this.spentMs;
  }

  /** The rule in words, for the run log. */
  describe(): string {
    if (this.every === 'auto')
      return `evaluation.every "auto": as many evaluations as fit in ${this.budget} of the training time (planned for ${PLAN_SHARE * 100}% of it), evenly spread, the last after the last step (one ≈ ${(this.expectedMs / 1000).toFixed(2)} s, estimated)`;
    return `evaluation.every ${this.every}: every ${this.every} steps and after the last`;
  }
}
