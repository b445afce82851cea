/**
 * Sweeps and ablations with real trainer processes (src/core/experiments, src/trainer/sweepLauncher.ts,
 * the CLI): a sweep runs to completion and its points are what the run folders say; a cancel or a
 * SIGKILL of the CLI leaves finished runs intact and the sweep resumable; the ablation's rows and
 * verdicts are its runs'; a sweep of a torchrun config trains each run with the PyTorch trainer. Tiny
 * configs, few steps; every wait is on a state (sweep.json, events.jsonl).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Value } from '@sinclair/typebox/value';
import { createSweep } from '../../src/core/experiments/newSweep';
import { SweepScheduler } from '../../src/core/experiments/scheduler';
import { ablationTable, meanStd, summarizeSweep } from '../../src/core/experiments/summary';
import { sweepViewOf } from '../../src/core/experiments/sweepView';
import { AblationFileSchema, SweepFileSchema, type SweepFile } from '../../src/core/experiments/sweepFile';
import { parseRange, parseValueList, planAblation, planSweep } from '../../src/core/experiments/sweepPlan';
import { ABLATION_JSON, ABLATION_MD, readSweepFile, SWEEP_FILE } from '../../src/core/experiments/sweepStore';
import { readMetrics } from '../../src/core/eval/evalOutputs';
import { readEvents, readMeta } from '../../src/core/runs';
import type { StepEvent } from '../../src/core/runs/eventSchema';
import { codeVersion, trainerLauncher } from '../../src/trainer/sweepLauncher';
import { smallExperiment, SHOP_CORPUS, SHOP_TEST, SHOP_TRAIN } from '../helpers/smallExperiment';
import { torchSkip, TORCH_PYTHON } from '../helpers/torch';

const REPO = path.resolve(__dirname, '../..');
const code = { retrievalLens: 'test', gitCommit: null };

/** Resolves when `pred` holds for a sweep.json the scheduler writes (checked on every write). */
function whenState(s: SweepScheduler, pred: (f: SweepFile) => boolean): Promise<SweepFile> {
  return new Promise((resolve) => {
    if (pred(s.state)) return resolve(s.state);
    const off = s.subscribe((f) => {
      if (pred(f)) {
        off();
        resolve(f);
      }
    });
  });
}

function lastStep(runDir: string): StepEvent {
  const steps = readEvents(path.join(runDir, 'events.jsonl')).events.filter((e) => e.type === 'step') as StepEvent[];
  assert.ok(steps.length > 0, `${runDir} has step events`);
  return steps[steps.length - 1];
}

const runConfig = (runDir: string) => JSON.parse(fs.readFileSync(path.join(runDir, 'config.json'), 'utf8'));

test('plan: values, ranges, overrides, the adaptive reference beside a fixed δ sweep, the 8 ablation variants', () => {
  assert.deepEqual(parseValueList('0.05, 0.1,1/20'), [0.05, 0.1, 0.05]);
  assert.throws(() => parseValueList('0.1,x'), /entry 2 \("x"\) is not a number/);
  assert.deepEqual(parseRange('0.1:0.5:5'), [0.1, 0.2, 0.3, 0.4, 0.5]);
  assert.throws(() => parseRange('0.1:0.5'), /a:b:n/);
  assert.throws(() => planSweep('x', 'loss.margin', [0.1, 0.1], [1]), /given twice/);
  assert.throws(() => planSweep('x', 'training.batchSize', [16.5], [1]), /integers/);
  const runs = planSweep('shop', 'loss.margin', [0.1, 0.2], [7, 8]);
  assert.equal(runs.length, 6, '2 values × 2 seeds + the adaptive reference per seed');
  assert.deepEqual(runs[0].overrides, ['loss.type="margin"', 'loss.adaptive=false', 'loss.margin=0.1', 'training.seed=7', 'name="shop-margin-0-1-s7"']);
  assert.deepEqual(
    runs.filter((r) => r.reference).map((r) => [r.seed, r.overrides.slice(0, 2)]),
    [
      [7, ['loss.type="margin"', 'loss.adaptive=true']],
      [8, ['loss.type="margin"', 'loss.adaptive=true']],
    ],
  );
  assert.equal(planSweep('shop', 'loss.alpha', [0.1], [1]).filter((r) => r.reference).length, 0, 'α has no fixed counterpart: no reference');
  const ab = planAblation('shop', [1]);
  assert.equal(ab.length, 8);
  assert.deepEqual(ab.find((r) => r.variant === 'margin-adaptive')?.overrides.slice(0, 4), [
    'loss.type="margin"',
    'loss.adaptive=true',
    'loss.stopGradient=false',
    'loss.symmetric=false',
  ]);
  assert.deepEqual(meanStd([1, 2, 3]), { n: 3, mean: 2, std: 1, values: [1, 2, 3] });
  assert.deepEqual(meanStd([0.4]), { n: 1, mean: 0.4, std: null, values: [0.4] });
});

