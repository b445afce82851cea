/**
 * Data lenses of a data.train given as a list of shards or a glob: where each lens goes, and what a
 * glob's lens counts (files, examples or data lines, bad lines), with real files. VS Code draws the
 * lenses (configLenses.ts); the ranges and the counts are computed here without it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { gzipSync } from 'zlib';
import { findConfigAnchors } from '../../src/extension/configEditor/configAnchors';
import { dataSpecsOf } from '../../src/extension/dataLens/dataSpecs';
import { countDataPath, lensStateFromTrainer, uncountedNote } from '../../src/extension/dataLens/dataLensCount';
import { formatDataLens } from '../../src/extension/shared/lensText';

const CONFIG = `{
  // shards
  "data": {
    "train": [
      "shards/part-1.jsonl",
      42,
      "shards/part-*.jsonl*"
    ],
    "test": "shards/part-1.jsonl",
    "maxBadLineShare": 0.5
  }
}
`;

test('a list of data paths gets one lens per entry, above each entry; a single path keeps its lens above the property', () => {
  const a = findConfigAnchors(CONFIG);
  assert.deepEqual(
    a.data.map((d) => [d.key, d.index, d.value]),
    [
      ['train', 0, 'shards/part-1.jsonl'],
      ['train', 2, 'shards/part-*.jsonl*'],
      ['test', null, 'shards/part-1.jsonl'],
    ],
  );
  for (const d of a.data) {
    const at = CONFIG.slice(d.property.offset);
    assert.ok(d.index === null ? at.startsWith(`"${d.key}"`) : at.startsWith(JSON.stringify(d.value)), at.slice(0, 30));
    assert.equal(CONFIG.slice(d.valueSpan.offset, d.valueSpan.offset + d.valueSpan.length), JSON.stringify(d.value));
  }
  const specs = dataSpecsOf('/w/exp/a.rlens.json', CONFIG);
  assert.deepEqual(
    specs.map((s) => [s.key, s.index, s.absPath, s.spec.label, s.what, CONFIG.slice(s.at.offset, s.at.offset + 6)]),
    [
      ['train', 0, '/w/exp/shards/part-1.jsonl', 'data.train[0]', 'examples', '"shard'],
      ['train', 2, '/w/exp/shards/part-*.jsonl*', 'data.train[2]', 'examples', '"shard'],
      ['test', null, '/w/exp/shards/part-1.jsonl', 'data.test', 'examples', '"test"'],
    ],
  );
  // Each entry's lens is on its own line of the config.
  const lineOf = (offset: number) => CONFIG.slice(0, offset).split('\n').length;
  assert.deepEqual(
    specs.map((s) => lineOf(s.at.offset)),
    [5, 7, 9],
  );
});

test("a glob's lens counts its files together: files, examples and bad lines; over the size limit, files and data lines by their line indexes", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rlens-datalens-'));
  try {
    const j = (o: unknown) => JSON.stringify(o);
    const pair = (i: number) => j({ query: `query ${i}`, positive: { id: `p${i}`, text: `item ${i}` } });
    fs.mkdirSync(path.join(dir, 'shards'));
    fs.writeFileSync(path.join(dir, 'shards', 'part-1.jsonl'), [1, 2, 3].map(pair).join('\n') + '\n');
    fs.writeFileSync(path.join(dir, 'shards', 'part-2.jsonl'), [pair(4), '{ not json', '', pair(5)].join('\n') + '\n');
    fs.writeFileSync(path.join(dir, 'shards', 'part-10.jsonl.gz'), gzipSync([6, 7, 8, 9].map(pair).join('\n') + '\n'));
    const configPath = path.join(dir, 'a.rlens.json');
    const valid = '{ "data": { "train": ["shards/part-1.jsonl", "shards/part-*.jsonl*"], "maxBadLineShare": 0.5 } }';
    const [single, glob] = dataSpecsOf(configPath, valid);
    assert.equal(glob.maxBadLineShare, 0.5, 'the config is valid: its own bad-line share applies');

    const globCount = await countDataPath(glob);
    assert.deepEqual(globCount.state, { kind: 'loaded', examples: 9, badLines: 1, what: 'examples', from: 'load', files: 3 });
    assert.equal(formatDataLens(globCount.state), '3 files · 9 examples · $(warning) 1 bad line');
    assert.deepEqual(
      globCount.report?.badLines.map((b) => [path.basename(b.file), b.line]),
      [['part-2.jsonl', 2]],
    );
    // The trainer's exact counts of the glob show the same way.
    assert.equal(
      formatDataLens(await lensStateFromTrainer(glob, { examples: 9, badLines: 1, count: 'exact' })),
      '3 files · 9 examples · $(warning) 1 bad line',
    );
    const singleCount = await countDataPath(single);
    assert.equal(formatDataLens(singleCount.state), '3 examples · 0 bad lines', 'a list entry naming one file: its own counts');

    // Over the limit (here 0 bytes): every matched file is indexed (the gzip one by a sequential pass); bad lines wait for training.
    assert.equal(await uncountedNote(glob, 0), null, 'a glob is counted by its indexes, not left to training');
    const indexed = await countDataPath(glob, 0);
    const bytes = ['part-1.jsonl', 'part-2.jsonl', 'part-10.jsonl.gz'].reduce((n, f) => n + fs.statSync(path.join(dir, 'shards', f)).size, 0);
    assert.deepEqual(indexed.state, { kind: 'indexed', lines: 3 + 3 + 4, bytes, what: 'examples', files: 3 });
    assert.match(formatDataLens(indexed.state), /^3 files · ≈10 examples \(data lines of \d+ B\) · bad lines counted when training reads it$/);
    assert.equal(indexed.report, null);

    // A glob matching nothing is an error naming it.
    const none = dataSpecsOf(configPath, '{ "data": { "train": ["shards/*.tsv"] } }')[0];
    const noneCount = await countDataPath(none);
    assert.equal(noneCount.state.kind, 'error');
    assert.match(formatDataLens(noneCount.state), /no file matches .*shards\/\*\.tsv \(data\.train\[0\]\)/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
