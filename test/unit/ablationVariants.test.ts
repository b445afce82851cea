/**
 * `retrieval-lens ablate --variants`: the paper's 8 by default, learned α/δ₀/τ₀ and Adap-τ by name, an unknown name
 * refused naming the known ones; a real ablation of the new variants (2 seeds) whose rows hold mean ± std and whose
 * runs really learned (their step events carry the learned values) or used Adap-τ; no "beats" below 2 seeds an arm.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { loadConfig } from '../../src/core/config';
import { createSweep } from '../../src/core/experiments/newSweep';
import { SweepScheduler } from '../../src/core/experiments/scheduler';
import { ablationMarkdown, ablationNotes, ablationTable, meanStd } from '../../src/core/experiments/summary';
import type { AblationFile } from '../../src/core/experiments/sweepFile';
import { parseVariants, planAblation } from '../../src/core/experiments/sweepPlan';
import { ABLATION_MD } from '../../src/core/experiments/sweepStore';
import { readEvents, type StepEvent } from '../../src/core/runs';
import { trainerLauncher } from '../../src/trainer/sweepLauncher';
import { smallExperiment } from '../helpers/smallExperiment';

/** A completed ablation row of recall@10 values (one per seed). */
const row = (variant: AblationFile['rows'][number]['variant'], v: number[]) => ({
  variant,
  label: variant,
  completed: v.length,
  planned: v.length,
  columns: { 'recall@10': meanStd(v) },
  verdicts: v.map(() => 'healthy'),
  runDirs: v.map((_, i) => `r${i}`),
  tower: variant.startsWith('dpsr-') ? 'dpsr' : 'dssm',
});

/** An ablation table of these rows (seeds from the first row). */
const ablationFileOf = (rows: AblationFile['rows']): AblationFile => ({
  version: 1,
  configPath: 'x.rlens.json',
  seeds: rows[0].columns['recall@10'].values.map((_, i) => i),
  steps: 10,
  source: 'corpus',
  columns: ['recall@10'],
  best: {},
  rows,
  code: { retrievalLens: 'test', gitCommit: null },
  fixed: { margin: null, temperature: null },
});

test('--variants: the paper 8 by default, the named ones in table order, an unknown name refused', () => {
  assert.equal(parseVariants(undefined).length, 8);
  assert.deepEqual(parseVariants('softmax-adap-tau, softmax-fixed,margin-learned'), ['softmax-fixed', 'margin-learned', 'softmax-adap-tau']);
  assert.throws(() => parseVariants('softmax-fixed,dpsr'), /unknown variant "dpsr"; known: margin-fixed, .*softmax-adap-tau/);
  const exp = smallExperiment();
  for (const r of planAblation('shop', [1], parseVariants('margin-learned,softmax-learned,softmax-adap-tau'))) {
    const loss = loadConfig(exp.config, r.overrides).config.loss;
    if (r.variant === 'margin-learned') assert.deepEqual([loss.type, loss.trainable], ['margin', ['alpha', 'delta0']]);
    if (r.variant === 'softmax-learned') assert.deepEqual([loss.type, loss.trainable], ['softmax', ['alpha', 'tau0']]);
    if (r.variant === 'softmax-adap-tau') assert.deepEqual([loss.type, loss.temperatureRule], ['softmax', 'adap-tau']);
  }
});

