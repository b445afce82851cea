/**
 * Watches learned α / δ₀ / τ₀ (loss.trainable, src/core/losses/learnedHyper.ts) for a value that ran away, either way:
 * - down: within BOUND_TOLERANCE of its floor for BOUND_STEPS consecutive logged steps ("δ₀ 0.00041 at its floor 0
 *   for 5 logged steps");
 * - up: above its ceiling (LEARNED_CEILINGS) for BOUND_STEPS consecutive logged steps ("τ₀ 3.4 above its ceiling 1
 *   for 5 logged steps"), or, before that, at least RUNAWAY_FACTOR × both its first logged value and its lowest
 *   of the last BOUND_STEPS logged steps ("τ₀ 0.72 grew ×22 within 5 logged steps, from 0.033 at step 1;
 *   ceiling 1"; × rounded down) — a climb the floor cannot bound. A value that grew past its ceiling so is said to be
 *   above it from then on, without waiting BOUND_STEPS.
 * The warning names the value and the bound, and the step's verdict carries it (`withLearnedBound`). Why it
 * happens: docs/collapse.md ("Learned α, δ₀, τ₀"). python/retrieval_lens/verdict.py mirrors it (parity fixtures).
 */
import { LEARNED_FLOORS, LEARNED_SYMBOLS } from '../losses/learnedHyper';
import type { LearnedHyperName } from '../losses/types';
import type { CollapseVerdict } from './types';

/** A learned value at most this far above its floor is "at its bound". */
export const BOUND_TOLERANCE = 1e-3;
/** Consecutive logged steps a value must sit at its bound before the warning; also the window of the growth rule. */
export const BOUND_STEPS = 5;
/**
 * Above these a learned value has left any useful range (cosine scores lie in [−1, 1]): τ₀ > 1 makes the softmax
 * over cosines nearly uniform (logits span ≤ 2, the paper uses τ₀ ≈ 0.03); δ₀ > 1 is a margin of half the score
 * range, active on every pair; α > 2 scales (1 − s) ∈ [0, 2] past that range again.
 */
export const LEARNED_CEILINGS: Readonly<Record<LearnedHyperName, number>> = { alpha: 2, delta0: 1, tau0: 1 };
/** Growth (× its first logged value and × its lowest of the last BOUND_STEPS logged steps) that is a runaway. */
export const RUNAWAY_FACTOR = 10;

const NAMES: readonly LearnedHyperName[] = ['alpha', 'delta0', 'tau0'];

/** Numbers in warnings: 2 significant digits, as JavaScript's toPrecision (python: to_precision). */
const p2 = (x: number) => x.toPrecision(2);

export class LearnedBoundWatch {
  private readonly runs: Record<LearnedHyperName, number> = { alpha: 0, delta0: 0, tau0: 0 };
  private readonly over: Record<LearnedHyperName, number> = { alpha: 0, delta0: 0, tau0: 0 };
  /** The growth rule warned and the value has not come back below its ceiling since: the ceiling rule takes over at once. */
  private readonly warnedUp: Record<LearnedHyperName, boolean> = { alpha: false, delta0: false, tau0: false };
  private readonly first: Partial<Record<LearnedHyperName, { value: number; step: number }>> = {};
  private readonly recent: Record<LearnedHyperName, number[]> = { alpha: [], delta0: [], tau0: [] };

  /** Feeds one logged step's learned values; returns the warning, or null while every value is clear of its bounds. */
  update(values: Partial<Record<LearnedHyperName, number>>, step?: number): string | null {
    const at: string[] = [];
    for (const name of NAMES) {
      const v = values[name];
      if (v === undefined) continue;
      const sym = LEARNED_SYMBOLS[name];
      const floor = LEARNED_FLOORS[name];
      const ceiling = LEARNED_CEILINGS[name];
      const first = (this.first[name] ??= { value: v, step: step ?? 1 });
      const recent = this.recent[name];
      recent.push(v);
      if (recent.length > BOUND_STEPS) recent.shift();
      this.runs[name] = v - floor <= BOUND_TOLERANCE ? this.runs[name] + 1 : 0;
      this.over[name] = v > ceiling ? this.over[name] + 1 : 0;
      if (v <= ceiling) this.warnedUp[name] = false;
      const growth = v / Math.min(...recent);
      if (this.runs[name] >= BOUND_STEPS) at.push(`learned ${sym} ${p2(v)} at its floor ${floor} for ${this.runs[name]} logged steps`);
      else if (this.over[name] >= BOUND_STEPS || (this.over[name] > 0 && this.warnedUp[name]))
        at.push(`learned ${sym} ${p2(v)} above its ceiling ${ceiling} for ${this.over[name]} logged steps`);
      else if (growth >= RUNAWAY_FACTOR && v >= RUNAWAY_FACTOR * first.value) {
        this.warnedUp[name] = true;
        at.push(
          `learned ${sym} ${p2(v)} grew ×${Math.floor(growth)} within ${recent.length} logged steps, from ${p2(first.value)} at step ${first.step}; ceiling ${ceiling}`,
        );
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
