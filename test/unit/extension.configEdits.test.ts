import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parse } from 'jsonc-parser';
import { parseConfigText } from '../../src/core/config/loadConfig';
import { applyCollapseFix, collapseFixApplied, collapseFixEdit, collapseRemedies, ENABLE_FIX_LABEL, remedyEdit } from '../../src/extension/verdict/collapseFix';
import { qualityProblem, verdictProblem } from '../../src/extension/verdict/verdictText';
import { qualityRemedies, qualityVerdict } from '../../src/core/quality';
import { findConfigAnchors, readConfigBasics } from '../../src/extension/configEditor/configAnchors';
import { dataSpecsOf } from '../../src/extension/dataLens/dataSpecs';
import { copyExample, exampleConfigForWorkspace, EXAMPLE_FILES, freeFolderName } from '../../src/extension/configEditor/exampleProject';
import { runsRootOf } from '../../src/extension/configEditor/experimentFiles';

const REPO = path.resolve(__dirname, '../..');
const EXAMPLE = fs.readFileSync(path.join(REPO, 'examples/shop/shop.rlens.json'), 'utf8');

/** Apply a single replacement to a text. */
function applyReplacement(text: string, r: { offset: number; length: number; content: string }): string {
  return text.slice(0, r.offset) + r.content + text.slice(r.offset + r.length);
}

const COLLAPSING = `{
  // adaptive margin without its safeguards: the paper's collapse
  "name": "collapse",
  "data": { "train": "data/train.jsonl" },
  "loss": {
    "type": "margin", // keep this comment
    "adaptive": true,
    "stopGradient": false,
    "symmetric": false
  }
}
`;

test('the collapse fix flips stopGradient and symmetric in place, keeping comments, as one replacement', () => {
  const edit = collapseFixEdit(COLLAPSING);
  assert.ok(edit);
  const out = applyReplacement(COLLAPSING, edit);
  assert.equal(out, applyCollapseFix(COLLAPSING));
  assert.equal(out, COLLAPSING.replace('"stopGradient": false', '"stopGradient": true').replace('"symmetric": false', '"symmetric": true'));
  assert.ok(out.includes('// keep this comment') && out.includes('// adaptive margin without its safeguards'));
  // The replacement spans only the changed region (from the first changed value to the last).
  assert.ok(
    edit.offset > COLLAPSING.indexOf('"stopGradient"') && edit.offset + edit.length <= COLLAPSING.indexOf('"symmetric": false') + '"symmetric": false'.length,
  );
  const cfg = parseConfigText(out, '/x/collapse.rlens.json').config;
  assert.equal(cfg.loss.stopGradient, true);
  assert.equal(cfg.loss.symmetric, true);
  assert.equal(collapseFixApplied(out), true);
  assert.equal(collapseFixEdit(out), null, 'applying it twice changes nothing');
});

test('the collapse fix adds the settings (and the loss section) when they are missing', () => {
  const noLoss = '{\n  "name": "x",\n  "data": { "train": "t.jsonl" }\n}\n';
  const out = applyReplacement(noLoss, collapseFixEdit(noLoss)!);
  assert.deepEqual(parse(out).loss, { stopGradient: true, symmetric: true });
  assert.equal(parseConfigText(out, '/x/a.rlens.json').config.loss.symmetric, true);
  const partial = '{\n\t"data": { "train": "t.jsonl" },\n\t"loss": { "type": "margin", "stopGradient": true }\n}\n';
  const out2 = applyReplacement(partial, collapseFixEdit(partial, { insertSpaces: false, tabSize: 4 })!);
  assert.deepEqual(parse(out2).loss, { type: 'margin', stopGradient: true, symmetric: true });
  assert.equal(collapseFixApplied(partial), false);
});

