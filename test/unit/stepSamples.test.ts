/**
 * Step samples and suspected false negatives (src/core/metrics/stepSamples.ts): the fixture's planted duplicates
 * are found and its clean batch gives none, every sample stays within 4 KB, the output is still the one in
 * test/fixtures/parity/stepSamples.json (python/tests/test_step_samples.py requires the PyTorch side to give it
 * too), and data.maskDuplicateNegatives masks same-text negatives in the batcher.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { sampleStep, SAMPLE_LIMITS } from '../../src/core/metrics/stepSamples';
import { buildBatch } from '../../src/core/training/batcher';
import { featurizeExamples } from '../../src/core/training/featurizedData';
import { StepSamplesSchema } from '../../src/core/metrics/stepSamples';
import { schemaProblem } from '../../src/core/schemaCheck';
import type { Example } from '../../src/core/data/types';
import type { ModelConfig } from '../../src/core/config/types';
import { caseInput, CASES, type StepSampleCase } from '../fixtures/parity/stepSamplesGenerate';
import { initBackend } from '../../src/core/backend';
import { defaultConfig, loadConfig } from '../../src/core/config';
import { readEvents, type StepEvent } from '../../src/core/runs';
import { runTraining } from '../../src/core/training/trainLoop';
import { smallExperiment } from '../helpers/smallExperiment';

const fixture = JSON.parse(fs.readFileSync(path.join(__dirname, '../fixtures/parity/stepSamples.json'), 'utf8')) as {
  cases: StepSampleCase[];
  expected: Record<string, ReturnType<typeof sampleStep>>;
};

test('step samples: the fixture cases are the generator’s, and the sampler still gives their expected output', () => {
  assert.deepEqual(JSON.parse(JSON.stringify(CASES)), fixture.cases);
  for (const c of fixture.cases) assert.deepEqual(JSON.parse(JSON.stringify(sampleStep(caseInput(c)))), fixture.expected[c.name], c.name);
});

test('suspected false negatives: the planted duplicates are found by their rule, the clean batch gives none', () => {
  const planted = sampleStep(caseInput(fixture.cases.find((c) => c.name === 'planted')!));
  assert.equal(planted.suspected.count, 5); // (0,1) (1,0) same text, (2,3) (3,2) overlap 9/11, (4,6) scored above with overlap 5/7
  assert.equal(planted.suspected.share, 5 / 32);
  const rules = new Map(planted.samples.rows.filter((r) => r.fn).map((r) => [`${r.v[0]}→${r.n[0]}`, r.fn!.rule]));
  assert.equal(rules.get('p4→p6'), 'scoredAbove');
  assert.ok(rules.get('p0→p1') === 'sameText' || rules.get('p1→p0') === 'sameText');
  assert.ok(rules.get('p2→p3') === 'overlap' || rules.get('p3→p2') === 'overlap');
  assert.ok(!rules.has('p5→p7'), 'the unrelated explicit negative is not suspected');
  const clean = sampleStep(caseInput(fixture.cases.find((c) => c.name === 'clean')!));
  assert.deepEqual(clean.suspected, { count: 0, share: 0 });
  assert.ok(clean.samples.rows.every((r) => !r.why.includes('falseNegative') && !r.fn));
});

test('step samples: every sample is valid, within 4 KB as written, with shard-aware file references; long ids drop rows', () => {
  for (const c of fixture.cases) {
    const { samples } = sampleStep(caseInput(c));
    assert.equal(schemaProblem(StepSamplesSchema, samples, 'samples'), null);
    assert.ok(Buffer.byteLength(JSON.stringify(samples)) <= SAMPLE_LIMITS.maxBytes, c.name);
    for (const r of samples.rows)
      for (const ref of [r.q, r.v, r.n]) {
        const file = samples.files[ref[1]];
        const want = [...c.queries, ...c.items].find((x) => x[0] === ref[0] && x[2] === ref[2]);
        assert.equal(file, want?.[1], `${c.name}: ${ref[0]}`);
      }
  }
  const long = sampleStep(caseInput(fixture.cases.find((c) => c.name === 'long-ids')!)).samples;
  assert.deepEqual([...long.files].sort(), ['/data/shard-0.jsonl', '/data/shard-1.jsonl']);
  const short = caseInput(fixture.cases.find((c) => c.name === 'long-ids')!);
  short.items = short.items.map((it, i) => ({ ...it, id: `s${i}` }));
  assert.ok(long.rows.length > 0 && long.rows.length < sampleStep(short).samples.rows.length, `${long.rows.length} rows with long ids`);
});

const model: ModelConfig = { ...defaultConfig({ train: 'unused.jsonl' }).model, vocabBuckets: 4096, embeddingDim: 8, hiddenDim: 8, outputDim: 8 };
const example = (j: number, id: string, text: string, negatives: [string, string][] = []): Example => ({
  queryId: `q${j}`,
  query: `query ${j}`,
  positive: { id, text, source: { file: '/d/train.jsonl', line: j + 1 } },
  negatives: negatives.map(([nid, t]) => ({ id: nid, text: t, source: { file: '/d/train.jsonl', line: j + 1 } })),
  source: { file: '/d/train.jsonl', line: j + 1 },
});

test('data.maskDuplicateNegatives: a negative with the positive’s normalised text under another id is masked only when on', () => {
  const data = featurizeExamples([example(0, 'a', 'Red Shirt'), example(1, 'b', 'red  shirt'), example(2, 'c', 'blue jeans', [['n', 'BLUE JEANS']])], model);
  const off = buildBatch(data, [0, 1, 2], 3, 0, false);
  const on = buildBatch(data, [0, 1, 2], 3, 0, true);
  const at = (b: typeof on, j: number, i: number) => b.negMask[j * b.N + i];
  assert.equal(off.N, 4);
  assert.deepEqual([at(off, 0, 1), at(off, 1, 0), at(off, 2, 3), at(off, 0, 2)], [1, 1, 1, 1]);
  assert.deepEqual([at(on, 0, 1), at(on, 1, 0), at(on, 2, 3), at(on, 0, 2), at(on, 2, 0)], [0, 0, 0, 1, 1]);
  assert.deepEqual(on.items[3], { id: 'n', file: '/d/train.jsonl', line: 3 });
  assert.deepEqual(on.queries[1], { id: 'q1', file: '/d/train.jsonl', line: 2 });
});

/** A pairs file where items p0…p7 each also appear under a second id with the same text (planted duplicates). */
function plantedData(dir: string): string {
  const lines: string[] = [];
  const products = ['red cotton shirt', 'blue denim jeans', 'steel kettle', 'wireless mouse', 'garden hose', 'oak table', 'running shoes', 'ceramic mug'];
  products.forEach((text, k) => {
    lines.push(JSON.stringify({ query: `buy ${text}`, positive: { id: `p${k}`, text }, query_id: `q${k}` }));
    lines.push(JSON.stringify({ query: `cheap ${text}`, positive: { id: `dup${k}`, text: text.toUpperCase() }, query_id: `r${k}` }));
  });
  const file = path.join(dir, 'planted.jsonl');
  fs.writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

test('the TypeScript trainer writes step samples with data lines and finds the planted duplicates; maskDuplicateNegatives masks them; stepSamples false writes none', async () => {
  const backend = await initBackend('wasm');
  const run = async (extra: { data?: object; diagnostics?: object }) => {
    const exp = smallExperiment({ training: { batchSize: 16, steps: 2, logEvery: 1 } });
    const train = plantedData(exp.dir);
    const cfg = JSON.parse(fs.readFileSync(exp.config, 'utf8').replace(/^\/\/.*\n/, '')) as Record<string, object>;
    fs.writeFileSync(exp.config, JSON.stringify({ ...cfg, data: { train, ...extra.data }, ...(extra.diagnostics ? { diagnostics: extra.diagnostics } : {}) }));
    const r = await runTraining({ loaded: loadConfig(exp.config), backend });
    const steps = readEvents(path.join(r.runDir, 'events.jsonl')).events.filter((e): e is StepEvent => e.type === 'step');
    return { train, steps };
  };
  const plain = await run({});
  assert.equal(plain.steps.length, 2);
  for (const e of plain.steps) {
    // batch 16 = all 16 pairs: each of the 8 texts under 2 ids → 16 same-text negatives of 16·15 valid
    assert.deepEqual(e.suspectedFalseNegatives, { count: 16, share: 16 / 240 });
    assert.deepEqual(e.samples!.files, [plain.train]);
    const lines = fs.readFileSync(plain.train, 'utf8').split('\n');
    for (const r of e.samples!.rows) {
      const q = JSON.parse(lines[r.q[2] - 1]) as { query_id: string; positive: { id: string } };
      assert.equal(q.query_id, r.q[0], 'the query reference names its line');
      assert.equal(q.positive.id, r.v[0], 'the positive is on the query’s line');
      assert.equal((JSON.parse(lines[r.n[2] - 1]) as { positive: { id: string } }).positive.id, r.n[0], 'the negative’s line holds it');
    }
    assert.ok(e.samples!.rows.some((r) => r.fn?.rule === 'sameText'));
  }
  const masked = await run({ data: { maskDuplicateNegatives: true } });
  for (const e of masked.steps) assert.deepEqual(e.suspectedFalseNegatives, { count: 0, share: 0 });
  const off = await run({ diagnostics: { stepSamples: false } });
  for (const e of off.steps) assert.ok(e.samples === undefined && e.suspectedFalseNegatives === undefined);
});
