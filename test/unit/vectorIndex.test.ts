import { loadFaiss } from '../../src/core/vectorIndex/faissModule';
loadFaiss(); // fails the file with "... run `bash scripts/setup-faiss.sh` ..." when faiss-node's addon is missing

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import seedrandom from 'seedrandom';
import {
  buildIndex,
  exactSearch,
  loadIndex,
  resultToRankings,
  saveIndex,
  search,
  setNprobe,
  sidecarPath,
  type SearchResult,
  type VectorIndex,
} from '../../src/core/vectorIndex';
import { readFaissHeader } from '../../src/core/vectorIndex/faissHeader';
import { evaluateRetrieval } from '../../src/core/eval/retrievalMetrics';
import { gaussian, normaliseRows } from '../helpers/syntheticVectors';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rlens-index-test-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function randomUnit(n: number, dim: number, seed: string): Float32Array {
  const rng = seedrandom(seed);
  const m = new Float32Array(n * dim).map(() => gaussian(rng));
  normaliseRows(m, dim);
  return m;
}

/**
 * Clustered unit vectors: n items around `clusters` random centres (spread `spread`), and nq queries,
 * each a noisy copy (noise `noise`) of a random item, which is its single relevant item.
 */
function clusteredSet(n: number, dim: number, clusters: number, spread: number, nq: number, noise: number, seed: string) {
  const rng = seedrandom(seed);
  const centres = randomUnit(clusters, dim, `${seed}-centres`);
  const corpus = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) {
    const c = i % clusters;
    for (let d = 0; d < dim; d++) corpus[i * dim + d] = centres[c * dim + d] + spread * gaussian(rng);
  }
  normaliseRows(corpus, dim);
  const queries = new Float32Array(nq * dim);
  const qrels = new Map<string, Set<string>>();
  for (let q = 0; q < nq; q++) {
    const item = Math.floor(rng() * n);
    for (let d = 0; d < dim; d++) queries[q * dim + d] = corpus[item * dim + d] + noise * gaussian(rng);
    qrels.set(`q${q}`, new Set([`i${item}`]));
  }
  normaliseRows(queries, dim);
  const itemIds = Array.from({ length: n }, (_, i) => `i${i}`);
  const queryIds = Array.from({ length: nq }, (_, q) => `q${q}`);
  return { corpus, queries, qrels, itemIds, queryIds };
}

function assertSameAsReference(got: SearchResult, want: SearchResult): void {
  assert.deepEqual(Array.from(got.labels), Array.from(want.labels));
  for (let i = 0; i < want.scores.length; i++) {
    if (want.labels[i] < 0) assert.equal(got.scores[i], -Infinity);
    else assert.ok(Math.abs(got.scores[i] - want.scores[i]) < 1e-5, `score ${i}: ${got.scores[i]} vs ${want.scores[i]}`);
  }
}

test('exactSearch (the reference) matches hand-computed inner products, order and padding', () => {
  // corpus rows: e0 = (1, 0), e1 = (0.6, 0.8), e2 = (0, 1); query (0.8, 0.6)
  // scores: e0 0.8, e1 0.48 + 0.48 = 0.96, e2 0.6 → ranking e1, e0, e2, then padding
  const corpus = new Float32Array([1, 0, 0.6, 0.8, 0, 1]);
  const r = exactSearch(corpus, 3, new Float32Array([0.8, 0.6]), 1, 2, 4);
  assert.deepEqual(Array.from(r.labels), [1, 0, 2, -1]);
  assert.ok(Math.abs(r.scores[0] - 0.96) < 1e-6 && Math.abs(r.scores[1] - 0.8) < 1e-6 && Math.abs(r.scores[2] - 0.6) < 1e-6);
  assert.equal(r.scores[3], -Infinity);
  // ties keep the lower index first: query (1, 1) scores e0 = 1, e2 = 1, e1 = 1.4
  const tie = exactSearch(corpus, 3, new Float32Array([1, 1]), 1, 2, 3);
  assert.deepEqual(Array.from(tie.labels), [1, 0, 2]);
});