test('a 3-value sweep runs to completion (2 at a time) and its summary holds 3 points read from the run folders', async () => {
  const exp = smallExperiment({
    data: { test: SHOP_TEST, corpus: SHOP_CORPUS },
    training: { steps: 12, logEvery: 4, checkpointEvery: 100 },
    evaluation: { index: { type: 'Flat' } },
  });
  const { dir } = createSweep({ configPath: exp.config, sweep: { param: 'loss.alpha', values: [0.1, 0.5, 0.9] }, concurrency: 2, code: codeVersion() });
  let maxRunning = 0;
  const s = new SweepScheduler(dir, trainerLauncher(), {
    onChange: (f) => (maxRunning = Math.max(maxRunning, f.runs.filter((r) => r.status === 'running').length)),
  });
  const final = await s.run();
  assert.equal(final.state, 'finished');
  assert.ok(maxRunning <= 2, `at most 2 runs at once (saw ${maxRunning})`);
  assert.deepEqual(
    final.runs.map((r) => r.status),
    ['completed', 'completed', 'completed'],
  );
  assert.ok(Value.Check(SweepFileSchema, readSweepFile(dir)));
  assert.deepEqual(readSweepFile(dir), final, 'sweep.json on disk is the final state');
  assert.equal(final.summary.points.length, 3);
  for (const [i, v] of [0.1, 0.5, 0.9].entries()) {
    const run = final.runs[i];
    const runDir = path.resolve(dir, run.runDir as string);
    assert.equal(path.dirname(runDir), exp.runs, "the sweep's runs are normal run folders under the config's runsDir");
    assert.equal(runConfig(runDir).loss.alpha, v, 'the run trained with its value');
    assert.equal(runConfig(runDir).training.seed, final.seeds[0]);
    assert.deepEqual(run.result?.config, runConfig(runDir));
    assert.deepEqual(run.result?.code, codeVersion(), 'the result records the code that ran it');
    const evals = readMetrics(runDir).evaluations;
    const exact = evals[evals.length - 1].exact;
    assert.ok(exact, 'the evaluation ran the exact search');
    const p = final.summary.points[i];
    assert.equal(p.value, v);
    assert.equal(p.n, 1);
    assert.equal(p.mean, exact['recall@10'], 'the point is the run folder evaluation recall@10');
    assert.equal(run.result?.source, 'corpus');
    assert.equal(run.result?.bm25?.['recall@10'], evals[evals.length - 1].bm25?.['recall@10']);
    assert.equal(run.result?.verdict, lastStep(runDir).verdict.state);
    assert.equal(run.result?.backend, readMeta(runDir).ok ? (readMeta(runDir) as { meta: { backend: string } }).meta.backend : '');
  }
  assert.deepEqual(summarizeSweep(final), final.summary);
  assert.equal(final.summary.reference, null);
  assert.ok(final.summary.bm25 && final.summary.bm25.n === 3);
  // The result view's data (what the Experiments webview draws): each point with its run folder's value.
  const view = sweepViewOf(dir);
  assert.equal(view.param, 'loss.alpha');
  assert.equal(view.metric, 'recall@10');
  for (const [i, p] of view.points.entries()) {
    const runDir = path.resolve(dir, final.runs[i].runDir as string);
    const evals = readMetrics(runDir).evaluations;
    assert.deepEqual(p.runs, [{ seed: final.seeds[0], runDir, value: evals[evals.length - 1].exact?.['recall@10'] }]);
    assert.equal(p.mean, final.summary.points[i].mean);
  }
  const mrr = sweepViewOf(dir, 'mrr@10');
  assert.deepEqual(
    mrr.points.map((p) => p.mean),
    final.runs.map((r) => r.result?.metrics['mrr@10']),
    'another metric is read from the same results',
  );
  assert.equal(view.bm25?.mean, final.summary.bm25.mean);
});

