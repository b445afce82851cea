import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  formatBytes,
  formatCollapse,
  formatCount,
  formatDataLens,
  formatDistribution,
  formatLossLens,
  formatLossLensTooltip,
  formatStat,
  formatStatusBar,
} from '../../src/extension/shared/lensText';
import * as fs from 'fs';
import * as path from 'path';
import type { DistributionSummary } from '../../src/core/metrics/types';
import type { StepEvent } from '../../src/core/runs/eventSchema';

/** The step event example of docs/run-format.md §4.2 (adaptive margin: δ set, τ null). */
const DOC_STEP: StepEvent = JSON.parse(
  fs
    .readFileSync(path.resolve(__dirname, '../../docs/run-format.md'), 'utf8')
    .split('\n')
    .find((l) => l.startsWith('{"v":2,"type":"step"'))!,
);

/** The doc's δ summary with other percentiles. */
function summary(p05: number, p50: number, p95: number): DistributionSummary {
  return { ...DOC_STEP.diagnostics.dist.delta!, p05, p50, p95 };
}

/** The doc's step event at another step, with other δ / τ / R / verdict / loss. */
function stepEvent(
  step: number,
  o: {
    delta?: DistributionSummary | null;
    tau?: DistributionSummary | null;
    ratio?: number | null;
    state?: StepEvent['verdict']['state'];
    loss?: number | null;
  } = {},
): StepEvent {
  const e: StepEvent = structuredClone(DOC_STEP);
  e.step = step;
  if (o.delta !== undefined) e.diagnostics.dist.delta = o.delta;
  if (o.tau !== undefined) e.diagnostics.dist.tau = o.tau;
  if (o.ratio !== undefined) e.diagnostics.collapse.ratio = o.ratio;
  if (o.loss !== undefined) e.loss = o.loss;
  if (o.state && o.state !== 'healthy') e.verdict = { state: o.state, reason: 'item cosine 0.93 > 0.90 for 3 logged steps' };
  return e;
}

test("the format's own example reads as the spec shows it", () => {
  assert.equal(formatLossLens(DOC_STEP, { kind: 'live', totalSteps: 2000 }), 'δ p50 0.21 [p05 0.11 – p95 0.31] · collapse: healthy (R 2.36) · step 1200/2000');
});

test('formatStat: two decimals from 0.1 up, two significant digits below, a dash for missing values', () => {
  assert.equal(formatStat(0.1137), '0.11');
  assert.equal(formatStat(1.8), '1.80');
  assert.equal(formatStat(-0.25), '-0.25');
  assert.equal(formatStat(1 / 30), '0.033');
  assert.equal(formatStat(0.00612), '0.0061');
  assert.equal(formatStat(0), '0');
  assert.equal(formatStat(null), '–');
  assert.equal(formatStat(Number.NaN), '–');
  assert.equal(formatStat(Number.POSITIVE_INFINITY), '–');
});

test('the loss lens of a live margin run reads "δ p50 … [p05 … – p95 …] · collapse: state (R x)" and the step', () => {
  const e = stepEvent(120, { delta: summary(0.06, 0.11, 0.19), ratio: 1.84 });
  assert.equal(formatLossLens(e, { kind: 'live', totalSteps: 300 }), 'δ p50 0.11 [p05 0.06 – p95 0.19] · collapse: healthy (R 1.84) · step 120/300');
});

test('a softmax run shows τ (δ is null) with small temperatures readable; an unknown total is left out', () => {
  const e = stepEvent(40, { delta: null, tau: summary(0.038, 0.049, 0.059), ratio: null, state: 'warning' });
  assert.equal(formatLossLens(e, { kind: 'live', totalSteps: null }), 'τ p50 0.049 [p05 0.038 – p95 0.059] · collapse: warning (R n/a) · step 40');
  assert.equal(formatCollapse(e), 'collapse: warning (R n/a)');
  assert.match(formatLossLensTooltip(e), /^warning: item cosine 0\.93 > 0\.90/);
});

test("the last run's values say where they come from", () => {
  const e = stepEvent(300, { tau: summary(0.03, 0.04, 0.05) });
  assert.equal(
    formatLossLens(e, { kind: 'last-run', status: 'completed' }),
    'δ p50 0.21 [p05 0.11 – p95 0.31] · τ p50 0.040 [p05 0.030 – p95 0.050] · collapse: healthy (R 2.36) · last run, step 300 (completed)',
  );
});