test('Flat search equals brute force on random unit vectors (labels and scores), incl. k > ntotal', () => {
  const n = 3000,
    dim = 24,
    nq = 60,
    k = 10;
  const corpus = randomUnit(n, dim, 'flat-corpus');
  const queries = randomUnit(nq, dim, 'flat-queries');
  const index = buildIndex(corpus, n, dim, { type: 'Flat' });
  assert.equal(index.ntotal, n);
  assert.deepEqual(index.notes, []);
  assertSameAsReference(search(index, queries, nq, k), exactSearch(corpus, n, queries, nq, dim, k));
  // batching (7 queries per faiss call) does not change anything
  assertSameAsReference(search(index, queries, nq, k, 7), exactSearch(corpus, n, queries, nq, dim, k));

  // k larger than the index: faiss-node refuses it, the wrapper pads with -1 / -Infinity
  const small = buildIndex(corpus.subarray(0, 5 * dim), 5, dim, { type: 'Flat' });
  const r = search(small, queries.subarray(0, 3 * dim), 3, 8);
  assertSameAsReference(r, exactSearch(corpus.subarray(0, 5 * dim), 5, queries.subarray(0, 3 * dim), 3, dim, 8));
  assert.deepEqual(Array.from(r.labels.subarray(5, 8)), [-1, -1, -1]);
});

// One IVF-PQ index shared by the recall and persistence tests (training is the slow part).
const clustered = clusteredSet(4000, 32, 40, 0.5, 400, 0.15, 'ivf');
const ivfSpec = { type: 'IVF-PQ', nlist: 64, m: 8, nbits: 6, nprobe: 1 } as const;
let ivf: VectorIndex | undefined;
function ivfIndex(): VectorIndex {
  ivf ??= buildIndex(clustered.corpus, 4000, 32, ivfSpec);
  return ivf;
}
function recallAt10(result: SearchResult): number {
  return evaluateRetrieval(clustered.qrels, resultToRankings(result, clustered.queryIds, clustered.itemIds)).recall[10];
}

test('IVF-PQ: recall@10 rises strictly with nprobe and reaches >= 0.95 of exact at nprobe = nlist', (t) => {
  const { corpus, queries } = clustered;
  const exactRecall = recallAt10(exactSearch(corpus, 4000, queries, 400, 32, 10));
  assert.ok(exactRecall > 0.99, `exact recall@10 ${exactRecall}`); // the task is easy for exact search

  const index = ivfIndex();
  assert.equal(index.spec.type === 'IVF-PQ' && index.spec.nlist, 64);
  const recalls: number[] = [];
  // Near nlist recall saturates (what remains is PQ error), so the checked values are spread out.
  for (const nprobe of [1, 2, 4, 8, 64]) {
    assert.equal(setNprobe(index, nprobe), nprobe);
    assert.equal(index.spec.type === 'IVF-PQ' && index.spec.nprobe, nprobe);
    recalls.push(recallAt10(search(index, queries, 400, 10)));
  }
  t.diagnostic(`recall@10 exact ${exactRecall}; nprobe 1,2,4,8,64: ${recalls.join(', ')}`);
  for (let i = 1; i < recalls.length; i++) {
    assert.ok(recalls[i] > recalls[i - 1], `recall@10 should rise with nprobe: ${recalls.join(', ')}`);
  }
  assert.ok(recalls[0] < 0.8 * exactRecall, `nprobe 1 should clearly miss neighbours: ${recalls.join(', ')}`);
  assert.ok(recalls[recalls.length - 1] >= 0.95 * exactRecall, `nprobe = nlist: ${recalls.join(', ')} vs exact ${exactRecall}`);

  // nprobe above nlist is clamped to nlist
  assert.equal(setNprobe(index, 1000), 64);
});