test('anchors: the loss property and each data path, at their exact offsets', () => {
  const a = findConfigAnchors(EXAMPLE);
  assert.ok(a.root && EXAMPLE[a.root.offset] === '{');
  assert.ok(a.loss);
  assert.ok(EXAMPLE.slice(a.loss.offset).startsWith('"loss"'));
  assert.deepEqual(
    a.data.map((d) => [d.key, d.value]),
    [
      ['train', 'data/train.jsonl'],
      ['test', 'data/test.jsonl'],
      ['corpus', 'data/corpus.jsonl'],
    ],
  );
  for (const d of a.data) {
    assert.ok(EXAMPLE.slice(d.property.offset).startsWith(`"${d.key}"`));
    assert.equal(EXAMPLE.slice(d.valueSpan.offset, d.valueSpan.offset + d.valueSpan.length), JSON.stringify(d.value));
  }
  // Broken text still yields what can be found; non-string data values are ignored.
  const broken = '{ "data": { "train": 3, "test": "t.jsonl" }, "loss": { "type": ';
  const b = findConfigAnchors(broken);
  assert.deepEqual(
    b.data.map((d) => d.key),
    ['test'],
  );
  assert.ok(b.loss);
  assert.deepEqual(findConfigAnchors('[1, 2]'), { root: null, loss: null, data: [], sweepable: [] });
});

test('runs folder and data specs come from the config, relative to its folder, with defaults', () => {
  assert.deepEqual(readConfigBasics(EXAMPLE), { name: 'shop-adaptive-softmax', runsDir: 'runs' });
  assert.equal(runsRootOf('/w/exp/a.rlens.json', '{ "output": { "runsDir": "../out/runs" } }'), path.resolve('/w/out/runs'));
  assert.equal(runsRootOf('/w/exp/a.rlens.json', '{ "output": { "runsDir": "/abs/runs" } } // c'), '/abs/runs');
  const specs = dataSpecsOf('/w/exp/shop.rlens.json', EXAMPLE);
  assert.deepEqual(
    specs.map((s) => [s.key, s.absPath, s.what, s.spec.split]),
    [
      ['train', '/w/exp/data/train.jsonl', 'examples', 'train'],
      ['test', '/w/exp/data/test.jsonl', 'examples', 'test'],
      ['corpus', '/w/exp/data/corpus.jsonl', 'items', undefined],
    ],
  );
  assert.ok(specs.every((s) => s.spec.maxBadLineShare === 1 && s.maxBadLineShare === 0.05));
  // An invalid config (unknown property) still gives its data paths, with the schema defaults.
  const invalid = dataSpecsOf('/w/a.rlens.json', '{ "data": { "train": "x.tsv", "maxBadLineShare": 0.2 }, "bogus": 1 }');
  assert.deepEqual(
    invalid.map((s) => [s.key, s.absPath, s.maxBadLineShare]),
    [['train', '/w/x.tsv', 0.05]],
  );
  const valid = dataSpecsOf('/w/a.rlens.json', '{ "data": { "train": "x.tsv", "maxBadLineShare": 0.2 } }');
  assert.equal(valid[0].maxBadLineShare, 0.2);
});

test('New Experiment from Example copies config and data into a free folder; the copy validates and loads', () => {
  const parent = fs.mkdtempSync(path.join(os.tmpdir(), 'rlens-example-'));
  try {
    fs.mkdirSync(path.join(parent, 'shop'));
    assert.equal(freeFolderName(parent, 'shop'), 'shop-2');
    const config = copyExample(REPO, parent);
    assert.equal(config, path.join(parent, 'shop-2', 'shop.rlens.json'));
    for (const f of EXAMPLE_FILES) assert.ok(fs.existsSync(path.join(parent, 'shop-2', f)), f);
    assert.ok(!fs.existsSync(path.join(parent, 'shop-2', 'generate.mjs')));
    const text = fs.readFileSync(config, 'utf8');
    assert.ok(!text.includes('$schema'), 'the repository-relative $schema is dropped (jsonValidation provides the schema)');
    assert.ok(text.includes('// The bundled example'), 'comments are kept');
    const loaded = parseConfigText(text, config);
    assert.equal(loaded.config.name, 'shop-adaptive-softmax');
    assert.equal(fs.statSync(path.join(parent, 'shop-2', 'data/train.jsonl')).size, fs.statSync(path.join(REPO, 'examples/shop/data/train.jsonl')).size);
    assert.equal(exampleConfigForWorkspace(text), text, 'nothing to drop twice');
  } finally {
    fs.rmSync(parent, { recursive: true, force: true });
  }
});

