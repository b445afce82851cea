/**
 * What a sweep started in VS Code asks before it starts (sweepController.ts): the steps of every run and the
 * seeds per value (the config's as defaults), then a confirmation naming the run count × steps. No VS Code
 * import: unit-tested.
 */
import { planSweep, seedList } from '../../core/experiments/sweepPlan';

/** A positive integer typed in an input box; null with the reason otherwise. */
export function positiveInt(text: string, what: string): { value: number } | { problem: string } {
  const t = text.trim().replace(/[_,](?=\d{3}\b)/g, '');
  if (!/^\d+$/.test(t) || Number(t) < 1) return { problem: `${what} must be a positive whole number, got "${text.trim()}"` };
  return { value: Number(t) };
}

export interface SweepSize {
  runs: number;
  /** Training steps of all runs together. */
  totalSteps: number;
  /** "12 runs × 300 steps = 3,600 training steps (5 values × 2 seeds + the adaptive reference per seed)". */
  text: string;
}

const n = (x: number) => x.toLocaleString('en-US');

/**
 * The size of a sweep of `param` over `values` with `seeds` seeds per value, each run training `steps` steps
 * (a sweep of training.steps trains each run its own value). The runs are planned as createSweep plans them.
 */
export function sweepSize(param: string, values: readonly number[], seeds: number, steps: number): SweepSize {
  const runs = planSweep('sweep', param, [...values], seedList(0, seeds));
  const references = runs.filter((r) => r.reference).length;
  const stepsOf = (r: (typeof runs)[number]) => (param === 'training.steps' && r.value !== null ? r.value : steps);
  const totalSteps = runs.reduce((sum, r) => sum + stepsOf(r), 0);
  const what = `${values.length} value${values.length === 1 ? '' : 's'} × ${seeds} seed${seeds === 1 ? '' : 's'}${references > 0 ? ' + the adaptive reference per seed' : ''}`;
  const perRun = param === 'training.steps' ? 'its value in steps' : `${n(steps)} steps`;
  return { runs: runs.length, totalSteps, text: `${runs.length} run${runs.length === 1 ? '' : 's'} × ${perRun} = ${n(totalSteps)} training steps (${what})` };
}