test(
  'a sweep of a config with trainer.kind "torchrun" trains every run with the PyTorch trainer (meta.json says torch), not the built-in one',
  { skip: torchSkip },
  async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rlens-sweep-torchrun-'));
    const config = path.join(dir, 'ddp.rlens.json');
    const body = {
      name: 'ddp',
      data: { train: SHOP_TRAIN },
      model: { vocabBuckets: 4096, embeddingDim: 16, hiddenDim: 16, outputDim: 16 },
      training: { steps: 3, batchSize: 32, logEvery: 1, checkpointEvery: 1000 },
      trainer: { kind: 'torchrun', nprocPerNode: 1, python: TORCH_PYTHON },
      output: { runsDir: 'runs' },
    };
    fs.writeFileSync(config, JSON.stringify(body, null, 2) + '\n');
    const sweep = createSweep({ configPath: config, sweep: { param: 'loss.alpha', values: [0.1, 0.9] }, concurrency: 1, code: codeVersion() });
    const final = await new SweepScheduler(sweep.dir, trainerLauncher()).run();
    assert.equal(final.state, 'finished');
    assert.deepEqual(
      final.runs.map((r) => [r.status, r.error ?? null]),
      [
        ['completed', null],
        ['completed', null],
      ],
    );
    for (const [i, v] of [0.1, 0.9].entries()) {
      const run = final.runs[i];
      const runDir = path.resolve(sweep.dir, run.runDir as string);
      const meta = readMeta(runDir);
      assert.ok(meta.ok, `${runDir}: ${!meta.ok && meta.message}`);
      assert.match(meta.meta.backend, /^torch-/, `${run.id} was trained by the PyTorch trainer, not on backend ${meta.meta.backend}`);
      assert.ok(meta.meta.versions.torch, `${run.id}: meta.json names the torch version`);
      assert.equal(meta.meta.versions.tfjs, 'none');
      assert.equal(meta.meta.status, 'completed');
      assert.equal(meta.meta.step, 3);
      assert.equal(runConfig(runDir).loss.alpha, v, 'the run trained with its value');
      assert.equal(run.result?.backend, meta.meta.backend);
    }
  },
);

/** A config whose second swept value (training.steps 400) trains long enough to be interrupted. */
function interruptible() {
  return smallExperiment({ training: { steps: 10, logEvery: 2, checkpointEvery: 100 } });
}
const INTERRUPT_VALUES = [10, 400, 12];

test('cancel mid-sweep: the finished run stays intact, the running one stops, the queued one stays queued; a resume redoes the stopped run in a new folder', async () => {
  const exp = interruptible();
  const { dir } = createSweep({ configPath: exp.config, sweep: { param: 'training.steps', values: INTERRUPT_VALUES }, code });
  const s = new SweepScheduler(dir, trainerLauncher());
  const running = s.run();
  const mid = await whenState(s, (f) => f.runs[0].status === 'completed' && f.runs[1].status === 'running' && f.runs[1].runDir !== null);
  const firstDir = path.resolve(dir, mid.runs[0].runDir as string);
  const firstEvents = fs.readFileSync(path.join(firstDir, 'events.jsonl'), 'utf8');
  s.cancel();
  const after = await running;
  assert.deepEqual(
    after.runs.map((r) => r.status),
    ['completed', 'stopped', 'queued'],
  );
  assert.equal(after.state, 'unfinished');
  assert.equal(after.driver, null);
  assert.ok(after.cancelledAt && !Number.isNaN(Date.parse(after.cancelledAt)), 'the user’s cancel is recorded (no resume offer on start-up)');
  assert.equal(fs.readFileSync(path.join(firstDir, 'events.jsonl'), 'utf8'), firstEvents, 'the finished run is untouched');
  const stoppedDir = path.resolve(dir, after.runs[1].runDir as string);
  const m = readMeta(stoppedDir);
  assert.ok(m.ok && m.meta.status === 'stopped', 'the running run was stopped gracefully');

  const resumed = await new SweepScheduler(dir, trainerLauncher()).run();
  assert.equal(resumed.state, 'finished');
  assert.equal(resumed.cancelledAt, null, 'a resume clears the cancel');
  assert.deepEqual(
    resumed.runs.map((r) => r.status),
    ['completed', 'completed', 'completed'],
  );
  assert.equal(resumed.runs[0].runDir, after.runs[0].runDir, 'the completed run is not redone');
  assert.deepEqual(resumed.runs[1].previousRunDirs, [after.runs[1].runDir], 'the stopped run is redone in a new folder');
  assert.notEqual(resumed.runs[1].runDir, after.runs[1].runDir);
  assert.ok(fs.existsSync(path.join(stoppedDir, 'events.jsonl')), 'the old folder is kept');
  assert.equal(resumed.runs[1].result?.step, 400);
  assert.equal(resumed.summary.points.length, 3);
  assert.ok(resumed.summary.points.every((p) => p.n === 1 && p.mean !== null));
});