test('dropping "$schema" keeps every comment and leaves valid JSON with comments', () => {
  const cases: [string, string][] = [
    ['{\n  "$schema": "../s.json",\n  // c\n  "name": "a"\n}\n', '{\n  // c\n  "name": "a"\n}\n'],
    ['{ "$schema": "s", "name": "a" }', '{ "name": "a" }'],
    ['{ "name": "a", /* c */ "$schema": "s" }', '{ "name": "a" /* c */  }'],
    ['{\n  "name": "a",\n  "$schema": "s"\n}', '{\n  "name": "a"\n}'],
  ];
  for (const [input, want] of cases) assert.equal(exampleConfigForWorkspace(input), want, input);
  const out = exampleConfigForWorkspace(EXAMPLE);
  assert.equal(out.split('\n').length, EXAMPLE.split('\n').length - 1);
  assert.deepEqual(parse(out), (({ $schema: _schema, ...rest }) => rest)(parse(EXAMPLE)));
});

test('collapse remedies: enable sg + symmetric while either is off; absent keys count as their default (on)', () => {
  const r = collapseRemedies(COLLAPSING);
  assert.deepEqual(
    r.map((x) => x.label),
    [ENABLE_FIX_LABEL],
  );
  assert.equal(applyReplacement(COLLAPSING, remedyEdit(COLLAPSING, r[0])!), applyCollapseFix(COLLAPSING));
  // Absent stopGradient / symmetric are on (schema defaults): enabling them would change nothing.
  const absent = '{\n  "data": { "train": "t.jsonl" },\n  "loss": { "type": "margin" }\n}\n';
  assert.deepEqual(
    collapseRemedies(absent).map((x) => x.id),
    ['symmetric-weight', 'learning-rate', 'alpha'],
  );
});

test('collapse remedies once sg + symmetric are on: larger w, lower learning rate, smaller α — each its own edit that changes the config, with a why', () => {
  const text = `{
  "data": { "train": "t.jsonl" },
  "loss": { "type": "softmax", "adaptive": true, "stopGradient": true, "symmetric": true, "symmetricWeight": 0.05 }, // the paper's
  "training": { "learningRate": 0.002 }
}
`;
  const remedies = collapseRemedies(text);
  assert.deepEqual(
    remedies.map((x) => x.label),
    ['Raise symmetric weight to 0.1', 'Halve learning rate to 0.001', 'Lower α to 0.25'],
  );
  for (const r of remedies) {
    assert.ok(r.why.length > 20 && !r.why.includes('\n'), `one-line why: ${r.why}`);
    const out = applyReplacement(text, remedyEdit(text, r)!);
    assert.ok(out.includes("// the paper's"), 'comments kept');
    const before = parseConfigText(text, '/x/a.rlens.json').config;
    const after = parseConfigText(out, '/x/a.rlens.json').config;
    assert.notDeepEqual(after, before, `${r.label} changes the config`);
    const changed = [
      after.loss.symmetricWeight !== before.loss.symmetricWeight,
      after.training.learningRate !== before.training.learningRate,
      after.loss.alpha !== before.loss.alpha,
    ];
    assert.equal(changed.filter(Boolean).length, 1, `${r.label} changes exactly one setting`);
  }
  assert.equal(parseConfigText(applyReplacement(text, remedyEdit(text, remedies[2])!), '/x').config.loss.alpha, 0.25, 'α from its default 0.5');
  // Fixed losses have no α; a weight already at 1 is not raised.
  const fixed = text.replace('"adaptive": true', '"adaptive": false').replace('"symmetricWeight": 0.05', '"symmetricWeight": 1');
  assert.deepEqual(
    collapseRemedies(fixed).map((x) => x.id),
    ['learning-rate'],
  );
});

