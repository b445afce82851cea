/** Thrown when a training quantity becomes NaN or ±Infinity; names the step and the quantity. */
export class NonFiniteError extends Error {
  override name = 'NonFiniteError';
  constructor(readonly step: number, readonly quantity: string, readonly value: number) {
    super(`${quantity} is ${value} at step ${step}; the run was stopped (last checkpoint kept). Check training.learningRate, loss.temperature / loss.tau0 and the data.`);
  }
}

/** Throws NonFiniteError for the first non-finite named value. */
export function assertFinite(step: number, values: Record<string, number>): void {
  for (const [quantity, value] of Object.entries(values)) {
    if (!Number.isFinite(value)) throw new NonFiniteError(step, quantity, value);
  }
}
