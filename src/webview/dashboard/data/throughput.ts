/**
 * Training speed for the header: steps per second from the step numbers and event times of the
 * recent logged steps (wall clock, so it includes logging and checkpoints), and the time left.
 */
import type { GrowableFloat64 } from '../../shared/growableArray';

/** Logged steps the speed is measured over. */
export const RATE_WINDOW = 20;

/** Steps/s over the last `window` logged steps with valid times; null with fewer than 2 or no elapsed time. */
export function stepsPerSecond(steps: GrowableFloat64, times: GrowableFloat64, window = RATE_WINDOW): number | null {
  const n = steps.length;
  if (n < 2) return null;
  const last = n - 1;
  const first = Math.max(0, n - 1 - window);
  const dt = times.get(last) - times.get(first);
  const ds = steps.get(last) - steps.get(first);
  if (!(dt > 0) || !(ds > 0)) return null;
  return (ds / dt) * 1000;
}

/** Seconds left to reach `total` from `step` at `rate` steps/s; null when unknown. */
export function secondsLeft(step: number, total: number | null, rate: number | null): number | null {
  if (total === null || rate === null || !(rate > 0)) return null;
  return Math.max(0, total - step) / rate;
}
