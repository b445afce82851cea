import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { initBackend, type BackendInfo } from '../../src/core/backend';
import { ConfigError, loadConfig, parseConfigText } from '../../src/core/config';
import { normaliseText } from '../../src/core/data/itemId';
import { loadCorpus } from '../../src/core/data/load';
import { readEvents } from '../../src/core/runs';
import { buildBatch } from '../../src/core/training/batcher';
import { featurizeExamples } from '../../src/core/training/featurizedData';
import { hardNegativesFor, type MiningInput } from '../../src/core/training/hardNegatives';
import { runTraining } from '../../src/core/training/trainLoop';
import { openTrainingData } from '../../src/core/training/trainingData';
import { hardNegativesLens } from '../../src/extension/dataLens/hardNegativesLens';
import { Bm25Index } from '../../src/core/lexical';
import type { Example } from '../../src/core/data/types';
import { smallExperiment, SHOP_CORPUS, SHOP_TRAIN } from '../helpers/smallExperiment';

let backend: BackendInfo;
before(async () => {
  backend = await initBackend('wasm');
});

/** A temp copy of the first `n` pairs of the bundled example's training data (a cache may be written beside it). */
function shopPairs(n: number): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rlens-hardneg-'));
  const file = path.join(dir, 'train.jsonl');
  fs.writeFileSync(file, fs.readFileSync(SHOP_TRAIN, 'utf8').split('\n').slice(0, n).join('\n') + '\n');
  return file;
}

async function mining(
  file: string,
  params = { source: 'bm25' as const, perQuery: 2, skipTop: 1 },
): Promise<MiningInput & { examples: () => AsyncIterable<Example> }> {
  const exp = smallExperiment({ data: { train: file } });
  const data = await openTrainingData(loadConfig(exp.config));
  return {
    params,
    examples: () => data.source.epoch(0),
    corpus: async () => ({ items: (await loadCorpus({ path: SHOP_CORPUS })).items, source: SHOP_CORPUS }),
    files: [file, SHOP_CORPUS],
    cacheBeside: file,
  };
}

test('BM25 hard negatives of the bundled example: never a positive (by id or text), BM25 order after skipTop', async () => {
  const file = shopPairs(400);
  const input = await mining(file);
  const m = await hardNegativesFor(input);
  assert.equal(m.fromCache, false);
  assert.equal(m.corpusItems, 6120);
  const pairs: Example[] = [];
  for await (const ex of input.examples()) pairs.push(ex);
  assert.equal(m.queries, new Set(pairs.map((p) => p.queryId)).size);
  const corpus = (await loadCorpus({ path: SHOP_CORPUS })).items;
  const bm25 = Bm25Index.build(corpus.map((it) => it.text));
  let checked = 0;
  for (const p of pairs) {
    const negs = m.byQuery.get(p.queryId)!;
    assert.ok(negs.length <= 2);
    // Every pair asking the same query (by id or text) keeps its positive out of the negatives.
    const same = pairs.filter((o) => o.queryId === p.queryId || normaliseText(o.query) === normaliseText(p.query));
    for (const n of negs) {
      for (const o of same) {
        assert.notEqual(n.id, o.positive.id, `${p.queryId}: a positive mined as a negative`);
        assert.notEqual(normaliseText(n.text), normaliseText(o.positive.text), `${p.queryId}: a positive's text mined as a negative`);
      }
    }
    // BM25's ranking without the positives, the first skipped: negatives are ranks 2 and 3 of it.
    const excluded = new Set(same.flatMap((o) => [o.positive.id, normaliseText(o.positive.text)]));
    const ranked = bm25
      .query(p.query, 200)
      .labels.map((r) => corpus[r])
      .filter((it) => !excluded.has(it.id) && !excluded.has(normaliseText(it.text)));
    assert.deepEqual(
      negs.map((n) => n.id),
      ranked.slice(1, 3).map((it) => it.id),
      p.query,
    );
    checked++;
  }
  assert.equal(checked, 400);
  assert.equal(
    m.mined,
    [...m.byQuery.values()].reduce((s, n) => s + n.length, 0),
  );
});

