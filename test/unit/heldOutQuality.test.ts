import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { initBackend, type BackendInfo } from '../../src/core/backend';
import { loadConfig } from '../../src/core/config';
import { ConfigError } from '../../src/core/config/configError';
import { loadEvalData, readMetrics } from '../../src/core/eval';
import { EvalEntrySchema } from '../../src/core/eval/evalEntrySchema';
import { schemaProblem } from '../../src/core/schemaCheck';
import { loadCheckpoint } from '../../src/core/model/checkpoint';
import { HeldOutSchedule, prepareHeldOut, qualityRemedies, qualityVerdict, sampleRows } from '../../src/core/quality';
import { PLAN_SHARE } from '../../src/core/quality/evalSchedule';
import { readEvents, type EvalEvent, type StepEvent } from '../../src/core/runs';
import { runTraining } from '../../src/core/training/trainLoop';
import { writeShiftedData } from '../helpers/shiftedData';
import { smallExperiment, SHOP_CORPUS, SHOP_TEST } from '../helpers/smallExperiment';

let backend: BackendInfo;
before(async () => {
  backend = await initBackend('wasm');
});

function shiftedConfig(every: number | string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rlens-shift-'));
  const data = writeShiftedData(dir);
  const config = path.join(dir, 'shift.rlens.json');
  const body = {
    name: 'shift',
    data: { ...data, shuffleBuffer: 100 },
    model: { vocabBuckets: 4096, charTrigrams: false },
    training: { batchSize: 50, learningRate: 0.01, steps: 90, logEvery: 2, checkpointEvery: 30 },
    evaluation: { every },
    backend: 'wasm',
    output: { runsDir: 'runs' },
  };
  fs.writeFileSync(config, JSON.stringify(body, null, 2));
  return config;
}

function runEvents(runDir: string) {
  const events = readEvents(path.join(runDir, 'events.jsonl')).events;
  return {
    evals: events.filter((e): e is EvalEvent => e.type === 'eval'),
    steps: events.filter((e): e is StepEvent => e.type === 'step'),
    logs: events.flatMap((e) => (e.type === 'log' ? [e.message] : [])),
    meta: JSON.parse(fs.readFileSync(path.join(runDir, 'meta.json'), 'utf8')),
  };
}

test('best is the held-out peak, earlier than where the saturated in-batch recall would put it', async () => {
  const heldOut = await runTraining({ loaded: loadConfig(shiftedConfig(6)), backend });
  assert.equal(heldOut.status, 'completed');
  const { evals, steps, logs, meta } = runEvents(heldOut.runDir);
  const r10 = (e: EvalEvent) => e.metrics['recall@10'] as number;
  const peak = evals.reduce((a, b) => (r10(b) > r10(a) ? b : a));
  // The data does what it is built for: held-out recall peaks early and falls far, the in-batch task saturates.
  assert.ok(peak.step < 30, `held-out peak at step ${peak.step}`);
  assert.ok(r10(peak) > 0.9 && r10(evals.at(-1)!) < r10(peak) - 0.5, evals.map((e) => `${e.step}: ${r10(e)}`).join(', '));
  const inBatchEnd = steps.at(-1)!.diagnostics.recall.at10 ?? 0;
  assert.ok(inBatchEnd >= 0.99, `in-batch recall@10 at the end ${inBatchEnd}`);
  // The best checkpoint holds the weights of the peak, and says which rule chose it.
  assert.deepEqual(meta.checkpoints.best, {
    step: peak.step,
    path: 'checkpoints/best',
    metric: 'eval recall@10 (held-out queries)',
    value: r10(peak),
    rule: 'held-out',
  });
  assert.equal(loadCheckpoint(path.join(heldOut.runDir, 'checkpoints', 'best')).info.step, peak.step);
  assert.ok(
    logs.some((m) => m.startsWith('best checkpoint rule "held-out"')),
    logs.join('\n'),
  );
  // The quality verdict names the saturation, with the values.
  const last = evals.at(-1)!;
  assert.equal(last.quality?.state, 'saturated');
  assert.match(last.quality!.reason, /in-batch recall@10 1\.00 ≥ 0\.99 while held-out recall@10 is 0\.\d\d/);
  assert.deepEqual(last.heldOut, { queries: 200, corpus: 200, corpusTotal: 200, sampled: false, description: '200 queries × 200 items (whole corpus)' });
  // Each live evaluation is an entry of eval/metrics.json in the run format (the PyTorch trainer writes the same).
  const entries = readMetrics(heldOut.runDir).evaluations;
  assert.deepEqual(
    entries.map((e) => [e.step, e.checkpoint, e.queries.subset, e.exact!['recall@10']]),
    evals.map((e) => [e.step, 'in-memory', true, r10(e)]),
  );
  for (const e of entries) assert.equal(schemaProblem(EvalEntrySchema, e, 'eval/metrics.json'), null);

  // The same run without held-out evaluation: the in-batch rule picks a later checkpoint.
  const inBatch = await runTraining({ loaded: loadConfig(shiftedConfig(0)), backend });
  const other = runEvents(inBatch.runDir);
  assert.equal(other.evals.length, 0);
  assert.equal(other.meta.checkpoints.best.rule, 'in-batch');
  assert.ok(other.meta.checkpoints.best.step > peak.step, `in-batch best at step ${other.meta.checkpoints.best.step}`);
  assert.ok(
    other.logs.some(
      (m) => m === `best checkpoint rule "in-batch": the highest smoothed in-batch recall@10 (EMA 0.8); no live held-out evaluation: evaluation.every is 0`,
    ),
  );
});

