/** The config lens of learned α / δ₀ / τ₀ (src/extension/configEditor/learnedLens.ts): start value from the config or the schema default. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { learnedLensTitle } from '../../src/extension/configEditor/learnedLens';
import type { StepEvent } from '../../src/core/runs/eventSchema';

const step = (learned?: StepEvent['learned']) => ({ type: 'step', step: 300, learned }) as unknown as StepEvent;

test('learned lens: "α 0.50 → 0.31" from the config (or its default) to the step; none when nothing is learned', () => {
  const config = '{\n  // comment\n  "data": { "train": "x.jsonl" },\n  "loss": { "type": "softmax", "tau0": 0.05, "trainable": ["alpha", "tau0"], },\n}';
  assert.equal(learnedLensTitle(config, step({ alpha: 0.3104, tau0: 0.0213 })), 'learned α 0.50 → 0.31 · τ₀ 0.050 → 0.021');
  assert.equal(learnedLensTitle('{ "loss": { "type": "margin", "delta0": 0.2 } }', step({ delta0: 0.00041 })), 'learned δ₀ 0.20 → 0.00041');
  assert.equal(learnedLensTitle(config, step()), null);
  assert.equal(learnedLensTitle('not json', step({ alpha: 0.4 })), 'learned α 0.50 → 0.40');
});
