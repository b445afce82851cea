/**
 * The sweep controls of issue 19 that need no VS Code: the size a sweep asks to confirm (run count × steps),
 * the steps/seeds input check, "Compare Runs" of a sweep including its adaptive reference runs, a sweep
 * the user cancelled not offered for resume when a window opens (still listed by "Resume Sweep…"), and a
 * running sweep's runs kept apart from its config's own (lens, ▷ Train asking first).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { createSweep } from '../../src/core/experiments/newSweep';
import type { SweepFile, SweepRunResult } from '../../src/core/experiments/sweepFile';
import { readSweepFile, writeSweepFile } from '../../src/core/experiments/sweepStore';
import { sweepViewOf } from '../../src/core/experiments/sweepView';
import { sweepRunDirs } from '../../src/core/experiments/sweepViewSchema';
import { positiveInt, sweepSize } from '../../src/extension/sweep/sweepSetup';
import { unfinishedSweeps } from '../../src/extension/sweep/unfinishedSweeps';
import { isSweepRun, ownRuns, sweepRunDirsOf, trainConflict } from '../../src/extension/training/trainConflict';
import { smallExperiment } from '../helpers/smallExperiment';

const code = { retrievalLens: 'test', gitCommit: null };

test('sweep size: runs as planned (values × seeds + the adaptive reference per seed) × steps', () => {
  const t = sweepSize('loss.temperature', [0.02, 0.05, 0.1], 2, 300);
  assert.equal(t.runs, 8, '3 values × 2 seeds + 2 reference runs');
  assert.equal(t.totalSteps, 2400);
  assert.equal(t.text, '8 runs × 300 steps = 2,400 training steps (3 values × 2 seeds + the adaptive reference per seed)');
  const a = sweepSize('loss.alpha', [0.1, 0.5], 1, 1000);
  assert.equal(a.text, '2 runs × 1,000 steps = 2,000 training steps (2 values × 1 seed)');
  const s = sweepSize('training.steps', [100, 400], 2, 999);
  assert.equal(s.totalSteps, 1000, 'a sweep of training.steps trains each run its own value');
  assert.match(s.text, /^4 runs × its value in steps = 1,000 training steps/);
});

test('steps and seeds: positive whole numbers, the reason otherwise', () => {
  assert.deepEqual(positiveInt(' 300 ', 'steps'), { value: 300 });
  assert.deepEqual(positiveInt('1,000', 'steps'), { value: 1000 });
  assert.deepEqual(positiveInt('0', 'seeds'), { problem: 'seeds must be a positive whole number, got "0"' });
  assert.ok('problem' in positiveInt('2.5', 'seeds'));
  assert.ok('problem' in positiveInt('', 'steps'));
});

/** A finished-looking result with recall@10 = `r10`. */
function result(r10: number): SweepRunResult {
  return {
    source: 'in-batch',
    step: 10,
    metrics: { 'recall@10': r10 },
    bm25: null,
    ratio: 1,
    violationRate: 0,
    itemCosine: 0.3,
    verdict: 'healthy',
    verdictReason: '',
    trainingMs: 1,
    backend: 'wasm',
    config: {},
    checkpoint: null,
    code,
  };
}

/** Marks every run of the sweep completed with a run folder and a result (what the scheduler writes). */
function complete(dir: string): SweepFile {
  const f = readSweepFile(dir);
  f.runs.forEach((r, i) => {
    r.status = 'completed';
    r.runDir = `../../runs/r${i}-${r.id}`;
    r.result = result(0.1 + i / 100);
  });
  writeSweepFile(dir, f);
  return f;
}

test('"Compare Runs" of a fixed-τ sweep includes the adaptive reference runs', () => {
  const exp = smallExperiment();
  const { dir } = createSweep({ configPath: exp.config, sweep: { param: 'loss.temperature', values: [0.05, 0.1] }, seedCount: 2, code });
  const f = complete(dir);
  const view = sweepViewOf(dir);
  const refDirs = f.runs.filter((r) => r.reference).map((r) => path.resolve(dir, r.runDir as string));
  assert.equal(refDirs.length, 2);
  assert.deepEqual(
    view.reference?.runs?.map((r) => r.runDir),
    refDirs,
  );
  const dirs = sweepRunDirs(view);
  assert.equal(dirs.length, 6, '4 fixed-τ runs + 2 adaptive');
  for (const d of refDirs) assert.ok(dirs.includes(d), `${d} is compared`);
  fs.rmSync(exp.dir, { recursive: true, force: true });
});

test('a sweep the user cancelled is not offered for resume on start-up, but "Resume Sweep…" lists it', () => {
  const exp = smallExperiment();
  const a = createSweep({ configPath: exp.config, sweep: { param: 'loss.alpha', values: [0.1] }, code, now: new Date('2026-01-01T00:00:00Z') });
  const b = createSweep({ configPath: exp.config, sweep: { param: 'loss.alpha', values: [0.3] }, code, now: new Date('2026-01-02T00:00:00Z') });
  const cancelled = readSweepFile(b.dir);
  cancelled.cancelledAt = new Date().toISOString();
  writeSweepFile(b.dir, cancelled);
  assert.deepEqual(
    unfinishedSweeps([exp.config], { includeCancelled: false }).map((s) => s.dir),
    [a.dir],
  );
  assert.deepEqual(
    unfinishedSweeps([exp.config], { includeCancelled: true }).map((s) => s.dir),
    [b.dir, a.dir],
  );
  fs.rmSync(exp.dir, { recursive: true, force: true });
});

test('a running sweep’s runs are not its config’s own; ▷ Train asks when a run of the config is running', () => {
  const sweepDir = '/w/sweeps/20260101-000000-shop-loss.temperature';
  const file = {
    runs: [
      { runDir: '../../runs/a-tau-0-05-s1', previousRunDirs: ['../../runs/old-tau-0-05-s1'] },
      { runDir: null, previousRunDirs: [] },
    ],
  } as unknown as Pick<SweepFile, 'runs'>;
  const sweepRuns = sweepRunDirsOf(sweepDir, file);
  assert.deepEqual([...sweepRuns], ['/w/runs/a-tau-0-05-s1', '/w/runs/old-tau-0-05-s1']);
  const runs = [{ dir: '/w/runs/a-tau-0-05-s1' }, { dir: '/w/runs/own' }];
  assert.deepEqual(ownRuns(runs, sweepRuns), [{ dir: '/w/runs/own' }]);
  assert.equal(isSweepRun('/w/runs/../runs/a-tau-0-05-s1', sweepRuns), true);

  assert.equal(trainConflict('/w/shop.rlens.json', [], sweepRuns), null, 'nothing running: train at once');
  const c = trainConflict('/w/shop.rlens.json', [{ dir: '/w/runs/a-tau-0-05-s1', name: 'shop-tau-0-05-s1', step: 1200, totalSteps: 3000 }], sweepRuns);
  assert.equal(c?.runDir, '/w/runs/a-tau-0-05-s1');
  assert.equal(
    c?.message,
    'shop.rlens.json is already training: shop-tau-0-05-s1 (step 1,200 of 3,000, a run of the sweep that is running). Start another training of it?',
  );
  const cli = trainConflict('/w/shop.rlens.json', [{ dir: '/w/runs/cli', name: 'shop', step: 5, totalSteps: null }], sweepRuns);
  assert.match(cli?.message ?? '', /shop \(step 5, not started from this window\)/);
});