test('held-out evaluation is on by default with test data: a sampled corpus keeps every positive, BM25 is the reference', async () => {
  const exp = smallExperiment({
    data: { test: SHOP_TEST, corpus: SHOP_CORPUS },
    training: { steps: 30, logEvery: 5 },
    evaluation: { heldOutQueries: 50, heldOutCorpus: 1000, heldOutBudget: 1 },
  });
  const loaded = loadConfig(exp.config);
  assert.equal(loaded.config.evaluation.every, 'auto');
  const r = await runTraining({ loaded, backend });
  const { evals, logs, meta } = runEvents(r.runDir);
  assert.ok(evals.length >= 1, logs.join('\n'));
  for (const e of evals) {
    assert.deepEqual(e.heldOut, {
      queries: 50,
      corpus: 1000,
      corpusTotal: 6120,
      sampled: true,
      description: '50 queries × 1,000 of 6,120 items (sampled, all positives kept)',
    });
    assert.equal(e.metrics['bm25/recall@10'], evals[0].metrics['bm25/recall@10'], 'BM25 is computed once');
  }
  assert.ok((evals[0].metrics['bm25/recall@10'] as number) > 0.5, `BM25 recall@10 ${evals[0].metrics['bm25/recall@10']}`);
  assert.equal(meta.checkpoints.best.rule, 'held-out');
  assert.ok(
    logs.some((m) =>
      m.startsWith('held-out: 50 queries × 1,000 of 6,120 items (sampled, all positives kept), exact search; BM25 on the same sample recall@10 '),
    ),
  );
  assert.ok(logs.some((m) => /^held-out: \d+ evaluations? took [\d.]+ s with the preparation, [\d.]+% of [\d.]+ s of training/.test(m)));
});

test('without test data "auto" is off and the in-batch rule chooses best; every N without test data is an error', async () => {
  const exp = smallExperiment({ training: { steps: 10, logEvery: 5, checkpointEvery: 5 } });
  const r = await runTraining({ loaded: loadConfig(exp.config), backend });
  const { evals, logs, meta } = runEvents(r.runDir);
  assert.equal(evals.length, 0);
  assert.equal(meta.checkpoints.best.rule, 'in-batch');
  assert.ok(
    logs.includes(
      'best checkpoint rule "in-batch": the highest smoothed in-batch recall@10 (EMA 0.8); no live held-out evaluation: no test data (data.test is not set)',
    ),
  );
  await assert.rejects(runTraining({ loaded: loadConfig(exp.config, ['evaluation.every=5']), backend }), /evaluation\.every is 5 but data\.test is not set/);
});

