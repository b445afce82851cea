import { loadFaiss } from '../../src/core/vectorIndex/faissModule';
loadFaiss(); // fails the file with "... run `bash scripts/setup-faiss.sh` ..." when faiss-node's addon is missing

import { test } from 'node:test';
import assert from 'node:assert/strict';
import seedrandom from 'seedrandom';
import { annGap, evaluateRetrieval, ndcgAtK, recallAtK, reciprocalRankAtK, type Qrels, type Rankings } from '../../src/core/eval/retrievalMetrics';
import { buildIndex, exactSearch, resultToRankings, search } from '../../src/core/vectorIndex';

const close = (got: number, want: number, what: string): void => assert.ok(Math.abs(got - want) < 1e-12, `${what}: got ${got}, want ${want}`);

// Hand-computed constants: 1/log2(3) (gain of rank 2), log2(4) = 2 (rank 3).
const INV_LOG2_3 = 0.6309297535714575;

test('per-query metrics: hand-computed recall, reciprocal rank and nDCG', () => {
  // one relevant item at rank 2
  const single = new Set(['a']);
  assert.equal(recallAtK(['x', 'a', 'y'], single, 1), 0);
  assert.equal(recallAtK(['x', 'a', 'y'], single, 5), 1);
  assert.equal(reciprocalRankAtK(['x', 'a', 'y'], single, 10), 0.5);
  close(ndcgAtK(['x', 'a', 'y'], single, 10), INV_LOG2_3, 'nDCG one relevant at rank 2'); // (1/log2 3) / 1

  // three relevant, found at ranks 1, 3 and 11
  const three = new Set(['a', 'b', 'c']);
  const ranked = ['a', 'x', 'b', 'y', 'z', 'w', 'v', 'u', 't', 's', 'c'];
  close(recallAtK(ranked, three, 1), 1 / 3, 'recall@1');
  close(recallAtK(ranked, three, 5), 2 / 3, 'recall@5');
  close(recallAtK(ranked, three, 10), 2 / 3, 'recall@10');
  assert.equal(recallAtK(ranked, three, 50), 1);
  assert.equal(reciprocalRankAtK(ranked, three, 10), 1);
  // DCG@10 = 1/log2 2 + 1/log2 4 = 1.5; IDCG@10 = 1 + 1/log2 3 + 1/2 (3 relevant)
  close(ndcgAtK(ranked, three, 10), 1.5 / (1.5 + INV_LOG2_3), 'nDCG three relevant');

  // the first relevant item beyond rank 10 gives RR@10 = 0 and nDCG@10 = 0
  const late = [...Array.from({ length: 59 }, (_, i) => `junk${i}`), 'r'];
  assert.equal(reciprocalRankAtK(late, new Set(['r']), 10), 0);
  assert.equal(ndcgAtK(late, new Set(['r']), 10), 0);
  assert.equal(recallAtK(late, new Set(['r']), 50), 0);
  assert.equal(recallAtK(late, new Set(['r']), 100), 1);

  // 12 relevant items all at the top: the ideal DCG uses min(12, 10) items, so nDCG@10 = 1
  const twelve = Array.from({ length: 12 }, (_, i) => `g${i}`);
  close(ndcgAtK(twelve, new Set(twelve), 10), 1, 'nDCG with more than 10 relevant');
  close(recallAtK(twelve, new Set(twelve), 10), 10 / 12, 'recall@10 with 12 relevant');

  // a repeated item counts once: [a, a, x, b] is judged as [a, x, b]
  const two = new Set(['a', 'b']);
  assert.equal(recallAtK(['a', 'a', 'x', 'b'], two, 2), 0.5);
  assert.equal(recallAtK(['a', 'a', 'x', 'b'], two, 3), 1);
  close(ndcgAtK(['a', 'a', 'x', 'b'], two, 10), 1.5 / (1 + INV_LOG2_3), 'nDCG with a duplicate');

  // nothing relevant: 0, not NaN
  assert.equal(recallAtK(['a'], new Set(), 10), 0);
  assert.equal(ndcgAtK(['a'], new Set(), 10), 0);
});