test('the mining cache is reused, and mined again with a notice when the data, the parameters or the file it describes differ', async () => {
  const file = shopPairs(300);
  const first = await hardNegativesFor(await mining(file));
  assert.equal(first.cacheFile, `${file}.rlens-hardneg`);
  const again = await hardNegativesFor(await mining(file));
  assert.equal(again.fromCache, true);
  assert.equal(again.notice, undefined);
  assert.deepEqual(
    [...again.byQuery].map(([q, n]) => [q, n.map((i) => i.id)]),
    [...first.byQuery].map(([q, n]) => [q, n.map((i) => i.id)]),
  );
  // Other parameters.
  const other = await hardNegativesFor(await mining(file, { source: 'bm25', perQuery: 3, skipTop: 1 }));
  assert.equal(other.fromCache, false);
  assert.match(other.notice!, /mined from other data or parameters \(perQuery 2 → 3\): mined again/);
  // The data changed (a pair appended): its size differs.
  const before = fs.readFileSync(file, 'utf8');
  fs.appendFileSync(file, fs.readFileSync(SHOP_TRAIN, 'utf8').split('\n')[500] + '\n');
  const changed = await hardNegativesFor(await mining(file, { source: 'bm25', perQuery: 3, skipTop: 1 }));
  assert.equal(changed.fromCache, false);
  assert.match(changed.notice!, new RegExp(`${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} changed since \\(size or modification time\\)`));
  assert.equal(changed.queries, first.queries + 1);
  // A cache mined from other data, copied beside this file: detected, mined again, the data file untouched.
  const otherFile = shopPairs(100);
  await hardNegativesFor(await mining(otherFile));
  fs.copyFileSync(`${otherFile}.rlens-hardneg`, `${file}.rlens-hardneg`);
  const dataBefore = fs.readFileSync(file);
  const foreign = await hardNegativesFor(await mining(file, { source: 'bm25', perQuery: 3, skipTop: 1 }));
  assert.equal(foreign.fromCache, false);
  assert.match(foreign.notice!, /was not among the files it was mined from/);
  assert.deepEqual(fs.readFileSync(file), dataBefore);
  // An unreadable cache (cut short): said, mined again.
  const cache = `${file}.rlens-hardneg`;
  fs.writeFileSync(cache, fs.readFileSync(cache, 'utf8').slice(0, 100));
  const cut = await hardNegativesFor(await mining(file, { source: 'bm25', perQuery: 3, skipTop: 1 }));
  assert.match(cut.notice!, /is unreadable/);
  assert.equal(cut.queries, changed.queries);
  assert.notEqual(before, fs.readFileSync(file, 'utf8'));
});

test('mined negatives join the in-batch negatives: every pair sees them, an accidental hit (same id or text as its positive) masked', () => {
  const item = (id: string, text: string) => ({ id, text, source: { file: SHOP_CORPUS, line: 1 } });
  const ex = (q: string, pos: ReturnType<typeof item>): Example => ({ queryId: q, query: q, positive: pos, negatives: [], source: pos.source });
  const a = ex('loom 410 w36 l30', item('p04818', 'Loom 410 Bootcut Selvedge Jeans W36 L30 Mid Blue'));
  const b = ex('denimco 440 w34', item('p04810', 'Denimco 440 Slim Jeans W34 L32 Black'));
  const c = ex('acme phone z27', item('p00001', 'Acme Phone Z27 5G 256GB Midnight Black'));
  const mined: Record<string, ReturnType<typeof item>[]> = {
    // p04816 for a; for c, an item with b's positive id (already an in-batch column: not added twice) and one
    // whose text is a's positive text under another id (an accidental hit for a only).
    [a.queryId]: [item('p04816', 'Loom 410 Bootcut Selvedge Jeans W34 L30 Mid Blue')],
    [c.queryId]: [item('p04810', 'Denimco 440 Slim Jeans W34 L32 Black'), item('dup', '  loom 410 bootcut selvedge jeans w36 l30 MID BLUE')],
  };
  const model = {
    vocabBuckets: 4096,
    embeddingDim: 8,
    hiddenDim: 8,
    outputDim: 8,
    maxQueryTokens: 30,
    maxItemTokens: 100,
    charTrigrams: true,
    sharedTowers: false,
    preset: 'dssm' as const,
  };
  const data = featurizeExamples([a, b, c], model, (e) => mined[e.queryId] ?? []);
  const batch = buildBatch(data, [0, 1, 2], 3);
  assert.deepEqual(batch.itemIds, ['p04818', 'p04810', 'p00001', 'p04816', 'dup']);
  assert.equal(batch.N, 5);
  const mask = (j: number) => Array.from(batch.negMask.subarray(j * 5, j * 5 + 5));
  assert.deepEqual(mask(0), [0, 1, 1, 1, 0], 'a: "dup" has its positive text');
  assert.deepEqual(mask(1), [1, 0, 1, 1, 1]);
  assert.deepEqual(mask(2), [1, 1, 0, 1, 1]);
  // Without mined negatives the batch is as before: in-batch only.
  assert.equal(buildBatch(featurizeExamples([a, b, c], model), [0, 1, 2], 3).N, 3);
});