test('tower-preset variants: each runs its loss on its tower (model.preset), labelled by tower; the notes compare towers with no "beats" below 2 seeds', () => {
  const exp = smallExperiment();
  const names = 'dpsr-softmax-adaptive,dssm-margin-fixed,dpsr-softmax-learned';
  assert.deepEqual(parseVariants(names), ['dssm-margin-fixed', 'dpsr-softmax-adaptive', 'dpsr-softmax-learned']);
  for (const r of planAblation('shop', [1], parseVariants(names))) {
    const cfg = loadConfig(exp.config, r.overrides).config;
    if (r.variant === 'dssm-margin-fixed') assert.deepEqual([cfg.model.preset, cfg.loss.type, cfg.loss.adaptive], ['dssm', 'margin', false]);
    if (r.variant === 'dpsr-softmax-adaptive')
      assert.deepEqual([cfg.model.preset, cfg.loss.type, cfg.loss.adaptive, cfg.loss.stopGradient, cfg.loss.symmetric], ['dpsr', 'softmax', true, true, true]);
    if (r.variant === 'dpsr-softmax-learned') assert.deepEqual([cfg.model.preset, cfg.loss.trainable], ['dpsr', ['alpha', 'tau0']]);
  }
  const file = (dssm: number[], dpsr: number[]) => ablationFileOf([row('dssm-softmax-fixed', dssm), row('dpsr-softmax-fixed', dpsr)]);
  const one = ablationNotes(file([0.3], [0.4])).filter((n) => n.startsWith('towers, softmax-fixed'));
  assert.equal(one.length, 1);
  assert.match(one[0], /no claim/);
  const three = ablationNotes(file([0.3, 0.302, 0.298], [0.4, 0.402, 0.398])).filter((n) => n.startsWith('towers, softmax-fixed'));
  assert.match(three[0], /dpsr-softmax-fixed beats dssm-softmax-fixed/);
  assert.match(ablationMarkdown(file([0.3], [0.4])), /\| dpsr-softmax-fixed \| dpsr \| /);
});

test('notes of the variants beyond the paper: against the paper method, no "beats" with one seed, a claim with 3 separated seeds', () => {
  const file = (paper: number[], learned: number[]) => ablationFileOf([row('softmax-adaptive-sg-sym', paper), row('softmax-learned', learned)]);
  const one = ablationNotes(file([0.3], [0.4])).filter((n) => n.includes('beyond the paper'));
  assert.equal(one.length, 1);
  assert.match(one[0], /no claim/);
  assert.doesNotMatch(one[0], /beats/);
  const three = ablationNotes(file([0.3, 0.302, 0.298], [0.4, 0.402, 0.398])).filter((n) => n.includes('beyond the paper'));
  assert.match(three[0], /softmax-learned beats softmax-adaptive-sg-sym/);
});

test('a real ablation of fixed, learned and Adap-τ softmax (2 seeds): rows with mean ± std, learned values in the runs', async () => {
  const exp = smallExperiment({ training: { steps: 8, logEvery: 2, checkpointEvery: 100 } });
  const { dir } = createSweep({
    configPath: exp.config,
    code: { retrievalLens: 'test', gitCommit: null },
    seedCount: 2,
    variants: parseVariants('softmax-fixed,softmax-learned,softmax-adap-tau'),
  });
  const final = await new SweepScheduler(dir, trainerLauncher()).run();
  assert.ok(
    final.runs.every((r) => r.status === 'completed'),
    final.runs.map((r) => `${r.id} ${r.status} ${r.error ?? ''}`).join('\n'),
  );
  const table = ablationTable(final);
  assert.deepEqual(
    table.rows.map((r) => [r.variant, r.completed]),
    [
      ['softmax-fixed', 2],
      ['softmax-learned', 2],
      ['softmax-adap-tau', 2],
    ],
  );
  for (const row of table.rows) assert.equal(row.columns['recall@10'].n, 2);
  const md = fs.readFileSync(path.join(dir, ABLATION_MD), 'utf8');
  assert.equal(md, ablationMarkdown(table));
  assert.match(md, /\| adaptive softmax \+ sg \+ sym, learned α τ₀ \| dssm \| (\*\*)?[\d.]+ ± [\d.]+(\*\*)? \|/);
  const learnedRun = table.rows.find((r) => r.variant === 'softmax-learned')!.runDirs[0];
  const steps = readEvents(path.join(path.resolve(dir, learnedRun), 'events.jsonl')).events.filter((e): e is StepEvent => e.type === 'step');
  assert.ok(steps.every((s) => typeof s.learned?.alpha === 'number' && typeof s.learned?.tau0 === 'number'));
  assert.notEqual(steps.at(-1)!.learned!.tau0, 1 / 30, 'τ₀ moved');
  const adapRun = table.rows.find((r) => r.variant === 'softmax-adap-tau')!.runDirs[0];
  const adap = readEvents(path.join(path.resolve(dir, adapRun), 'events.jsonl')).events.filter((e): e is StepEvent => e.type === 'step');
  const tau = adap.at(-1)!.diagnostics.dist.tau!;
  assert.ok(tau.max! > tau.min!, `Adap-τ gives anchors different τ: ${tau.min}..${tau.max}`);
});