test('IVF-PQ spec: nlist is clamped with a note, nprobe follows; invalid m / nbits give clear errors', () => {
  const n = 500,
    dim = 16;
  const corpus = randomUnit(n, dim, 'clamp');
  const logged: string[] = [];
  const index = buildIndex(corpus, n, dim, { type: 'IVF-PQ', nlist: 4096, m: 4, nbits: 3, nprobe: 64 }, { log: (m) => logged.push(m) });
  // floor(500 / 39) = 12
  assert.ok(logged.includes('nlist 4096 clamped to 12 for 500 vectors (faiss needs ~39 training points per list)'), logged.join('\n'));
  assert.ok(logged.includes('nprobe 64 clamped to nlist 12'), logged.join('\n'));
  assert.deepEqual(index.notes, logged);
  // trainSample: 39 per list = 468 of the 500 vectors
  assert.deepEqual(index.spec, { type: 'IVF-PQ', nlist: 12, m: 4, nbits: 3, nprobe: 12, trainSample: 468 });
  // the faiss index really has 12 lists and nprobe 12: check the serialised header
  const file = path.join(tmp, 'clamped.faiss');
  saveIndex(index, file);
  assert.deepEqual((({ nlist, nprobe }) => ({ nlist, nprobe }))(readFaissHeader(fs.readFileSync(file), file).ivf!), { nlist: 12, nprobe: 12 });
  // nprobe = nlist visits every list, so every query gets k results
  const r = search(index, corpus.subarray(0, 5 * dim), 5, 20);
  assert.ok(Array.from(r.labels).every((l) => l >= 0));

  assert.throws(() => buildIndex(corpus, n, dim, { type: 'IVF-PQ', nlist: 4, m: 5, nbits: 4, nprobe: 1 }), /PQ m=5 must divide the vector dimension 16/);
  assert.throws(
    () => buildIndex(corpus.subarray(0, 100 * dim), 100, dim, { type: 'IVF-PQ', nlist: 2, m: 4, nbits: 8, nprobe: 1 }),
    /nbits=8 .* needs at least 256 vectors, but there are only 100/,
  );
  assert.throws(() => buildIndex(corpus, n, dim, { type: 'IVF-PQ', nlist: 4, m: 4, nbits: 9, nprobe: 1 }), /nbits must be an integer in \[1, 8\]/);
  assert.throws(() => buildIndex(corpus, n, 15, { type: 'Flat' }), /expected 500 × 15 = 7500 floats, got 8000/);
  const withNaN = corpus.slice();
  withNaN[3 * dim + 2] = NaN;
  assert.throws(() => buildIndex(withNaN, n, dim, { type: 'Flat' }), /row 3 has a non-finite value \(NaN\) at component 2/);
});

test('save → load returns identical results; nprobe survives the round trip', () => {
  const { queries } = clustered;
  const flat = buildIndex(clustered.corpus, 4000, 32, { type: 'Flat' });
  const flatFile = path.join(tmp, 'flat.faiss');
  saveIndex(flat, flatFile);
  const flatLoaded = loadIndex(flatFile);
  assert.deepEqual(flatLoaded.spec, { type: 'Flat' });
  assert.equal(flatLoaded.ntotal, 4000);
  assert.deepEqual(search(flatLoaded, queries, 400, 10), search(flat, queries, 400, 10));

  const index = ivfIndex();
  setNprobe(index, 1);
  const atOne = search(index, queries, 400, 10);
  setNprobe(index, 8);
  const atEight = search(index, queries, 400, 10);
  assert.notDeepEqual(atEight.labels, atOne.labels);
  const file = path.join(tmp, 'ivf.faiss');
  saveIndex(index, file);
  const sidecar = JSON.parse(fs.readFileSync(sidecarPath(file), 'utf8'));
  assert.equal(sidecar.nprobe, 8);
  assert.equal(sidecar.n, 4000);
  assert.equal(sidecar.dim, 32);
  assert.equal(sidecar.faissNode, '0.5.1');

  const loaded = loadIndex(file);
  assert.deepEqual(loaded.spec, index.spec);
  assert.equal(loaded.spec.type === 'IVF-PQ' && loaded.spec.nprobe, 8);
  // the loaded faiss index itself searches with nprobe 8 (not faiss's default 1)
  assert.deepEqual(search(loaded, queries, 400, 10), atEight);
  setNprobe(loaded, 1);
  assert.deepEqual(search(loaded, queries, 400, 10), atOne);
});