test('the verdict problem sits on the loss block, names the run and is as severe as the state', () => {
  const e = JSON.parse(
    fs
      .readFileSync(path.join(REPO, 'docs/run-format.md'), 'utf8')
      .split('\n')
      .find((l) => l.startsWith('{"v":2,"type":"step"'))!,
  );
  e.verdict = { state: 'collapsed', reason: 'item cosine 0.99 > 0.90 and R 0.0063 < 1 since step 10' };
  const p = verdictProblem(COLLAPSING, 'run-a', e);
  assert.equal(COLLAPSING.slice(p.span.offset, p.span.offset + 6), '"loss"');
  assert.ok(
    COLLAPSING.slice(p.span.offset, p.span.offset + p.span.length)
      .trimEnd()
      .endsWith('}'),
    'the whole loss block',
  );
  assert.equal(p.severity, 'error');
  assert.equal(p.message, 'Collapse verdict of run run-a at step 1200: collapsed (R 2.36) — item cosine 0.99 > 0.90 and R 0.0063 < 1 since step 10');
  e.verdict = { state: 'initialising', reason: 'not separated yet' };
  assert.equal(verdictProblem('{}', 'run-a', e).severity, 'information');
  assert.deepEqual(verdictProblem('{}', 'run-a', e).span, { offset: 0, length: 1 });
});

test('the quality verdict: a problem on the evaluation block naming the run and values, its remedies as edits that each change one setting', () => {
  const text = fs.readFileSync(path.join(REPO, 'examples/shop/shop.rlens.json'), 'utf8');
  const q = qualityVerdict({ heldOut: [0.3, 0.38, 0.4], bm25: 0.82, inBatch: 0.9999 });
  const p = qualityProblem(text, 'run-a', 300, q);
  assert.equal(text.slice(p.span.offset, p.span.offset + 12), '"evaluation"');
  assert.equal(p.severity, 'warning');
  assert.match(
    p.message,
    /^Quality verdict of run run-a at step 300: saturated — in-batch task saturated: in-batch recall@10 1\.00 ≥ 0\.99 while held-out recall@10 is 0\.40 \(BM25 0\.82\)/,
  );
  assert.equal(qualityProblem('{}', 'run-a', 1, qualityVerdict({ heldOut: [0.1], bm25: null, inBatch: null })).severity, 'information');
  const before = parseConfigText(text, '/x/shop.rlens.json').config;
  const remedies = qualityRemedies(q.remedies, before);
  assert.deepEqual(
    remedies.map((r) => r.id),
    ['hard-negatives', 'larger-batch', 'more-steps'],
  );
  for (const r of remedies) {
    const out = applyReplacement(text, remedyEdit(text, r)!);
    assert.ok(out.includes('// The bundled example'), 'comments kept');
    const after = parse(out) as Record<string, Record<string, unknown>>;
    const was = parse(text) as Record<string, Record<string, unknown>>;
    const changed = [
      JSON.stringify(after.data.hardNegatives) !== JSON.stringify(was.data.hardNegatives),
      after.training.batchSize !== was.training.batchSize,
      after.training.steps !== was.training.steps,
    ];
    assert.equal(changed.filter(Boolean).length, 1, `${r.label} changes exactly one setting`);
  }
  assert.deepEqual((parse(applyReplacement(text, remedyEdit(text, remedies[0])!)) as { data: object }).data, {
    train: 'data/train.jsonl',
    test: 'data/test.jsonl',
    corpus: 'data/corpus.jsonl',
    hardNegatives: { source: 'bm25', perQuery: 3, skipTop: 3 },
  });
  assert.equal((parse(applyReplacement(text, remedyEdit(text, remedies[1])!)) as { training: { batchSize: number } }).training.batchSize, 512);
});
