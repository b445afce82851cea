import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { Worker } from 'worker_threads';
import { Bm25Index, distinctWords } from '../../src/core/lexical';
import type { Bm25WorkerData } from '../../src/core/lexical/parallelSearch';
import { sharedArray } from '../../src/core/lexical/sharedArray';
import { SHOP_CORPUS, SHOP_TEST } from '../helpers/smallExperiment';

const BUNDLED = path.resolve(__dirname, '../../dist/bm25Worker.js');
const jsonl = (file: string) =>
  fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, string>);

test('the bundled BM25 worker thread (dist/bm25Worker.js, shipped in the .vsix) ranks the chunks it is sent into the shared result', async (t) => {
  if (!fs.existsSync(BUNDLED)) return t.skip('dist/bm25Worker.js is not built (npm run build)');
  const index = Bm25Index.build(jsonl(SHOP_CORPUS).map((d) => d.text));
  const texts = jsonl(SHOP_TEST)
    .map((q) => q.query)
    .slice(0, 100);
  const depth = 10;
  // The worker's data as searchParallel makes it: the index's shared arrays, the queries' term ids, the result.
  const ranker = (index as unknown as { ranker: { a: Bm25WorkerData['arrays'] } }).ranker;
  const termIds = (index as unknown as { termIds: Map<string, number> }).termIds;
  const queries = texts.map((q) => distinctWords(q).flatMap((w) => termIds.get(w) ?? []));
  const starts = sharedArray(Int32Array, queries.length + 1);
  queries.forEach((q, i) => (starts[i + 1] = starts[i] + q.length));
  const ids = sharedArray(Int32Array, starts[queries.length]);
  queries.forEach((q, i) => ids.set(q, starts[i]));
  const data: Bm25WorkerData = {
    arrays: ranker.a,
    ids,
    starts,
    depth,
    chunk: 32,
    labels: sharedArray(Int32Array, queries.length * depth).fill(-1),
    scores: sharedArray(Float32Array, queries.length * depth).fill(-Infinity),
  };
  const worker = new Worker(BUNDLED, { workerData: data });
  t.after(() => worker.terminate());
  const said: unknown[] = [];
  await new Promise<void>((resolve, reject) => {
    worker.on('error', reject);
    worker.on('message', (m: { ready?: true; ranked?: number }) => {
      said.push(m);
      if (m.ready) for (let c = 0; c < Math.ceil(queries.length / 32); c++) worker.postMessage(c);
      else if (said.length === 1 + Math.ceil(queries.length / 32)) resolve();
    });
  });
  assert.deepEqual(said, [{ ready: true }, { ranked: 0 }, { ranked: 1 }, { ranked: 2 }, { ranked: 3 }]);
  const ref = index.search(texts, depth);
  assert.deepEqual(Array.from(data.labels), Array.from(ref.labels));
  assert.deepEqual(Array.from(data.scores), Array.from(ref.scores));
});