test('evaluation.every takes an integer ≥ 0 or "auto", with a located message otherwise', () => {
  const exp = smallExperiment({ evaluation: { every: 'sometimes' } });
  assert.throws(
    () => loadConfig(exp.config),
    (e: unknown) => e instanceof ConfigError && /small\.rlens\.json:\d+:\d+: evaluation\.every: must be an integer ≥ 0 or "auto"$/m.test(e.message),
  );
  assert.throws(
    () => loadConfig(smallExperiment().config, ['evaluation.every=-1']),
    (e: unknown) => e instanceof ConfigError && /evaluation\.every: must be >= 0 \(value from --set\)/.test(e.message),
  );
  assert.throws(
    () => loadConfig(smallExperiment().config, ['evaluation.heldOutBudget=0']),
    (e: unknown) => e instanceof ConfigError && /evaluation\.heldOutBudget: must be > 0/.test(e.message),
  );
});

test('the corpus sample keeps every positive of the sampled queries and is seeded', async () => {
  const exp = smallExperiment({ data: { test: SHOP_TEST, corpus: SHOP_CORPUS } });
  const data = await loadEvalData(loadConfig(exp.config));
  const positives = new Set([...data.qrels.values()].flatMap((s) => [...s]).slice(0, 700));
  const rows = sampleRows(data.corpus.ids, positives, 1000, 42);
  assert.equal(rows.length, 1000);
  const ids = new Set(rows.map((r) => data.corpus.ids[r]));
  for (const p of positives) assert.ok(ids.has(p), `positive ${p} kept`);
  assert.deepEqual(sampleRows(data.corpus.ids, positives, 1000, 42), rows, 'same seed, same sample');
  assert.notDeepEqual(sampleRows(data.corpus.ids, positives, 1000, 7), rows);
  // More positives than room: all of them, nothing else.
  assert.equal(sampleRows(data.corpus.ids, positives, 500, 42).length, positives.size);
  assert.equal(sampleRows(data.corpus.ids, positives, 10_000, 42).length, data.corpus.count);
});

/** The steps a schedule evaluates over `total` steps of 100 ms, each evaluation taking `evalMs`. */
function evaluatedSteps(s: HeldOutSchedule, total: number, evalMs: number): number[] {
  const due: number[] = [];
  for (let step = 1; step <= total; step++) {
    if (s.due(step, step * 100)) {
      due.push(step);
      s.spent(step, evalMs);
    }
  }
  return due;
}