test('missing, truncated or corrupt index files give clear errors naming the file', () => {
  const corpus = randomUnit(300, 8, 'errors');
  const index = buildIndex(corpus, 300, 8, { type: 'Flat' });
  const good = path.join(tmp, 'good.faiss');
  saveIndex(index, good);
  const bytes = fs.readFileSync(good);
  const sidecarText = fs.readFileSync(sidecarPath(good), 'utf8');
  /** Copies the saved index under a new name, with optional changes to its bytes / sidecar. */
  const variant = (name: string, data: Buffer, sidecar = sidecarText): string => {
    const file = path.join(tmp, name);
    fs.writeFileSync(file, data);
    fs.writeFileSync(sidecarPath(file), sidecar);
    return file;
  };
  const escaped = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

  const missing = path.join(tmp, 'nope.faiss');
  assert.throws(() => loadIndex(missing), new RegExp(`Index file not found: ${escaped(missing)}`));

  const truncated = variant('truncated.faiss', bytes.subarray(0, bytes.length >> 1));
  assert.throws(() => loadIndex(truncated), new RegExp(`Index file ${escaped(truncated)} is truncated: ${bytes.length >> 1} bytes, expected ${bytes.length}`));

  const flipped = Buffer.from(bytes);
  flipped[bytes.length - 100] ^= 0xff;
  const corrupt = variant('corrupt.faiss', flipped);
  assert.throws(() => loadIndex(corrupt), new RegExp(`Index file ${escaped(corrupt)} is corrupt`));

  const noSidecar = path.join(tmp, 'nosidecar.faiss');
  fs.writeFileSync(noSidecar, bytes);
  assert.throws(() => loadIndex(noSidecar), new RegExp(`Index sidecar not found: ${escaped(noSidecar)}\\.json`));

  const badJson = variant('badjson.faiss', bytes, '{ "format": ');
  assert.throws(() => loadIndex(badJson), new RegExp(`Index sidecar ${escaped(badJson)}\\.json is not valid JSON`));
  const badField = variant('badfield.faiss', bytes, JSON.stringify({ ...JSON.parse(sidecarText), dim: 'eight' }));
  assert.throws(() => loadIndex(badField), /is invalid: dim must be a positive integer/);

  // Bytes that are self-consistent (checksum recomputed) but not a Flat faiss index of that shape:
  // caught by the header checks, before faiss parses them.
  const withSha = (data: Buffer): string => JSON.stringify({ ...JSON.parse(sidecarText), sha256: crypto.createHash('sha256').update(data).digest('hex') });
  const wrongDim = Buffer.from(bytes);
  wrongDim.writeInt32LE(9, 4); // d
  const redimensioned = variant('wrongdim.faiss', wrongDim, withSha(wrongDim));
  assert.throws(() => loadIndex(redimensioned), new RegExp(`Index file ${escaped(redimensioned)} does not match .*: dim is 9 in the file, 8 in the sidecar`));
  const wrongType = Buffer.from(bytes);
  wrongType.write('IwPQ', 0, 'latin1'); // an IVF type code: the bytes after the header are not nlist/nprobe
  const relabelled = variant('relabelled.faiss', wrongType, withSha(wrongType));
  assert.throws(() => loadIndex(relabelled), new RegExp(`Index file ${escaped(relabelled)}: corrupt IVF header`));

  // saving into a folder that does not exist is a JS error, not a faiss abort
  const noDir = path.join(tmp, 'no-such-dir', 'x.faiss');
  assert.throws(() => saveIndex(index, noDir), new RegExp(`Cannot write index file ${escaped(noDir)}: folder .* is not a writable directory`));

  // the original still loads and works after all that
  assert.deepEqual(search(loadIndex(good), corpus.subarray(0, 16), 2, 3), search(index, corpus.subarray(0, 16), 2, 3));
});
