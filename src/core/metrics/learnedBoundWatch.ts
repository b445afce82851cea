/**
 * Watches learned α / δ₀ / τ₀ (loss.trainable, src/core/losses/learnedHyper.ts) for a value that ran to its
 * bound: a value within BOUND_TOLERANCE of its floor for BOUND_STEPS consecutive logged steps gives a warning
 * naming the value and the bound ("δ₀ 0.00041 at its floor 0 for 5 logged steps"), which the step's verdict
 * carries (`withLearnedBound`). Why it happens: docs/collapse.md ("Learned α, δ₀, τ₀").
 */
import { LEARNED_FLOORS, LEARNED_SYMBOLS } from '../losses/learnedHyper';
import type { LearnedHyperName } from '../losses/types';
import type { CollapseVerdict } from './types';

/** A learned value at most this far above its floor is "at its bound". */
export const BOUND_TOLERANCE = 1e-3;
/** Consecutive logged steps a value must sit at its bound before the warning. */
export const BOUND_STEPS = 5;

const NAMES: readonly LearnedHyperName[] = ['alpha', 'delta0', 'tau0'];

export class LearnedBoundWatch {
  private readonly runs: Record<LearnedHyperName, number> = { alpha: 0, delta0: 0, tau0: 0 };

  /** Feeds one logged step's learned values; returns the warning, or null while every value is clear of its bound. */
  update(values: Partial<Record<LearnedHyperName, number>>): string | null {
    const at: string[] = [];
    for (const name of NAMES) {
      const v = values[name];
      if (v === undefined) continue;
      const floor = LEARNED_FLOORS[name];
      this.runs[name] = v - floor <= BOUND_TOLERANCE ? this.runs[name] + 1 : 0;
      if (this.runs[name] >= BOUND_STEPS) {
        at.push(`learned ${LEARNED_SYMBOLS[name]} ${v.toPrecision(2)} at its floor ${floor} for ${this.runs[name]} logged steps`);
      }
    }
    return at.length > 0 ? at.join('; ') : null;
  }
}

/**
 * The step's verdict with a learned-bound warning: a healthy (or still initialising) run becomes "warning" with
 * the bound as its reason; any other state keeps its state and gains the bound in its reason.
 */
export function withLearnedBound(verdict: CollapseVerdict, warning: string | null): CollapseVerdict {
  if (warning === null) return verdict;
  if (verdict.state === 'healthy' || verdict.state === 'initialising') return { state: 'warning', reason: warning };
  return { state: verdict.state, reason: `${verdict.reason}; ${warning}` };
}