test('an empty or non-finite distribution is not shown as numbers', () => {
  assert.equal(formatDistribution('δ', { ...summary(0.1, 0.2, 0.3), count: 0 }), null);
  assert.equal(formatDistribution('δ', null), null);
  const nulls = { ...summary(0.1, 0.2, 0.3), p50: null };
  assert.equal(formatDistribution('δ', nulls), 'δ p50 – [p05 0.10 – p95 0.30]');
  assert.equal(formatDistribution('δ', { ...summary(0.1, 0.2, 0.3), count: null }), 'δ n/a (count not finite)');
});

test('the loss lens tooltip says n/a (not finite) for a measured value written as null', () => {
  const e = stepEvent(40, { loss: null });
  e.diagnostics.collapse.gap = null;
  e.diagnostics.collapse.violationRate = null;
  e.diagnostics.recall.at10 = null;
  const tip = formatLossLensTooltip(e);
  assert.match(tip, /\nloss n\/a \(not finite\) · in-batch recall@10 n\/a \(not finite\)\n/);
  assert.match(tip, / · gap n\/a \(not finite\) · violation rate n\/a \(not finite\)$/);
});

test('data lenses: counts with separators, bad lines flagged, loading and errors', () => {
  assert.equal(formatCount(25110), '25,110');
  assert.equal(formatCount(1234567), '1,234,567');
  assert.equal(formatDataLens({ kind: 'loaded', examples: 25110, badLines: 0, what: 'examples', from: 'load' }), '25,110 examples · 0 bad lines');
  assert.equal(formatDataLens({ kind: 'loaded', examples: 6120, badLines: 1, what: 'items', from: 'run' }), '6,120 items · $(warning) 1 bad line');
  assert.equal(formatDataLens({ kind: 'loaded', examples: 10, badLines: 1500, what: 'examples', from: 'load' }), '10 examples · $(warning) 1,500 bad lines');
  assert.equal(
    formatDataLens({ kind: 'loaded', examples: 80, badLines: 0, what: 'examples', from: 'load', shape: 'FlagEmbedding/BGE query+pos+neg' }),
    '80 examples · 0 bad lines · FlagEmbedding/BGE query+pos+neg',
  );
  assert.match(formatDataLens({ kind: 'loading' }), /counting/);
  assert.equal(formatDataLens({ kind: 'error', message: 'data file not found: /x (data.test)' }), '$(error) data file not found: /x (data.test)');
  assert.equal(
    formatDataLens({ kind: 'note', message: `${formatBytes(1.234e9)}: counted when training loads it` }),
    '$(info) 1.2 GB: counted when training loads it',
  );
  assert.equal(
    formatDataLens({ kind: 'indexed', lines: 3_000_000, bytes: 1.26e9, what: 'examples' }),
    '≈3,000,000 examples (data lines of 1.3 GB) · bad lines counted when training reads it',
  );
  assert.deepEqual([formatBytes(512), formatBytes(12_345), formatBytes(350e6)], ['512 B', '12 kB', '350 MB']);
});

test('the status bar names the run, its progress, loss and collapse state', () => {
  const e = stepEvent(120, { loss: 0.4123, state: 'collapsed' });
  assert.equal(formatStatusBar({ name: 'shop', running: true, step: 120, totalSteps: 300 }, e), '$(pulse) shop 120/300 · loss 0.41 · collapsed');
  assert.equal(formatStatusBar({ name: 'shop', running: false, step: 7, totalSteps: null }, null), '$(graph-line) shop 7');
});

test('the lens shows every verdict state with R to two decimals (R = 1 is the boundary)', () => {
  for (const state of ['initialising', 'collapsing', 'never-separated'] as const) {
    const e = stepEvent(30, { tau: summary(0.03, 0.04, 0.05), ratio: 0.5719, state });
    assert.equal(formatCollapse(e), `collapse: ${state} (R 0.57)`);
  }
  assert.equal(formatCollapse(stepEvent(30, { ratio: 12.2 })), 'collapse: healthy (R 12.20)');
  const e = stepEvent(30, { ratio: null });
  e.diagnostics.collapse.ratioNote = '1 − mean s(q,v) = 0.0e+0 ≤ 0.000001: every query coincides with its positive';
  assert.match(
    formatLossLensTooltip(e),
    /\nR n\/a \(1 − mean s\(q,v\) = 0\.0e\+0 ≤ 0\.000001: every query coincides with its positive\) · gap 0\.50 · violation rate 0\.021$/,
  );
});
