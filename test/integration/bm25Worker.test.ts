import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { Worker } from 'worker_threads';
import { Bm25Index, distinctWords } from '../../src/core/lexical';
import { bm25WorkerData, type Bm25WorkerData } from '../../src/core/lexical/parallelSearch';
import { SHOP_CORPUS, SHOP_TEST, shopField } from '../helpers/smallExperiment';

const BUNDLED = path.resolve(__dirname, '../../dist/bm25Worker.js');

test('the bundled BM25 worker thread (dist/bm25Worker.js, shipped in the .vsix) ranks the chunks it is sent into the shared result', async (t) => {
  assert.ok(fs.existsSync(BUNDLED), `${BUNDLED} is missing: npm run build first`);
  const index = Bm25Index.build(shopField(SHOP_CORPUS, 'text'));
  const texts = shopField(SHOP_TEST, 'query').slice(0, 100);
  const depth = 10;
  // The worker's data as searchParallel makes it: the index's shared arrays, the queries' term ids, the result.
  const ranker = (index as unknown as { ranker: { a: Bm25WorkerData['arrays'] } }).ranker;
  const termIds = (index as unknown as { termIds: Map<string, number> }).termIds;
  const queries = texts.map((q) => distinctWords(q).flatMap((w) => termIds.get(w) ?? []));
  const data = bm25WorkerData(ranker.a, queries, depth);
  const chunks = Math.ceil(queries.length / data.chunk);
  const worker = new Worker(BUNDLED, { workerData: data });
  t.after(() => worker.terminate());
  const said: unknown[] = [];
  await new Promise<void>((resolve, reject) => {
    worker.on('error', reject);
    worker.on('message', (m: { ready?: true; ranked?: number }) => {
      said.push(m);
      if (m.ready) for (let c = 0; c < chunks; c++) worker.postMessage(c);
      else if (said.length === 1 + chunks) resolve();
    });
  });
  assert.deepEqual(said, [{ ready: true }, ...Array.from({ length: chunks }, (_, c) => ({ ranked: c }))]);
  const ref = index.search(texts, depth);
  assert.deepEqual(Array.from(data.labels), Array.from(ref.labels));
  assert.deepEqual(Array.from(data.scores), Array.from(ref.scores));
});