test('SIGKILL of the CLI mid-sweep: finished runs intact, the interrupted run is redone in a new folder on resume', async () => {
  const exp = interruptible();
  const cli = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(REPO, 'src/cli.ts'), 'sweep', exp.config, '--param', 'training.steps', '--values', INTERRUPT_VALUES.join(',')],
    { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  cli.stdout.on('data', (d: Buffer) => (out += d.toString()));
  cli.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => cli.on('close', () => resolve()));
  // The sweep folder is printed first; then wait on sweep.json: run 1 done, run 2 running and logging steps.
  const sweepDir = await new Promise<string>((resolve, reject) => {
    const check = () => {
      const m = /^sweep (.+)$/m.exec(out);
      if (m) return resolve(m[1].trim());
      if (cli.exitCode !== null) return reject(new Error(`the CLI ended: ${out}`));
      cli.stdout.once('data', check);
    };
    check();
  });
  const watchFile = path.join(sweepDir, SWEEP_FILE);
  const mid = await new Promise<SweepFile>((resolve, reject) => {
    const check = () => {
      let f: SweepFile | null = null;
      try {
        f = readSweepFile(sweepDir);
      } catch {
        // not written yet
      }
      const r1 = f?.runs[1];
      const logged = r1?.runDir ? readEvents(path.join(sweepDir, r1.runDir, 'events.jsonl')).events.some((e) => e.type === 'step') : false;
      if (f && f.runs[0].status === 'completed' && r1?.status === 'running' && logged) {
        watcher.close();
        resolve(f);
      } else if (cli.exitCode !== null) {
        watcher.close();
        reject(new Error(`the CLI ended before the state was reached: ${out}`));
      }
    };
    // sweep.json is replaced by rename on every change; the folder is watched (the run's steps: polled on each event).
    const watcher = fs.watch(sweepDir, check);
    const poll = setInterval(check, 200);
    watcher.on('close', () => clearInterval(poll));
    check();
  });
  assert.ok(fs.existsSync(watchFile));
  cli.kill('SIGKILL');
  await exited;
  const firstDir = path.resolve(sweepDir, mid.runs[0].runDir as string);
  const firstEvents = fs.readFileSync(path.join(firstDir, 'events.jsonl'), 'utf8');
  const killed = readSweepFile(sweepDir);
  assert.equal(killed.runs[1].status, 'running', 'sweep.json still says running: its driver is gone');
  assert.ok(killed.driver !== null);

  const resumed = await new SweepScheduler(sweepDir, trainerLauncher()).run();
  assert.equal(resumed.state, 'finished');
  assert.deepEqual(
    resumed.runs.map((r) => r.status),
    ['completed', 'completed', 'completed'],
  );
  assert.equal(resumed.runs[0].runDir, mid.runs[0].runDir, 'the finished run is kept');
  assert.equal(fs.readFileSync(path.join(firstDir, 'events.jsonl'), 'utf8'), firstEvents);
  assert.deepEqual(resumed.runs[1].previousRunDirs, [mid.runs[1].runDir], 'the interrupted run is redone in a new run folder');
  assert.ok(fs.existsSync(path.resolve(sweepDir, mid.runs[1].runDir as string, 'events.jsonl')), 'its old folder is kept');
  assert.equal(resumed.runs[1].result?.step, 400);
});

test('the ablation trains the 8 variants; ablation.json / .md hold their rows and each row verdict is its run verdict', async () => {
  const exp = smallExperiment({ training: { steps: 8, logEvery: 2, checkpointEvery: 100 } });
  const { dir } = createSweep({ configPath: exp.config, code });
  const final = await new SweepScheduler(dir, trainerLauncher()).run();
  assert.equal(final.kind, 'ablation');
  assert.ok(
    final.runs.every((r) => r.status === 'completed'),
    final.runs.map((r) => `${r.id} ${r.status} ${r.error ?? ''}`).join('\n'),
  );
  const onDisk = JSON.parse(fs.readFileSync(path.join(dir, ABLATION_JSON), 'utf8'));
  assert.ok(Value.Check(AblationFileSchema, onDisk));
  assert.deepEqual(onDisk, ablationTable(final));
  assert.equal(onDisk.rows.length, 8);
  assert.equal(onDisk.source, 'in-batch');
  for (const row of onDisk.rows as ReturnType<typeof ablationTable>['rows']) {
    const runDir = path.resolve(dir, row.runDirs[0]);
    const cfg = runConfig(runDir);
    const [type, ...rest] = row.variant.split('-');
    assert.equal(cfg.loss.type, type, row.variant);
    assert.equal(cfg.loss.adaptive, rest.includes('adaptive'), row.variant);
    if (rest.includes('adaptive')) assert.equal(cfg.loss.stopGradient, rest.includes('sg'), row.variant);
    assert.equal(cfg.loss.symmetric, rest.includes('sym'), row.variant);
    const last = lastStep(runDir);
    assert.deepEqual(row.verdicts, [last.verdict.state], `${row.variant}: the row verdict is the run's`);
    assert.equal(row.columns['recall@10'].mean, last.diagnostics.recall.at10);
    assert.equal(row.columns.ratio.mean, last.diagnostics.collapse.ratio);
  }
  const md = fs.readFileSync(path.join(dir, ABLATION_MD), 'utf8');
  assert.equal(md.split('\n').filter((l) => l.startsWith('| ')).length, 2 + 8, 'header, rule and 8 rows');
  assert.match(md, /\*\*/, 'the best value of a column is marked');
});