test('evaluateRetrieval averages over queries with relevant items and counts the others', () => {
  const qrels: Qrels = new Map([
    ['qA', new Set(['a'])],
    ['qB', new Set(['a', 'b', 'c'])],
    ['qD', new Set<string>()], // judged, but nothing relevant
    ['qE', new Set(['e'])], // relevant items but never ranked
    ['qF', new Set(['f'])], // ranked, nothing retrieved
    ['qG', new Set(Array.from({ length: 12 }, (_, i) => `g${i}`))],
  ]);
  const rankings: Rankings = new Map([
    ['qA', ['x', 'a', 'y']],
    ['qB', ['a', 'x', 'b', 'y', 'z', 'w', 'v', 'u', 't', 's', 'c']],
    ['qC', ['a']], // no qrels entry at all
    ['qD', ['a']],
    ['qF', []],
    ['qG', Array.from({ length: 12 }, (_, i) => `g${i}`)],
  ]);
  const m = evaluateRetrieval(qrels, rankings);
  assert.equal(m.queriesEvaluated, 4); // qA, qB, qF, qG
  assert.equal(m.queriesWithoutRelevant, 2); // qC, qD
  assert.equal(m.queriesNotRanked, 1); // qE
  // per query (qA, qB, qF, qG): recall@1 0, 1/3, 0, 1/12 → mean 5/48
  close(m.recall[1], 5 / 48, 'recall@1');
  close(m.recall[5], (1 + 2 / 3 + 0 + 5 / 12) / 4, 'recall@5'); // = 25/48
  close(m.recall[10], (1 + 2 / 3 + 0 + 10 / 12) / 4, 'recall@10'); // = 0.625
  close(m.recall[50], 0.75, 'recall@50');
  close(m.recall[100], 0.75, 'recall@100');
  close(m.mrr10, (0.5 + 1 + 0 + 1) / 4, 'MRR@10');
  close(m.ndcg10, 0.5837119606513981, 'nDCG@10'); // (1/log2 3 + 1.5/(1.5 + 1/log2 3) + 0 + 1) / 4

  // no query with relevant items: zeros and counts, no NaN
  const none = evaluateRetrieval(new Map(), new Map([['q', ['a']]]));
  assert.deepEqual(none.recall, { 1: 0, 5: 0, 10: 0, 50: 0, 100: 0 });
  assert.equal(none.mrr10, 0);
  assert.equal(none.ndcg10, 0);
  assert.equal(none.queriesEvaluated, 0);
  assert.equal(none.queriesWithoutRelevant, 1);
});

test('annGap: per-k gap and ratio between approximate and exact recall', () => {
  const gaps = annGap({ 1: 0.4, 5: 0.6, 10: 0.7, 50: 0.9, 100: 0 }, { 1: 0.5, 5: 0.8, 10: 0.7, 50: 1, 100: 0 });
  assert.deepEqual(
    gaps.map((g) => g.k),
    [1, 5, 10, 50, 100],
  );
  close(gaps[0].gap, 0.1, 'gap@1');
  close(gaps[0].ratio!, 0.8, 'ratio@1');
  close(gaps[1].gap, 0.2, 'gap@5');
  close(gaps[1].ratio!, 0.75, 'ratio@5');
  assert.equal(gaps[2].gap, 0);
  assert.equal(gaps[2].ratio, 1);
  assert.equal(gaps[4].ratio, null); // exact recall 0: no ratio
});

test('metrics on real faiss results: Flat equals brute force (zero ANN gap), IVF-PQ at nprobe 1 loses recall', () => {
  const rng = seedrandom('metrics-faiss');
  const n = 2000,
    dim = 16,
    nq = 200;
  const corpus = new Float32Array(n * dim).map(() => rng() - 0.5);
  const queries = new Float32Array(nq * dim);
  const qrels: Qrels = new Map();
  for (let q = 0; q < nq; q++) {
    const item = Math.floor(rng() * n); // the query is a perturbed copy of one item, which is relevant
    for (let d = 0; d < dim; d++) queries[q * dim + d] = corpus[item * dim + d] + 0.15 * (rng() - 0.5);
    qrels.set(`q${q}`, new Set([`i${item}`]));
  }
  const itemIds = Array.from({ length: n }, (_, i) => `i${i}`);
  const queryIds = Array.from({ length: nq }, (_, q) => `q${q}`);
  const evaluate = (labels: ReturnType<typeof search>) => evaluateRetrieval(qrels, resultToRankings(labels, queryIds, itemIds));

  const exact = evaluate(exactSearch(corpus, n, queries, nq, dim, 100));
  const flat = evaluate(search(buildIndex(corpus, n, dim, { type: 'Flat' }), queries, nq, 100));
  assert.deepEqual(flat, exact);
  assert.ok(annGap(flat.recall, exact.recall).every((g) => g.gap === 0));

  const ivf = evaluate(search(buildIndex(corpus, n, dim, { type: 'IVF-PQ', nlist: 32, m: 4, nbits: 4, nprobe: 1 }), queries, nq, 100));
  const gap10 = annGap(ivf.recall, exact.recall).find((g) => g.k === 10)!;
  assert.ok(gap10.gap > 0.05, `IVF-PQ nprobe 1 recall@10 ${ivf.recall[10]} vs exact ${exact.recall[10]}`);
  close(gap10.gap, exact.recall[10] - ivf.recall[10], 'gap@10');
});
