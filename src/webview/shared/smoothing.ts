/**
 * TensorBoard's scalar smoothing: a debiased exponential moving average. With weight w in [0, 1),
 * last ← w·last + (1 − w)·y and the shown value is last / (1 − w^n) after n finite values (the
 * debiasing keeps the first points from being pulled towards 0). Missing values (NaN) stay missing
 * and do not advance the average. w = 0 shows the raw values.
 */
export class EmaSmoother {
  private last = 0;
  private n = 0;

  constructor(readonly weight: number) {
    if (!(weight >= 0 && weight < 1)) throw new RangeError(`EmaSmoother: weight must be in [0, 1), got ${weight}`);
  }

  /** The smoothed value after `y` (NaN for a missing y). */
  next(y: number): number {
    if (!Number.isFinite(y)) return NaN;
    this.last = this.last * this.weight + (1 - this.weight) * y;
    this.n++;
    const debias = 1 - Math.pow(this.weight, this.n);
    return this.last / debias;
  }
}
