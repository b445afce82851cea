/**
 * The lens above `loss` for learned hyper-parameters (loss.trainable): "learned α 0.50 → 0.31 · τ₀ 0.033 → 0.021",
 * from the value this config starts them at (its loss.alpha / delta0 / tau0, or the schema default) to the value in
 * the step summarised by the loss lens (live or the last run's). Null when that step learned nothing.
 */
import { parse } from 'jsonc-parser';
import schema from '../../../schemas/experiment.schema.json';
import { formatLearned } from '../../core/losses/learnedHyper';
import type { LearnedHyperName } from '../../core/losses/types';
import type { StepEvent } from '../../core/runs/eventSchema';

const LOSS_DEFAULTS = schema.properties.loss.properties;

/** The config's starting value of each hyper-parameter the step learned. */
function startValues(configText: string, learned: NonNullable<StepEvent['learned']>): Partial<Record<LearnedHyperName, number>> {
  const root: unknown = parse(configText, [], { allowTrailingComma: true });
  const loss = (root !== null && typeof root === 'object' ? (root as { loss?: unknown }).loss : undefined) as Record<string, unknown> | undefined;
  const out: Partial<Record<LearnedHyperName, number>> = {};
  for (const name of Object.keys(learned) as LearnedHyperName[]) {
    const v = loss?.[name];
    out[name] = typeof v === 'number' ? v : LOSS_DEFAULTS[name].default;
  }
  return out;
}

export function learnedLensTitle(configText: string, e: StepEvent): string | null {
  if (!e.learned || Object.keys(e.learned).length === 0) return null;
  const text = formatLearned(startValues(configText, e.learned), e.learned);
  return text ? `learned ${text}` : null;
}
