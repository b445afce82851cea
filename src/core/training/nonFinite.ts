/**
 * Thrown when a training quantity becomes NaN or ±Infinity; names the step and the quantity, and
 * says whether a last checkpoint (from before the bad step) is kept.
 */
export class NonFiniteError extends Error {
  override name = 'NonFiniteError';
  constructor(
    readonly step: number,
    readonly quantity: string,
    readonly value: number,
    readonly lastCheckpointStep: number | null = null,
  ) {
    super(
      `${quantity} is ${value} at step ${step}; the run was stopped (${lastCheckpointStep === null ? 'no checkpoint was written yet' : `last checkpoint kept, from step ${lastCheckpointStep}`}). ` +
        'Check training.learningRate, loss.temperature / loss.tau0 and the data.',
    );
  }
}

/** Throws NonFiniteError for the first non-finite named value. */
export function assertFinite(step: number, values: Record<string, number>, lastCheckpointStep: number | null = null): void {
  for (const [quantity, value] of Object.entries(values)) {
    if (!Number.isFinite(value)) throw new NonFiniteError(step, quantity, value, lastCheckpointStep);
  }
}

/**
 * Thrown when no batch of the first epoch (or of a run shorter than an epoch) had a single negative:
 * the loss is 0 and nothing is learned, e.g. every pair has the same positive id.
 */
export class NoNegativesError extends Error {
  override name = 'NoNegativesError';
  constructor(
    readonly step: number,
    wholeEpoch: boolean,
  ) {
    super(
      `no negatives in ${wholeEpoch ? 'the whole first epoch' : 'any step'} (steps 1–${step}): every in-batch item has the positive's id and there are no explicit negatives, ` +
        'so the loss is 0 and nothing is learned. Give items distinct ids (item_id / positive.id) or add "negatives".',
    );
  }
}