test('"auto" spreads the evaluations that fit in the budget of the whole run evenly, the last after the last step', () => {
  // 100 ms steps, 1 s evaluations, 2 s of preparation, 1000 steps, 10% planned at PLAN_SHARE 0.6:
  // (0.6 × 0.1 × 100 s − 2 s) / 1 s = 4 evaluations.
  const s = new HeldOutSchedule('auto', 0.1, 1000, 2000, 1000);
  assert.deepEqual(evaluatedSteps(s, 1000, 1000), [250, 500, 750, 1000]);
  assert.ok(Math.abs(s.spentTotalMs - PLAN_SHARE * 0.1 * 1000 * 100) < 1e-6, 'exactly the planned share of the budget');
  // Evaluations slower than estimated (3 s): re-planned, fewer and farther apart, still within the budget.
  const slow = new HeldOutSchedule('auto', 0.1, 1000, 2000, 1000);
  const slowDue = evaluatedSteps(slow, 1000, 3000);
  assert.deepEqual(slowDue, [250, 1000]);
  assert.ok(slow.spentTotalMs <= 0.1 * 1000 * 100, `${slow.spentTotalMs} ms`);
  // A run too short for one evaluation: the last step anyway, and the schedule says it was forced.
  const short = new HeldOutSchedule('auto', 0.1, 10, 2000, 1000);
  const shortDue = Array.from({ length: 10 }, (_, i) => short.due(i + 1, (i + 1) * 100));
  assert.deepEqual(shortDue.map((d, i) => (d ? i + 1 : 0)).filter(Boolean), [10]);
  assert.equal(short.forcedLast, true);
  // The budget used up mid-run (an evaluation far slower than the ones before): no more in between, but the last
  // step is still evaluated — the run's final held-out value, verdict and best candidate (pycode, 500 steps under
  // load, stopped at step 475 before this).
  const spent = new HeldOutSchedule('auto', 0.1, 1000, 2000, 1000);
  const costs = [1000, 9000];
  const spentDue: number[] = [];
  for (let step = 1; step <= 1000; step++) {
    if (spent.due(step, step * 100)) {
      spentDue.push(step);
      spent.spent(step, costs[spentDue.length - 1] ?? 1000);
    }
  }
  assert.deepEqual(spentDue, [250, 500, 1000]);
  assert.equal(spent.forcedLast, false, 'evaluations had run: not "none fitted"');
  // Evaluations alternating 0.5 s and 0.75 s: the slowest measured stays the estimate, so a fast one does not
  // pull the next ones closer (planning on the last one measured: seven evaluations and 6.25 s, over the plan).
  const mixed = new HeldOutSchedule('auto', 0.1, 1000, 2000, 1000);
  const mixedDue: number[] = [];
  for (let step = 1; step <= 1000; step++) {
    if (mixed.due(step, step * 100)) {
      mixedDue.push(step);
      mixed.spent(step, mixedDue.length % 2 ? 500 : 750);
    }
  }
  assert.deepEqual(mixedDue, [250, 358, 572, 715, 858, 1000]);
  assert.ok(mixed.spentTotalMs <= PLAN_SHARE * 0.1 * 1000 * 100, `${mixed.spentTotalMs} ms within the planned share`);
  // every N: every N-th step and the last; 0: never.
  const fixed = new HeldOutSchedule(30, 0.1, 100, 0, 0);
  assert.deepEqual(
    Array.from({ length: 100 }, (_, i) => i + 1).filter((st) => fixed.due(st, 0)),
    [30, 60, 90, 100],
  );
  assert.equal(new HeldOutSchedule(0, 0.1, 100, 0, 0).due(100, 1e9), false);
});

test('the quality verdict: each rule with the values it rests on, and its remedies as config edits that change something', () => {
  const base = { bm25: 0.5, inBatch: 0.8 };
  assert.equal(qualityVerdict({ ...base, heldOut: [0.3] }).state, 'measuring');
  const learning = qualityVerdict({ ...base, heldOut: [0.3, 0.35, 0.42] });
  assert.equal(learning.state, 'learning');
  assert.match(learning.reason, /reached 0\.42 in the last 2 evaluations, up from 0\.30 \(BM25 0\.50\)/);
  const plateau = qualityVerdict({ ...base, heldOut: [0.3, 0.55, 0.55, 0.54, 0.553] });
  assert.equal(plateau.state, 'plateau');
  assert.match(plateau.reason, /gained 0\.00 \(≤ 0\.005\) over the last 3 evaluations/);
  const below = qualityVerdict({ ...base, heldOut: [0.3, 0.4, 0.4, 0.4, 0.39] });
  assert.equal(below.state, 'below-lexical');
  assert.match(below.reason, /held-out recall@10 0\.40 \(best of the last 3 evaluations\) < BM25 0\.50 − 0\.02, not rising/);
  const saturated = qualityVerdict({ bm25: 0.82, inBatch: 0.999, heldOut: [0.3, 0.38, 0.4] });
  assert.equal(saturated.state, 'saturated');
  assert.match(saturated.reason, /in-batch recall@10 1\.00 ≥ 0\.99 while held-out recall@10 is 0\.40 \(BM25 0\.82\)/);
  assert.deepEqual(saturated.remedies, ['hard-negatives', 'larger-batch', 'more-steps']);

  const cfg = loadConfig(smallExperiment().config).config;
  const edits = qualityRemedies(saturated.remedies, cfg);
  assert.deepEqual(
    edits.map((r) => r.settings),
    [[[['data', 'hardNegatives'], { source: 'bm25', perQuery: 3, skipTop: 3 }]], [[['training', 'batchSize'], 64]], [[['training', 'steps'], 80]]],
  );
  // Never a no-op: hard negatives already configured, the batch at its maximum → those remedies are not offered.
  const done = {
    ...cfg,
    data: { ...cfg.data, hardNegatives: { source: 'bm25' as const, perQuery: 3, skipTop: 3 } },
    training: { ...cfg.training, batchSize: 65536, epochs: 2 },
  };
  assert.deepEqual(
    qualityRemedies(saturated.remedies, done).map((r) => r.settings),
    [[[['training', 'epochs'], 4]]],
  );
  // The PyTorch trainer takes them too (its launcher mines them): offered there as well.
  assert.deepEqual(
    qualityRemedies(['hard-negatives'], { ...cfg, trainer: { ...cfg.trainer, kind: 'torchrun' } }).map((r) => r.settings),
    [[[['data', 'hardNegatives'], { source: 'bm25', perQuery: 3, skipTop: 3 }]]],
  );
});