test('data.hardNegatives: unknown source, perQuery out of range are located config errors (the torchrun trainer takes them)', () => {
  const cfg = (hn: string, extra = '') => `{\n  "data": {\n    "train": "x.jsonl",\n    "hardNegatives": ${hn}\n  }${extra}\n}\n`;
  const problems = (text: string) => {
    try {
      parseConfigText(text, '/cfg/x.rlens.json');
    } catch (e) {
      assert.ok(e instanceof ConfigError);
      return e.problems.map((p) => `${p.line}:${p.column} ${p.path}: ${p.message}`);
    }
    return [];
  };
  assert.deepEqual(problems(cfg('{ "source": "splade", "perQuery": 2 }')), ['4:34 data.hardNegatives.source: must be one of "bm25"']);
  assert.deepEqual(problems(cfg('{ "source": "bm25", "perQuery": 0 }')), ['4:54 data.hardNegatives.perQuery: must be >= 1']);
  assert.match(problems(cfg('{ "source": "bm25", "perQuery": 33 }'))[0], /^4:\d+ data\.hardNegatives\.perQuery: must be <= 32$/);
  assert.deepEqual(problems(cfg('{ "source": "bm25", "perQuery": 2, "skipTop": -1 }')).length, 1);
  // The torchrun trainer reads them too (its launcher mines them: src/trainer/launch/torchrunPrep.ts).
  assert.deepEqual(problems(cfg('{ "source": "bm25", "perQuery": 2 }', ',\n  "trainer": { "kind": "torchrun" }')), []);
  const ok = parseConfigText(cfg('{ "source": "bm25", "perQuery": 2 }'), '/cfg/x.rlens.json').config.data.hardNegatives;
  assert.deepEqual(ok, { source: 'bm25', perQuery: 2, skipTop: 0 });
});

test('a corpus too small to mine from is an error at data.hardNegatives, before any run folder; training with them logs what was mined', async () => {
  // Plain pairs without data.corpus: the corpus is the training positives (here 5 distinct ones).
  const file = shopPairs(5);
  const exp = smallExperiment({ data: { train: file, hardNegatives: { source: 'bm25', perQuery: 8 } }, training: { batchSize: 4, steps: 2 } });
  await assert.rejects(runTraining({ loaded: loadConfig(exp.config), backend }), (e: Error) => {
    assert.ok(e instanceof ConfigError);
    assert.equal(e.problems[0].path, 'data.hardNegatives');
    assert.ok(e.problems[0].line > 1, 'located at the key in the config file');
    assert.match(e.message, /the 5 distinct training positives\) has 5 items; perQuery 8 \+ skipTop 0 needs at least 9: set data\.corpus/);
    return true;
  });
  assert.equal(fs.existsSync(exp.runs), false, 'no run folder');
  // With the corpus: mined, logged, and the batches carry them (N > B).
  const good = smallExperiment({
    data: { train: shopPairs(200), corpus: SHOP_CORPUS, hardNegatives: { source: 'bm25', perQuery: 2 } },
    training: { batchSize: 16, steps: 3, logEvery: 1 },
  });
  const logs: string[] = [];
  const r = await runTraining({ loaded: loadConfig(good.config), backend, hooks: { onLog: (_, m) => logs.push(m) } });
  assert.equal(r.status, 'completed');
  assert.ok(
    logs.some((m) =>
      /^hard negatives: \d+ BM25 negatives for \d+ training queries \(perQuery 2, skipTop 0\) from .*corpus\.jsonl \(6120 items\), mined in/.test(m),
    ),
    logs.join('\n'),
  );
  const events = readEvents(path.join(r.runDir, 'events.jsonl')).events;
  assert.ok(events.some((e) => e.type === 'log' && /^hard negatives: /.test(e.message)));
});

test('the data lens above data.hardNegatives: to be mined, then what the cache says, and other parameters said', async () => {
  const file = shopPairs(150);
  const configPath = path.join(path.dirname(file), 'x.rlens.json');
  const text = (perQuery: number) =>
    `{\n  "data": {\n    "train": "train.jsonl",\n    "corpus": ${JSON.stringify(SHOP_CORPUS)},\n    "hardNegatives": { "source": "bm25", "perQuery": ${perQuery}, "skipTop": 1 }\n  }\n}\n`;
  const before = hardNegativesLens(configPath, text(2))!;
  assert.equal(before.title, '$(search) hard negatives: mined by BM25 when training starts');
  assert.equal(text(2).slice(before.at.offset, before.at.offset + 15), '"hardNegatives"');
  const m = await hardNegativesFor(await mining(file));
  const after = hardNegativesLens(configPath, text(2))!;
  assert.equal(
    after.title,
    `$(search) ${m.mined.toLocaleString('en-US')} hard negatives for ${m.queries.toLocaleString('en-US')} queries · mined in ${(m.ms / 1000).toFixed(1)} s from 6,120 items`,
  );
  assert.match(hardNegativesLens(configPath, text(3))!.title, /when training starts \(the cache holds other parameters\)/);
  assert.equal(hardNegativesLens(configPath, text(2).replace(/,\n {4}"hardNegatives".*\n/, '\n')), null);
});
