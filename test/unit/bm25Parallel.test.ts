import { test } from 'node:test';
import assert from 'node:assert/strict';
import seedrandom from 'seedrandom';
import { Bm25Index, distinctWords } from '../../src/core/lexical';
import type { Bm25Ranker } from '../../src/core/lexical/bm25Ranker';
import { searchInThreads } from '../../src/core/lexical/parallelSearch';
import { words } from '../../src/core/model/featurize';
import { SHOP_CORPUS, SHOP_TEST, shopField } from '../helpers/smallExperiment';

/** The bundled corpus with its first 300 items repeated (ties), its test queries and 1,500 seeded bags of corpus words. */
function fixture(): { index: Bm25Index; queries: string[] } {
  const texts = shopField(SHOP_CORPUS, 'text');
  const corpus = [...texts, ...texts.slice(0, 300)];
  const vocab = corpus.flatMap((t) => words(t));
  const rng = seedrandom('bm25-parallel');
  const bags = Array.from({ length: 1500 }, () => Array.from({ length: 1 + Math.floor(rng() * 8) }, () => vocab[Math.floor(rng() * vocab.length)]).join(' '));
  return { index: Bm25Index.build(corpus), queries: [...shopField(SHOP_TEST, 'query'), ...bags, 'no such words at all'] };
}

test('a search on worker threads ranks every query exactly as the single-threaded search (rows, scores, ties, no match)', async () => {
  const { index, queries } = fixture();
  const one = index.search(queries, 100);
  const progress: number[] = [];
  const par = await index.searchParallel(queries, 100, { threads: 3, callerRanks: false, onProgress: (d) => progress.push(d) });
  assert.ok(par.workers >= 1 && par.threads === par.workers, `the worker threads ranked (threads ${par.threads}, workers ${par.workers})`);
  assert.equal(par.nq, queries.length);
  assert.deepEqual(Array.from(par.labels), Array.from(one.labels));
  assert.deepEqual(Array.from(par.scores), Array.from(one.scores));
  assert.deepEqual(
    progress,
    [...progress].sort((a, b) => a - b),
    'progress only grows',
  );
  assert.equal(progress.at(-1), queries.length);

  // The caller thread and a worker together, on an index read back from its saved file (its arrays shared too).
  const loaded = Bm25Index.fromBuffer(index.toBuffer());
  const both = await loaded.searchParallel(queries, 10, { threads: 2 });
  const ref = index.search(queries, 10);
  assert.deepEqual(Array.from(both.labels), Array.from(ref.labels));
  assert.deepEqual(Array.from(both.scores), Array.from(ref.scores));
  assert.ok(both.threads >= 1 && both.threads <= 2);
});

test('a small search stays on one thread unless threads are asked for', async () => {
  const { index, queries } = fixture();
  const small = await index.searchParallel(queries.slice(0, 300), 10);
  assert.deepEqual([small.threads, small.workers], [1, 0], 'the bundled corpus is under the postings a parallel search needs');
  assert.deepEqual(Array.from(small.labels), Array.from(index.search(queries.slice(0, 300), 10).labels));
});

test('worker threads that fail to start, or die holding a chunk, hand their share back: the result is the same', { timeout: 60_000 }, async () => {
  const { index, queries } = fixture();
  const one = index.search(queries, 10);
  const ranker = (index as unknown as { ranker: Bm25Ranker }).ranker;
  const termIds = (index as unknown as { termIds: Map<string, number> }).termIds;
  const ids = queries.map((q) => distinctWords(q).flatMap((w) => termIds.get(w) ?? []));
  const broken = { script: 'throw new Error("this worker does not start")', eval: true };
  // Says it is ready, takes a chunk and exits without ranking it.
  const dies = {
    script: "const { parentPort } = require('worker_threads'); parentPort.on('message', () => process.exit(3)); parentPort.postMessage({ ready: true });",
    eval: true,
  };
  for (const worker of [broken, dies]) {
    const r = await searchInThreads(ranker, ids, 10, 3, { callerRanks: false, worker });
    assert.deepEqual([r.threads, r.workers], [1, 0], 'this thread ranked everything');
    assert.deepEqual(Array.from(r.labels), Array.from(one.labels));
    assert.deepEqual(Array.from(r.scores), Array.from(one.scores));
  }
});
