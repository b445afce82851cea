import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ConfigError, loadConfig, parseConfigText } from '../../src/core/config';

const minimal = '{ "data": { "train": "train.jsonl" } }';

test('every default equals the paper setting', () => {
  const { config: c } = parseConfigText(minimal, '/x/a.rlens.json');
  assert.equal(c.model.outputDim, 128);
  assert.equal(c.training.batchSize, 350);
  assert.equal(c.training.learningRate, 5e-5);
  assert.equal(c.loss.alpha, 0.5);
  assert.equal(c.loss.delta0, 0.01);
  assert.equal(c.loss.tau0, 1 / 30);
  assert.equal(c.loss.margin, 0.1);
  assert.equal(c.loss.temperature, 1 / 30);
  assert.equal(c.loss.symmetricWeight, 0.05);
  assert.equal(c.loss.stopGradient, true);
  assert.equal(c.model.maxQueryTokens, 30);
  assert.equal(c.model.maxItemTokens, 100);
  assert.equal(c.model.vocabBuckets, 2 ** 18);
  assert.equal(c.backend, 'auto');
});

test('comments and trailing commas are allowed; relative paths resolve against the config folder', () => {
  const loaded = parseConfigText('// hi\n{ "data": { "train": "d/t.jsonl", }, /* x */ }', '/abs/exp/a.rlens.json');
  assert.equal(loaded.baseDir, '/abs/exp');
  assert.equal(loaded.config.data.train, 'd/t.jsonl');
});

function problemsOf(text: string, overrides: string[] = []) {
  try {
    parseConfigText(text, 'exp.rlens.json', overrides);
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${e}`);
    return e.problems;
  }
  assert.fail('config was accepted');
}

test('schema errors name the JSON path and the exact line/column', () => {
  const text = ['{', '  "data": { "train": "t.jsonl" },', '  "loss": {', '    "alpha": -1,', '    "tpye": "margin",', '    "type": "hinge"', '  }', '}'].join(
    '\n',
  );
  const problems = problemsOf(text);
  const alpha = problems.find((p) => p.path === 'loss.alpha')!;
  assert.deepEqual([alpha.line, alpha.column], [4, 14]);
  assert.match(alpha.message, />= 0/);
  const typo = problems.find((p) => p.path === 'loss.tpye')!;
  assert.deepEqual([typo.line, typo.column, typo.message], [5, 5, 'unknown property "tpye"']);
  const type = problems.find((p) => p.path === 'loss.type')!;
  assert.equal(type.line, 6);
  assert.match(type.message, /"margin", "softmax"/);
});

test('syntax errors are located; the message has file:line:col', () => {
  const problems = problemsOf('{\n  "data": { "train": "x" }\n  "loss": {}\n}');
  assert.equal(problems[0].line, 3);
  assert.match(problems[0].message, /JSON syntax error/);
  try {
    parseConfigText('{\n "data": {"train": "x"},\n "training": {"batchSize": 1.5}\n}', 'e.rlens.json');
    assert.fail('accepted');
  } catch (e) {
    assert.match((e as Error).message, /^e\.rlens\.json:3:28: training\.batchSize: must be integer$/m);
  }
});

test('missing required data.train and non-object documents are reported', () => {
  assert.match(problemsOf('{}')[0].message, /missing required property "train"|missing required property "data"/);
  assert.match(problemsOf('[1]')[0].message, /must be a JSON object/);
});

test('--set overrides are typed, validated, and marked in messages', () => {
  const ok = parseConfigText(minimal, 'a', ['loss.alpha=0.7', 'loss.type=margin', 'training.epochs=2']);
  assert.equal(ok.config.loss.alpha, 0.7);
  assert.equal(ok.config.loss.type, 'margin');
  assert.equal(ok.config.training.epochs, 2);
  const bad = problemsOf(minimal, ['training.batchSize=abc']);
  assert.equal(bad[0].path, 'training.batchSize');
  assert.match(bad[0].message, /\(value from --set\)/);
  assert.throws(() => parseConfigText(minimal, 'a', ['noequals']), /key=value/);
});

test('a missing config file gives a clear message, not a stack trace', () => {
  const missing = path.join(os.tmpdir(), 'does-not-exist.rlens.json');
  assert.throws(
    () => loadConfig(missing),
    (e: Error) => e instanceof ConfigError && e.message === `config ${missing}: file not found`,
  );
});

test('the bundled example config is valid', () => {
  const loaded = loadConfig(path.resolve(__dirname, '../../examples/shop/shop.rlens.json'));
  assert.equal(loaded.config.loss.adaptive, true);
  assert.ok(fs.existsSync(path.resolve(loaded.baseDir, loaded.config.data.train as string)));
});

test('trainer: kind node by default; torchrun keys are read with kind torchrun', () => {
  const { config: d } = parseConfigText(minimal, '/x/a.rlens.json');
  assert.deepEqual(d.trainer, { kind: 'node', nprocPerNode: 1, module: 'retrieval_lens.train' });
  const { config: t } = parseConfigText(
    '{ "data": { "train": "t.jsonl" }, "trainer": { "kind": "torchrun", "nprocPerNode": 2, "python": "/opt/py/bin/python3" } }',
    '/x/a.rlens.json',
  );
  assert.deepEqual(t.trainer, { kind: 'torchrun', nprocPerNode: 2, python: '/opt/py/bin/python3', module: 'retrieval_lens.train' });
  const { config: s } = parseConfigText(minimal, '/x/a.rlens.json', ['trainer.kind=torchrun', 'trainer.nprocPerNode=4']);
  assert.equal(s.trainer.kind, 'torchrun');
  assert.equal(s.trainer.nprocPerNode, 4);
});

test('trainer: torchrun-only keys with kind node are errors at the key (file and --set); bad values are located', () => {
  const text = '{\n  "data": { "train": "t.jsonl" },\n  "trainer": {\n    "nprocPerNode": 2,\n    "python": "python3"\n  }\n}';
  const p = problemsOf(text);
  assert.deepEqual(
    p.map((x) => [x.path, x.line, x.column]),
    [
      ['trainer.nprocPerNode', 4, 5],
      ['trainer.python', 5, 5],
    ],
  );
  assert.match(p[0].message, /only with "kind": "torchrun" \(kind is "node"/);
  const fromSet = problemsOf(minimal, ['trainer.module=my_trainer.main']);
  assert.equal(fromSet.length, 1);
  assert.equal(fromSet[0].path, 'trainer.module');
  assert.match(fromSet[0].message, /\(value from --set\)$/);
  // With kind torchrun the same keys are fine; wrong values are schema errors at their place.
  assert.equal(parseConfigText(text.replace('"trainer": {', '"trainer": { "kind": "torchrun",'), 'exp.rlens.json').config.trainer.nprocPerNode, 2);
  const bad = problemsOf('{ "data": { "train": "t.jsonl" }, "trainer": { "kind": "torch", "nprocPerNode": 0, "module": "a-b" } }');
  assert.deepEqual(bad.map((x) => x.path).sort(), ['trainer.kind', 'trainer.module', 'trainer.nprocPerNode']);
  // A run's config.json is the resolved config, defaults written out: it loads again (evaluation, sweeps).
  const resolved = parseConfigText(minimal, '/x/a.rlens.json').config;
  assert.deepEqual(parseConfigText(JSON.stringify(resolved, null, 2), '/x/run/config.json').config, resolved);
});
