import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parse } from 'jsonc-parser';
import { parseConfigText } from '../src/core/config/loadConfig';
import { applyCollapseFix, collapseFixApplied, collapseFixEdit } from '../src/extension/collapseFix';
import { findConfigAnchors, readConfigBasics } from '../src/extension/configAnchors';
import { dataSpecsOf } from '../src/extension/dataSpecs';
import { copyExample, exampleConfigForWorkspace, EXAMPLE_FILES, freeFolderName } from '../src/extension/exampleProject';
import { runsRootOf } from '../src/extension/experimentFiles';

const REPO = path.resolve(__dirname, '..');
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
  assert.ok(edit.offset > COLLAPSING.indexOf('"stopGradient"') && edit.offset + edit.length <= COLLAPSING.indexOf('"symmetric": false') + '"symmetric": false'.length);
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
  assert.deepEqual(a.data.map((d) => [d.key, d.value]), [['train', 'data/train.jsonl'], ['test', 'data/test.jsonl'], ['corpus', 'data/corpus.jsonl']]);
  for (const d of a.data) {
    assert.ok(EXAMPLE.slice(d.property.offset).startsWith(`"${d.key}"`));
    assert.equal(EXAMPLE.slice(d.valueSpan.offset, d.valueSpan.offset + d.valueSpan.length), JSON.stringify(d.value));
  }
  // Broken text still yields what can be found; non-string data values are ignored.
  const broken = '{ "data": { "train": 3, "test": "t.jsonl" }, "loss": { "type": ';
  const b = findConfigAnchors(broken);
  assert.deepEqual(b.data.map((d) => d.key), ['test']);
  assert.ok(b.loss);
  assert.deepEqual(findConfigAnchors('[1, 2]'), { root: null, loss: null, data: [] });
});

test('runs folder and data specs come from the config, relative to its folder, with defaults', () => {
  assert.deepEqual(readConfigBasics(EXAMPLE), { name: 'shop-adaptive-softmax', runsDir: 'runs' });
  assert.equal(runsRootOf('/w/exp/a.rlens.json', '{ "output": { "runsDir": "../out/runs" } }'), path.resolve('/w/out/runs'));
  assert.equal(runsRootOf('/w/exp/a.rlens.json', '{ "output": { "runsDir": "/abs/runs" } } // c'), '/abs/runs');
  const specs = dataSpecsOf('/w/exp/shop.rlens.json', EXAMPLE);
  assert.deepEqual(specs.map((s) => [s.key, s.absPath, s.what, s.spec.split]), [
    ['train', '/w/exp/data/train.jsonl', 'examples', 'train'],
    ['test', '/w/exp/data/test.jsonl', 'examples', 'test'],
    ['corpus', '/w/exp/data/corpus.jsonl', 'items', undefined],
  ]);
  assert.ok(specs.every((s) => s.spec.maxBadLineShare === 1 && s.maxBadLineShare === 0.05));
  // An invalid config (unknown property) still gives its data paths, with the schema defaults.
  const invalid = dataSpecsOf('/w/a.rlens.json', '{ "data": { "train": "x.tsv", "maxBadLineShare": 0.2 }, "bogus": 1 }');
  assert.deepEqual(invalid.map((s) => [s.key, s.absPath, s.maxBadLineShare]), [['train', '/w/x.tsv', 0.05]]);
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
  assert.deepEqual(parse(out), (({ $schema, ...rest }) => rest)(parse(EXAMPLE)));
});