test('the held-out sample is cached beside the corpus: read back equal, prepared again when the data changes or the cache is damaged', async () => {
  const exp = smallExperiment({ evaluation: { heldOutQueries: 300, heldOutCorpus: 2000 } });
  const corpus = path.join(exp.dir, 'corpus.jsonl');
  fs.copyFileSync(SHOP_CORPUS, corpus);
  const test = path.join(exp.dir, 'test.jsonl');
  fs.copyFileSync(SHOP_TEST, test);
  const loaded = () => loadConfig(exp.config, [`data.corpus=${corpus}`, `data.test=${test}`]);
  const plain = (s: Awaited<ReturnType<typeof prepareHeldOut>>) => ({
    info: s.info,
    bm25: s.bm25,
    queries: s.data.queries,
    qrels: s.data.queries.map((q) => [q.id, [...(s.data.qrels.get(q.id) ?? [])]]),
    ids: s.data.corpus.ids,
  });
  const first = await prepareHeldOut(loaded());
  const cacheFile = corpus + '.rlens-heldout';
  assert.equal(first.cache, `cached in ${cacheFile}`);
  assert.equal(first.info.description, '300 queries × 2,000 of 6,120 items (sampled, all positives kept)');
  const again = await prepareHeldOut(loaded());
  assert.equal(again.cache, `read from ${cacheFile}`);
  assert.deepEqual(plain(again), plain(first));
  assert.deepEqual(await again.data.corpus.items([0, 1999]), await first.data.corpus.items([0, 1999]));
  // Other settings → another sample, prepared again (and the cache replaced).
  const other = await prepareHeldOut(loadConfig(exp.config, [`data.corpus=${corpus}`, `data.test=${test}`, 'evaluation.heldOutCorpus=1500']));
  assert.match(other.cache!, /^cached in .*\(.*was drawn from other data or settings: prepared again\)$/);
  assert.equal(other.info.corpus, 1500);
  // Changed data (one more item) → prepared again from the data, never the stale sample.
  fs.appendFileSync(corpus, JSON.stringify({ id: 'new-item', text: 'a new item' }) + '\n');
  const changed = await prepareHeldOut(loaded());
  assert.match(changed.cache!, /drawn from other data or settings: prepared again/);
  assert.equal(changed.info.corpusTotal, 6121);
  // A damaged cache → prepared again, the data untouched.
  fs.writeFileSync(cacheFile, fs.readFileSync(cacheFile, 'utf8').slice(0, 5000));
  const repaired = await prepareHeldOut(loaded());
  assert.match(repaired.cache!, /is unreadable .*: prepared again\)$/);
  assert.deepEqual(plain(repaired), plain(changed));
  assert.equal(fs.readFileSync(corpus, 'utf8').split('\n').filter(Boolean).length, 6121);
  fs.rmSync(exp.dir, { recursive: true, force: true });
});
