/**
 * Evaluation benchmark at 60k items × 128-d and 8k queries; each part runs in its own child process.
 *
 *  encode   featurize + encodeFeatures (the real model code; default model config V 2^18, E 128, H 256,
 *           D 128; untrained weights) on the wasm backend, for 60k synthetic item texts and 8k queries,
 *           next to the same loop with the result tensor (not its Float32Array) returned from tf.tidy,
 *           and the host embedding bag alone;
 *  index    on seeded synthetic unit vectors (clustered by default, `--vectors random` or
 *           `clustered,random`): Flat build + search (k 100), the same search by brute force in
 *           TypeScript (exactSearch, on the first --exact-queries queries: ~10-50 ms/query), IVF-PQ
 *           build with the schema defaults (evaluation.index), then recall@10/@100 against Flat for
 *           several nprobe values;
 *  factors  why IVF256,PQ16 on 20k × 128 trained slowly: one child process per setting (polysemous
 *           training, OPENBLAS_NUM_THREADS, OMP_WAIT_POLICY, training sample; `--factors full` adds
 *           OMP_NUM_THREADS=1 and the all-old-settings rows), each changing one factor from the current
 *           defaults. The thread variables are read by OpenBLAS/libgomp when faiss-node loads, so they
 *           can only be varied per process;
 *  lexical  the BM25 baseline (src/core/lexical) on the same 60k synthetic item texts and 8k queries: index
 *           build, its saved size, save + load (the reuse path), the search of all queries at the evaluation's
 *           depth (rankCutoff 100), and MiniSearch's build and search() (the test oracle) for comparison;
 *  failures the failures file at 60k items × 8k queries: clustered vectors with noisier queries (σ 0.35, so that
 *           many fail), texts that share two words with their planted item; exact (Flat) search, BM25, triage
 *           of every failing query (findFailures), and the size of the format-2 file (bytes per failing query;
 *           budget 2 KB) next to format 1 (one full JSON record per line);
 *  map      the embedding map: PCA and UMAP (umap-js, 15 neighbours) of 5k clustered 128-d points;
 *  million  (not in the default parts, ~10 min) the evaluation pipeline (loadEvalData + evaluateParams, exact
 *           "auto") on a synthetic 1M-item corpus file (`--million-items`, `--million-queries` planted queries
 *           of 3 words of their item): load, corpus encoding streamed in batches, IVF-PQ build (schema
 *           defaults, trained on its sample), search, failing queries; peak RSS (VmHWM; target ≤ 3 GB); the
 *           exact search is skipped (above exactMaxCorpus), so the ANN gap is measured afterwards on
 *           `--gap-queries` sampled queries with an exact search by Flat over 100k-row chunks. BM25 is off
 *           unless `--million-bm25`;
 *  nlist    (not in the default parts, ~5 min) IVF-PQ build time and recall at 60k for nlist 256 / 512 /
 *           1024 / 1538 (the clamped default) and training samples of 39 or 64 vectors per list, to
 *           choose a default that builds in ≤ 30 s.
 *
 * --omp-threads N sets OMP_NUM_THREADS for the encode / index / nlist children (default: unset, so
 * libgomp uses one thread per core; loadFaiss() still sets OPENBLAS_NUM_THREADS=1, OMP_WAIT_POLICY=PASSIVE).
 *
 *   npm run bench:eval [-- --parts encode,index,lexical,failures,factors,nlist --vectors clustered,random
 *                          --repeats 3 --heavy-repeats 1 --exact-queries 100 --poly-timeout 30
 *                          --factors full --omp-threads 1 --md out.md]
 *
 * Times are wall-clock medians: cheap steps run --repeats times (default 3), heavy ones (the 8k-query
 * Flat and TypeScript searches, IVF-PQ builds, each factor child)
 * --heavy-repeats times (default 1, so the default run stays within ~5 minutes on 2 shared cores).
 * "cpu" is the user+sys time of the whole process over the same span (all threads; busy-waiting shows
 * up there). The machine is shared: run the whole benchmark several times and compare medians; the
 * load average before → after each child process is printed with its table.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import { parseArgs } from 'util';
import seedrandom from 'seedrandom';
import { buildIndex, exactSearch, loadFaiss, resultToRankings, search, setNprobe } from '../src/core/vectorIndex';
import type { IndexSpec, SearchResult, VectorIndex } from '../src/core/vectorIndex';
import { defaultConfig } from '../src/core/config';
import { Bm25Index, TermStats } from '../src/core/lexical';
import { findFailures } from '../src/core/eval/failures';
import { pca2, umap2 } from '../src/core/embeddingMap';
import { decodeFailures, encodeFailures } from '../src/core/eval/failuresFile';
import { evaluateRetrieval } from '../src/core/eval/retrievalMetrics';
import { gaussian, normaliseRows } from '../test/helpers/syntheticVectors';
import { miniSearchBm25 } from '../test/reference/miniSearchBm25';
import { syntheticWordSource } from './support/syntheticText';

const N_ITEMS = 60_000;
const N_QUERIES = 8_000;
const DIM = 128;
const K = 100; // evaluation.rankCutoff default: the depth evaluate.ts searches
const NPROBES = [1, 4, 16, 64, 256];
const FACTOR_N = 20_000;
const SEED = 'eval-bench';

interface Opts {
  /** Runs of the cheap steps. */
  repeats: number;
  /** Runs of the heavy steps (8k-query Flat / TypeScript search, IVF-PQ builds, factor children). */
  heavy: number;
  exactQueries: number;
  polyTimeoutMs: number;
  factorsFull: boolean;
  /** OMP_NUM_THREADS for the encode / index / nlist children (unset: libgomp's default, one per core). */
  ompThreads?: string;
}

// ---------------------------------------------------------------------------------------------- util

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Wall ms and process cpu ms (user + sys, all threads) of fn. */
function measure<T>(fn: () => T): { value: T; ms: number; cpuMs: number } {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const value = fn();
  const ms = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { value, ms, cpuMs: (c.user + c.system) / 1000 };
}

interface Timing {
  ms: number[];
  cpuMs: number[];
}
function timing(): Timing {
  return { ms: [], cpuMs: [] };
}
function record<T>(t: Timing, fn: () => T): T {
  const r = measure(fn);
  t.ms.push(r.ms);
  t.cpuMs.push(r.cpuMs);
  return r.value;
}

const s1 = (ms: number): string => (ms / 1000).toFixed(ms < 10_000 ? 2 : 1);
const fmtT = (t: Timing): string => `${s1(median(t.ms))} s`;
const fmtRuns = (t: Timing): string => (t.ms.length > 1 ? t.ms.map((x) => s1(x)).join(' / ') : '');
const fmtCpu = (t: Timing): string => `${s1(median(t.cpuMs))} s`;

function printTable(title: string, header: string[], rows: string[][], md: string[]): void {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (r: string[]) => r.map((x, c) => (c === 0 ? x.padEnd(widths[c]) : x.padStart(widths[c]))).join('  ');
  console.log(`\n${title}`);
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(line(r));
  md.push(`\n#### ${title}\n`, `| ${header.join(' | ')} |`, `|${header.map((_, c) => (c === 0 ? ' --- ' : ' ---: ')).join('|')}|`);
  for (const r of rows) md.push(`| ${r.join(' | ')} |`);
}

// ------------------------------------------------------------------------------------ synthetic data

type VectorKind = 'clustered' | 'random';

/** Cluster structure of the clustered vectors (see vectorSet). */
const CLUSTERS = { topics: 100, subtopics: 10, topicSpread: 0.05, subtopicSpread: 0.06, itemSpread: 0.06, queryNoise: 0.15 };

/**
 * Seeded unit vectors and planted queries. clustered: a two-level mixture — 100 random topic centres,
 * 10 sub-topic centres around each (per-component spread 0.05), items around a sub-topic chosen with
 * Zipf-like weights (spread 0.06); random: i.i.d. Gaussian directions. Either way each query is a
 * noisy copy (noise 0.15 per component, ≈ 1.7 in norm, before normalisation) of a random item, its
 * single relevant item, so recall of the planted item can be reported next to neighbour recall.
 */
function vectorSet(kind: VectorKind, n: number, nq: number, dim: number, seed: string) {
  const rng = seedrandom(`${seed}-${kind}`);
  const corpus = new Float32Array(n * dim);
  if (kind === 'random') {
    for (let i = 0; i < corpus.length; i++) corpus[i] = gaussian(rng);
  } else {
    const { topics, subtopics, topicSpread, itemSpread } = CLUSTERS;
    const topic = new Float32Array(topics * dim).map(() => gaussian(rng));
    normaliseRows(topic, dim);
    const nSub = topics * subtopics;
    const sub = new Float32Array(nSub * dim);
    for (let s = 0; s < nSub; s++) {
      const t = Math.floor(s / subtopics);
      for (let d = 0; d < dim; d++) sub[s * dim + d] = topic[t * dim + d] + topicSpread * gaussian(rng);
    }
    normaliseRows(sub, dim);
    // Zipf-like cluster sizes (weight 1/(rank+10)): the largest clusters are ~10× the smallest.
    const cum = new Float64Array(nSub);
    let acc = 0;
    for (let s = 0; s < nSub; s++) cum[s] = acc += 1 / (s + 10);
    for (let i = 0; i < n; i++) {
      const r = rng() * acc;
      let lo = 0,
        hi = nSub - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (cum[mid] < r) lo = mid + 1;
        else hi = mid;
      }
      for (let d = 0; d < dim; d++) corpus[i * dim + d] = sub[lo * dim + d] + itemSpread * gaussian(rng);
    }
  }
  normaliseRows(corpus, dim);
  const queries = new Float32Array(nq * dim);
  const planted = new Int32Array(nq);
  for (let q = 0; q < nq; q++) {
    const item = Math.floor(rng() * n);
    planted[q] = item;
    for (let d = 0; d < dim; d++) queries[q * dim + d] = corpus[item * dim + d] + CLUSTERS.queryNoise * gaussian(rng);
  }
  normaliseRows(queries, dim);
  return { corpus, queries, planted };
}

/** Seeded synthetic texts: words from a 20k-word pseudo-vocabulary with Zipf-like frequencies. */
function syntheticTexts(nItems: number, nQueries: number, seed: string): { items: string[]; queries: string[] } {
  const rng = seedrandom(`${seed}-texts`);
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  const vocab = Array.from({ length: 20_000 }, () => {
    const len = 3 + Math.floor(rng() * 7);
    let w = '';
    for (let i = 0; i < len; i++) w += letters[Math.floor(rng() * 26)];
    return w;
  });
  const word = () => vocab[Math.floor(vocab.length * rng() ** 2.5)]; // skewed towards the first words
  const text = (min: number, max: number) => Array.from({ length: min + Math.floor(rng() * (max - min + 1)) }, word).join(' ');
  return {
    items: Array.from({ length: nItems }, () => text(15, 40)), // titles + short descriptions
    queries: Array.from({ length: nQueries }, () => text(2, 6)),
  };
}

// ------------------------------------------------------------------------------------ child: lexical

async function childLexical(o: Opts): Promise<unknown> {
  const { items, queries } = syntheticTexts(N_ITEMS, N_QUERIES, SEED);
  const build = timing();
  let index: Bm25Index | null = null;
  for (let r = 0; r < o.heavy; r++) index = record(build, () => Bm25Index.build(items));
  const save = timing();
  const load = timing();
  let saved: Buffer = Buffer.alloc(0);
  for (let r = 0; r < o.repeats; r++) {
    saved = record(save, () => index!.toBuffer());
    record(load, () => Bm25Index.fromBuffer(saved));
  }
  const searchT = timing();
  let result: SearchResult | null = null;
  for (let r = 0; r < o.heavy; r++) result = record(searchT, () => index!.search(queries, K));
  let matched = 0;
  for (let q = 0; q < N_QUERIES; q++) if (result!.labels[q * K] >= 0) matched++;
  const rssGB = process.memoryUsage().rss / 2 ** 30;
  // MiniSearch (the reference of test/unit/lexical.test.ts, the BM25 of 0.2–0.4): its build, and its search() on the
  // first 500 queries (the same scores).
  const libBuild = timing();
  const library = record(libBuild, () => miniSearchBm25(items));
  const libN = 500;
  const lib = timing();
  record(lib, () => queries.slice(0, libN).forEach((q) => library(q, K)));
  return { build, save, load, search: searchT, libBuild, lib, libN, savedBytes: saved.length, matched, rssGB };
}

// ----------------------------------------------------------------------------------- child: failures

async function childFailures(): Promise<unknown> {
  const { corpus, planted } = vectorSet('clustered', N_ITEMS, N_QUERIES, DIM, SEED);
  const rng = seedrandom(`${SEED}-failures`);
  const queryEmb = new Float32Array(N_QUERIES * DIM);
  for (let q = 0; q < N_QUERIES; q++) for (let d = 0; d < DIM; d++) queryEmb[q * DIM + d] = corpus[planted[q] * DIM + d] + 0.35 * gaussian(rng);
  normaliseRows(queryEmb, DIM);
  const texts = syntheticTexts(N_ITEMS, N_QUERIES, SEED);
  const corpusFile = '/data/bench/corpus.jsonl';
  const items = texts.items.map((text, i) => ({ id: `p${String(i).padStart(6, '0')}`, text, source: { file: corpusFile, line: i + 1 } }));
  const queries = texts.queries.map((extra, q) => {
    const own = items[planted[q]].text.split(' ');
    return {
      id: `q${q}`,
      text: `${own[Math.floor(rng() * own.length)]} ${own[Math.floor(rng() * own.length)]} ${extra.split(' ').slice(0, 2).join(' ')}`,
      source: { file: '/data/bench/test.jsonl', line: q + 1 },
    };
  });
  const qrels = new Map(queries.map((qq, q) => [qq.id, new Set([items[planted[q]].id])]));
  const exact = search(buildIndex(corpus, N_ITEMS, DIM, { type: 'Flat' }), queryEmb, N_QUERIES, K);
  const bm25 = Bm25Index.build(texts.items).search(
    queries.map((q) => q.text),
    K,
  );
  const defaults = defaultConfig({ train: '-' });
  const cfg = defaults.evaluation;
  const model = defaults.model;
  const triageT = measure(() =>
    findFailures({
      step: 1,
      queries,
      qrels,
      corpus: items,
      queryEmb,
      corpusEmb: corpus,
      dim: DIM,
      result: exact,
      k: 10,
      search: 'exact',
      exactScores: true,
      thresholds: { nearDuplicate: cfg.nearDuplicateThreshold, collapsedSpread: cfg.collapsedSpread },
      bm25,
      terms: new TermStats(texts.items),
      limits: { maxQueryTokens: model.maxQueryTokens, maxItemTokens: model.maxItemTokens, charTrigrams: model.charTrigrams },
    }),
  );
  const { failures, byLabel } = triageT.value;
  const encodeT = measure(() => encodeFailures(failures));
  const v2 = Buffer.byteLength(encodeT.value);
  const v1 = failures.reduce((n, f) => n + Buffer.byteLength(JSON.stringify(f)) + 1, 0);
  const decodeT = measure(() => decodeFailures(encodeT.value));
  return {
    failures: failures.length,
    byLabel,
    v2,
    v1,
    triageMs: triageT.ms,
    encodeMs: encodeT.ms,
    decodeMs: decodeT.ms,
    decoded: decodeT.value.records.length,
  };
}

// ---------------------------------------------------------------------------------------- child: map

async function childMap(): Promise<unknown> {
  const n = 5000;
  const { corpus } = vectorSet('clustered', n, 1, DIM, SEED);
  const pca = measure(() => pca2(corpus, n, DIM));
  const umap = measure(() => umap2(corpus, n, DIM));
  return { n, pcaMs: pca.ms, pcaCpuMs: pca.cpuMs, umapMs: umap.ms, umapCpuMs: umap.cpuMs, rssGB: process.memoryUsage().rss / 2 ** 30 };
}

// ------------------------------------------------------------------------------------- child: encode

async function childEncode(o: Opts): Promise<unknown> {
  const tf = await import('@tensorflow/tfjs');
  const { initBackend } = await import('../src/core/backend');
  const { featurize } = await import('../src/core/model/featurize');
  const { initTwoTower } = await import('../src/core/model/params');
  const { encodeFeatures } = await import('../src/core/model/encode');
  const { bagForward } = await import('../src/core/model/embeddingBag');
  const { denseTensors, towerForward } = await import('../src/core/model/towerForward');

  const backend = await initBackend('wasm');
  const cfg = defaultConfig({ train: '-' });
  const m = cfg.model;
  const { items, queries } = syntheticTexts(N_ITEMS, N_QUERIES, SEED);
  const iOpts = { buckets: m.vocabBuckets, maxTokens: m.maxItemTokens, charTrigrams: m.charTrigrams };
  const qOpts = { buckets: m.vocabBuckets, maxTokens: m.maxQueryTokens, charTrigrams: m.charTrigrams };

  const featItems = timing(),
    featQueries = timing(),
    init = timing(),
    encItems = timing(),
    encQueries = timing();
  let itemFeats: Int32Array[] = [],
    queryFeats: Int32Array[] = [];
  for (let r = 0; r < o.repeats; r++) {
    itemFeats = record(featItems, () => items.map((t) => featurize(t, iOpts)));
    queryFeats = record(featQueries, () => queries.map((t) => featurize(t, qOpts)));
  }
  const params = record(init, () => initTwoTower(m, cfg.training.seed));
  encodeFeatures(params, 'item', itemFeats.slice(0, 2048)); // warm-up (wasm kernels, first allocations)
  const d = params.dims;
  // encodeFeatures as it is, alternating with (a) the same loop with the result *tensor* returned from
  // tf.tidy and read after it — encode.ts returns dataSync()'s Float32Array from inside tidy, and tidy
  // then walks that array element by element looking for tensors — and (b) the host embedding bag alone.
  const tensorOut = timing(),
    bagOnly = timing();
  let itemEmb: Float32Array;
  let maxDiff = 0;
  for (let r = 0; r < o.repeats; r++) {
    itemEmb = record(encItems, () => encodeFeatures(params, 'item', itemFeats));
    const alt = record(tensorOut, () => {
      const w = denseTensors(params.item.dense, d);
      const out = new Float32Array(N_ITEMS * d.out);
      for (let start = 0; start < N_ITEMS; start += 1024) {
        const part = itemFeats.slice(start, start + 1024);
        const b = bagForward(params.item.table, d.embed, part);
        const y = tf.tidy(() => towerForward(tf.tensor2d(b, [part.length, d.embed]), w));
        out.set(y.dataSync() as Float32Array, start * d.out);
        y.dispose();
      }
      Object.values(w).forEach((t) => t.dispose());
      return out;
    });
    for (let i = 0; i < alt.length; i++) maxDiff = Math.max(maxDiff, Math.abs(alt[i] - itemEmb[i]));
    record(bagOnly, () => {
      for (let start = 0; start < N_ITEMS; start += 1024) bagForward(params.item.table, d.embed, itemFeats.slice(start, start + 1024));
    });
  }
  for (let r = 0; r < o.repeats; r++) record(encQueries, () => encodeFeatures(params, 'query', queryFeats));

  const mean = (fs: Int32Array[]) => fs.reduce((a, f) => a + f.length, 0) / fs.length;
  return {
    backend: backend.name,
    simd: tf.env().getBool('WASM_HAS_SIMD_SUPPORT'),
    multithread: tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT'),
    dims: params.dims,
    itemFeatures: mean(itemFeats),
    queryFeatures: mean(queryFeats),
    featItems,
    featQueries,
    init,
    encItems,
    encQueries,
    tensorOut,
    bagOnly,
    maxDiff,
    rssGB: process.memoryUsage().rss / 2 ** 30,
    numTensors: tf.memory().numTensors,
  };
}

// -------------------------------------------------------------------------------------- child: index

interface Planted {
  queryIds: string[];
  itemIds: string[];
  qrels: Map<string, Set<string>>;
}

function plantedQrels(planted: Int32Array, n: number): Planted {
  const itemIds = Array.from({ length: n }, (_, i) => `i${i}`);
  const queryIds = Array.from(planted, (_, q) => `q${q}`);
  return { itemIds, queryIds, qrels: new Map(queryIds.map((id, q) => [id, new Set([`i${planted[q]}`])])) };
}

/** recall@10 / @100 of each query's planted item, by the project's metric code. */
function plantedRecall(r: SearchResult, p: Planted): { r10: number; r100: number } {
  const rec = evaluateRetrieval(p.qrels, resultToRankings(r, p.queryIds, p.itemIds)).recall;
  return { r10: rec[10], r100: rec[100] };
}

/** Share of the exact top-k labels that the approximate top-k also returns (averaged over queries). */
function neighbourRecall(approx: SearchResult, exact: SearchResult, k: number): number {
  let hit = 0;
  for (let q = 0; q < exact.nq; q++) {
    const want = new Set<number>();
    for (let j = 0; j < k; j++) want.add(exact.labels[q * exact.k + j]);
    for (let j = 0; j < k; j++) if (want.has(approx.labels[q * approx.k + j])) hit++;
  }
  return hit / (exact.nq * k);
}

/** IVF-PQ spec from the schema defaults, mapped as src/core/eval/evaluate.ts does. */
function defaultIvfSpec(): IndexSpec {
  const ev = defaultConfig({ train: '-' }).evaluation.index;
  return { type: 'IVF-PQ', nlist: ev.nlist, m: ev.m, nbits: ev.nbits, nprobe: ev.nprobe, ...(ev.trainSample ? { trainSample: ev.trainSample } : {}) };
}

/** buildIndex `runs` times, with the train / add split taken from its progress callbacks. */
function timedBuild(corpus: Float32Array, n: number, spec: IndexSpec, runs: number) {
  const build = timing(),
    train = timing(),
    add = timing();
  let index: VectorIndex | undefined;
  for (let r = 0; r < runs; r++) {
    let t0 = 0,
      t1 = 0,
      t2 = 0;
    index = record(build, () =>
      buildIndex(corpus, n, DIM, spec, {
        onProgress: (p) => {
          if (p.phase === 'train' && p.done === 0) t0 = performance.now();
          if (p.phase === 'train' && p.done === 1) t1 = performance.now();
          if (p.phase === 'add' && p.done === p.total) t2 = performance.now();
        },
      }),
    );
    train.ms.push(t1 - t0);
    add.ms.push(t2 - t1);
  }
  const eff = index!.spec;
  return { index: index!, effective: eff.type === 'IVF-PQ' ? eff : undefined, notes: index!.notes, build, train, add };
}

interface SweepRow {
  nprobe: number;
  setMs: number;
  search: Timing;
  nr10: number;
  nr100: number;
  r10: number;
  r100: number;
}

function nprobeSweep(index: VectorIndex, nprobes: number[], queries: Float32Array, exact: SearchResult, p: Planted, repeats: number): SweepRow[] {
  const nlist = index.spec.type === 'IVF-PQ' ? index.spec.nlist : 0;
  const rows: SweepRow[] = [];
  for (const np of [...new Set(nprobes)].filter((x) => x <= nlist).sort((a, b) => a - b)) {
    const set = measure(() => setNprobe(index, np));
    const t = timing();
    let res = search(index, queries, exact.nq, K);
    for (let r = 0; r < repeats; r++) res = record(t, () => search(index, queries, exact.nq, K));
    rows.push({
      nprobe: set.value,
      setMs: set.ms,
      search: t,
      nr10: neighbourRecall(res, exact, 10),
      nr100: neighbourRecall(res, exact, 100),
      ...plantedRecall(res, p),
    });
  }
  return rows;
}

async function childIndex(kind: VectorKind, o: Opts): Promise<unknown> {
  loadFaiss();
  const n = N_ITEMS,
    nq = N_QUERIES,
    dim = DIM;
  const gen = measure(() => vectorSet(kind, n, nq, dim, SEED));
  const { corpus, queries, planted } = gen.value;
  const p = plantedQrels(planted, n);

  // Flat (IndexFlatIP): exact, faiss + OpenBLAS.
  const flatBuild = timing(),
    flatSearch = timing();
  let flat = buildIndex(corpus, n, dim, { type: 'Flat' });
  for (let r = 0; r < o.repeats; r++) flat = record(flatBuild, () => buildIndex(corpus, n, dim, { type: 'Flat' }));
  let exact: SearchResult | undefined;
  for (let r = 0; r < o.heavy; r++) exact = record(flatSearch, () => search(flat, queries, nq, K));

  // The same search by brute force in TypeScript, on the first exactQueries queries.
  const eq = Math.min(o.exactQueries, nq);
  const ts = timing();
  exactSearch(corpus, n, queries.subarray(0, dim), 1, dim, K); // warm-up (JIT)
  let ref: SearchResult | undefined;
  for (let r = 0; r < o.heavy; r++) ref = record(ts, () => exactSearch(corpus, n, queries.subarray(0, eq * dim), eq, dim, K));
  let sameLabels = 0;
  for (let i = 0; i < eq * K; i++) if (ref!.labels[i] === exact!.labels[i]) sameLabels++;

  // IVF-PQ with the schema defaults (as evaluate.ts builds it), then recall against Flat per nprobe.
  const spec = defaultIvfSpec();
  const ivf = timedBuild(corpus, n, spec, o.heavy);
  const sweep = nprobeSweep(ivf.index, [...NPROBES, ivf.effective!.nprobe], queries, exact!, p, o.repeats);

  return {
    kind,
    n,
    nq,
    dim,
    k: K,
    genMs: gen.ms,
    flatBuild,
    flatSearch,
    flatPlanted: plantedRecall(exact!, p),
    exactTs: ts,
    exactQueries: eq,
    sameLabelShare: sameLabels / (eq * K),
    ivf: { requested: spec, effective: ivf.effective, notes: ivf.notes, build: ivf.build, train: ivf.train, add: ivf.add },
    sweep,
  };
}

// -------------------------------------------------------------------------------------- child: nlist

/** IVF-PQ at 60k clustered with smaller nlist (and so smaller training samples) than the clamped default. */
async function childNlist(o: Opts): Promise<unknown> {
  loadFaiss();
  const n = N_ITEMS,
    nq = N_QUERIES;
  const { corpus, queries, planted } = vectorSet('clustered', n, nq, DIM, SEED);
  const p = plantedQrels(planted, n);
  const exact = search(buildIndex(corpus, n, DIM, { type: 'Flat' }), queries, nq, K);
  const def = defaultIvfSpec() as Extract<IndexSpec, { type: 'IVF-PQ' }>;
  const cases: { label: string; spec: IndexSpec }[] = [
    { label: 'nlist 256 (64/list → 16384)', spec: { ...def, nlist: 256 } },
    { label: 'nlist 512, trainSample 19968 (39/list)', spec: { ...def, nlist: 512, trainSample: 39 * 512 } },
    { label: 'nlist 512 (64/list → 32768)', spec: { ...def, nlist: 512 } },
    { label: 'nlist 1024, trainSample 39936 (39/list)', spec: { ...def, nlist: 1024, trainSample: 39 * 1024 } },
    { label: `schema default (nlist ${def.nlist} → n/39)`, spec: def },
  ];
  const rows = [];
  for (const c of cases) {
    const b = timedBuild(corpus, n, c.spec, o.heavy);
    rows.push({
      label: c.label,
      effective: b.effective,
      build: b.build,
      train: b.train,
      add: b.add,
      sweep: nprobeSweep(b.index, [16, 64], queries, exact, p, 1),
    });
  }
  return { flatPlanted: plantedRecall(exact, p), rows };
}

// ------------------------------------------------------------------------------------- child: factor

/**
 * Builds faiss `factory` (inner product) on the 20k × 128 clustered set, trained on `sample` seeded rows.
 * Loads faiss-node directly, before anything else does, so the thread variables are exactly the ones
 * the parent passed (loadFaiss() would fill in OPENBLAS_NUM_THREADS=1 / OMP_WAIT_POLICY=PASSIVE).
 */
async function childFactor(factory: string, sample: number): Promise<unknown> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const faiss = require('faiss-node') as typeof import('faiss-node');
  const { sampleRowIndices, gatherRows } = await import('../src/core/vectorIndex/sampleRows');
  const { corpus } = vectorSet('clustered', FACTOR_N, 0, DIM, SEED);
  const rows = sampleRowIndices(FACTOR_N, sample, 'retrieval-lens-ivf');
  const trainData = Array.from(gatherRows(corpus, DIM, rows));
  const index = faiss.Index.fromFactory(DIM, factory, faiss.MetricType.METRIC_INNER_PRODUCT);
  const train = measure(() => index.train(trainData));
  const add = measure(() => index.add(Array.from(corpus)));
  return { factory, sample: rows.length, trainMs: train.ms, trainCpuMs: train.cpuMs, addMs: add.ms, addCpuMs: add.cpuMs, ntotal: index.ntotal() };
}

// -------------------------------------------------------------------------------------------- parent

interface ChildResult<T> {
  ok: boolean;
  value?: T;
  wallMs: number;
  error?: string;
  timedOut?: boolean;
  load: [number, number];
}

// ------------------------------------------------------------------------------------ child: million

/** RSS now and the process' peak RSS so far (VmHWM), in bytes. */
function rssNow(): { rss: number; peak: number } {
  const status = fs.readFileSync('/proc/self/status', 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

/**
 * Writes a synthetic corpus of n items (`{"id","text"}` JSONL, the syntheticTexts vocabulary) and nq test
 * queries, each planted on one item: 3 of its words (`{"query","query_id","positive":{"id","text"}}`).
 * Streams to disk in chunks: the parent never holds the corpus.
 */
function writeMillionData(dir: string, n: number, nq: number): { corpus: string; test: string; bytes: number } {
  const rng = seedrandom(`${SEED}-million`);
  const word = syntheticWordSource(rng);
  const planted = new Map<number, number[]>(); // item → queries planted on it
  for (let q = 0; q < nq; q++) {
    const item = Math.floor(rng() * n);
    planted.set(item, [...(planted.get(item) ?? []), q]);
  }
  const corpus = `${dir}/corpus.jsonl`;
  const test = `${dir}/test.jsonl`;
  const cfd = fs.openSync(corpus, 'w');
  const queries: string[] = new Array(nq);
  let chunk: string[] = [];
  for (let i = 0; i < n; i++) {
    const words = Array.from({ length: 15 + Math.floor(rng() * 26) }, word);
    const text = words.join(' ');
    chunk.push(JSON.stringify({ id: `d${i}`, text }));
    for (const q of planted.get(i) ?? []) {
      const pick = Array.from({ length: 3 }, () => words[Math.floor(rng() * words.length)]).join(' ');
      queries[q] = JSON.stringify({ query: pick, query_id: `q${q}`, positive: { id: `d${i}`, text } });
    }
    if (chunk.length === 10_000) {
      fs.writeSync(cfd, chunk.join('\n') + '\n');
      chunk = [];
    }
  }
  if (chunk.length > 0) fs.writeSync(cfd, chunk.join('\n') + '\n');
  fs.closeSync(cfd);
  fs.writeFileSync(test, queries.join('\n') + '\n');
  return { corpus, test, bytes: fs.statSync(corpus).size };
}

/** Exact top-k of `queries` over the rows of `corpus`, by faiss Flat over chunks of rows (bounded memory). */
function chunkedExact(corpus: Float32Array, n: number, queries: Float32Array, nq: number, dim: number, k: number, chunk = 100_000): SearchResult {
  const labels = new Int32Array(nq * k).fill(-1);
  const scores = new Float32Array(nq * k).fill(-Infinity);
  for (let from = 0; from < n; from += chunk) {
    const to = Math.min(n, from + chunk);
    const flat = buildIndex(corpus.subarray(from * dim, to * dim), to - from, dim, { type: 'Flat' });
    const r = search(flat, queries, nq, k);
    for (let q = 0; q < nq; q++) {
      const merged: [number, number][] = [];
      for (let j = 0; j < k; j++) {
        if (labels[q * k + j] >= 0) merged.push([scores[q * k + j], labels[q * k + j]]);
        if (r.labels[q * k + j] >= 0) merged.push([r.scores[q * k + j], r.labels[q * k + j] + from]);
      }
      merged.sort((a, b) => b[0] - a[0] || a[1] - b[1]);
      for (let j = 0; j < k; j++) {
        labels[q * k + j] = merged[j]?.[1] ?? -1;
        scores[q * k + j] = merged[j]?.[0] ?? -Infinity;
      }
    }
  }
  return { nq, k, labels, scores };
}

interface MillionOpts extends Opts {
  dir: string;
  n: number;
  gapQueries: number;
  bm25: boolean;
}

async function childMillion(o: MillionOpts): Promise<unknown> {
  const { initBackend } = await import('../src/core/backend');
  const { parseConfigText } = await import('../src/core/config');
  const { initTwoTower } = await import('../src/core/model/params');
  const { loadEvalData } = await import('../src/core/eval/evalData');
  const { evaluateParams } = await import('../src/core/eval/evaluate');
  const { towerEncoder } = await import('../src/core/eval/encoders');
  const { encodeFeatures } = await import('../src/core/model/encode');
  const { featurize, featurizeOptions } = await import('../src/core/model/featurize');
  await initBackend('wasm');
  const rss: Record<string, { rss: number; peak: number }> = { start: rssNow() };
  const configText = JSON.stringify({
    data: { train: `${o.dir}/test.jsonl`, test: `${o.dir}/test.jsonl`, corpus: `${o.dir}/corpus.jsonl` },
    // Untrained: one shared tower, so that the words a query shares with its item show in the embeddings.
    model: { sharedTowers: true },
    evaluation: { lexicalBaseline: o.bm25 },
  });
  const loaded = parseConfigText(configText, `${o.dir}/million.rlens.json`);
  const cfg = loaded.config;
  const params = initTwoTower(cfg.model, 1);
  rss.params = rssNow();
  const tLoad = performance.now();
  const data = await loadEvalData(loaded);
  const loadMs = performance.now() - tLoad;
  rss.loaded = rssNow();
  const phases = new Map<string, number>();
  const marks: Record<string, number> = {};
  const logs: string[] = [];
  const t0 = performance.now();
  const result = await evaluateParams({
    encoder: towerEncoder(params, cfg.model),
    evaluation: cfg.evaluation,
    data,
    step: 0,
    checkpoint: 'bench',
    subset: false,
    log: (m) => logs.push(m),
    onProgress: (phase, done, total) => {
      const now = performance.now() - t0;
      if (!phases.has(phase)) {
        phases.set(phase, now);
        rss[`before ${phase}`] = rssNow();
      }
      if (done === total) marks[phase] = now;
    },
  });
  const evalMs = performance.now() - t0;
  rss.evaluated = rssNow();
  // evaluateRun then saves the BM25 index beside the Faiss index (bm25Cache.ts): the same here, measured.
  let bm25Save: { ms: number; bytes: number } | null = null;
  if (result.bm25) {
    const { saveBm25Cache, BM25_FILE } = await import('../src/core/lexical');
    const ts = performance.now();
    const indexDir = saveBm25Cache(`${o.dir}/index`, result.bm25, 'bench', data.corpus.count);
    bm25Save = { ms: performance.now() - ts, bytes: fs.statSync(`${indexDir}/${BM25_FILE}`).size };
    rss.bm25Saved = rssNow();
  }
  const e = result.entry;
  // The ANN gap on a sample of queries: exact top-100 by Flat over 100k-row chunks.
  const sampleIdx = Array.from({ length: data.queries.length }, (_, i) => i);
  const rng = seedrandom(`${SEED}-gap`);
  for (let i = sampleIdx.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [sampleIdx[i], sampleIdx[j]] = [sampleIdx[j], sampleIdx[i]];
  }
  const sample = sampleIdx.slice(0, Math.min(o.gapQueries, sampleIdx.length)).map((i) => data.queries[i]);
  const dim = params.dims.out;
  const qEmb = encodeFeatures(
    params,
    'query',
    sample.map((q) => featurize(q.text, featurizeOptions(cfg.model, 'query'))),
  );
  const tExact = performance.now();
  const exact = chunkedExact(result.corpusEmb, data.corpus.count, qEmb, sample.length, dim, K);
  const exactSampleMs = performance.now() - tExact;
  const ann = search(result.index, qEmb, sample.length, K);
  const qids = sample.map((q) => q.id);
  const qrels = new Map(sample.map((q) => [q.id, data.qrels.get(q.id)!]));
  const neighbours10 = neighbourRecall(ann, exact, 10);
  const exactM = evaluateRetrieval(qrels, resultToRankings(exact, qids, data.corpus.ids));
  const annM = evaluateRetrieval(qrels, resultToRankings(ann, qids, data.corpus.ids));
  return {
    n: data.corpus.count,
    nq: data.queries.length,
    corpusBytes: fs.statSync(`${o.dir}/corpus.jsonl`).size,
    loadMs,
    evalMs,
    encodeMs: e.encodeMs,
    phases: Object.fromEntries(phases),
    marks,
    buildMs: e.index.buildMs,
    searchMs: e.index.searchMs,
    spec: e.index.spec,
    exactSkipped: e.exactSkipped ?? null,
    annRecall10: e.ann?.['recall@10'] ?? null,
    annRecall100: e.ann?.['recall@100'] ?? null,
    failures: e.failures.count,
    lexical: e.lexical ?? null,
    bm25Recall10: e.bm25?.['recall@10'] ?? null,
    bm25Save,
    rss,
    gap: {
      queries: sample.length,
      exactMs: exactSampleMs,
      exact10: exactM.recall[10],
      ann10: annM.recall[10],
      exact100: exactM.recall[100],
      ann100: annM.recall[100],
      neighbours10,
    },
    logs,
  };
}

const THREAD_VARS = ['OPENBLAS_NUM_THREADS', 'OMP_WAIT_POLICY', 'OMP_NUM_THREADS', 'GOMP_SPINCOUNT', 'OMP_PROC_BIND'];

/** Runs this file as a child (`--child ...`) with the thread variables cleared, then `env` applied. */
/** A child's JSON result: each report reads the fields its child wrote (the child and its report sit side by side). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type ChildJson = any;

function runChild<T>(args: string[], env: Record<string, string | undefined>, timeoutMs: number): ChildResult<T> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env };
  for (const v of THREAD_VARS) delete childEnv[v];
  for (const [k, v] of Object.entries(env)) if (v !== undefined) childEnv[k] = v;
  const load0 = os.loadavg()[0];
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ['--import', 'tsx', __filename, ...args], {
    encoding: 'utf8',
    env: childEnv,
    timeout: timeoutMs > 0 ? timeoutMs : undefined,
    killSignal: 'SIGKILL',
    maxBuffer: 1 << 26,
  });
  const wallMs = performance.now() - t0;
  const load: [number, number] = [load0, os.loadavg()[0]];
  const timedOut = (r.error as NodeJS.ErrnoException | undefined)?.code === 'ETIMEDOUT';
  const last = (r.stdout ?? '').trim().split('\n').pop() ?? '';
  if (r.status === 0) {
    try {
      return { ok: true, value: JSON.parse(last) as T, wallMs, load };
    } catch {
      /* reported below */
    }
  }
  const err = timedOut
    ? `stopped after ${s1(timeoutMs)} s`
    : (r.stderr || last || String(r.error ?? `exit ${r.status}`))
        .trim()
        .split('\n')
        .filter((l) => !/^\s+at /.test(l))
        .slice(-3)
        .join(' | ');
  return { ok: false, wallMs, error: err, timedOut, load };
}

const loadStr = (l: [number, number]): string => `${l[0].toFixed(1)}→${l[1].toFixed(1)}`;
const childOpts = (o: Opts): string[] => ['--opts', JSON.stringify(o)];
const perQ = (ms: number, nq: number): string => `${(ms / nq).toFixed(3)} ms`;

function reportMap(md: string[]): void {
  const r = runChild<ChildJson>(['--child', 'map'], {}, 0);
  if (!r.ok) return void console.log(`\nmap: failed: ${r.error}`);
  const x = r.value;
  printTable(
    `Embedding map of ${x.n.toLocaleString('en-US')} clustered ${DIM}-d points; load ${loadStr(r.load)}`,
    ['projection', 'wall', 'cpu'],
    [
      ['PCA (ml-matrix EVD of the covariance)', `${s1(x.pcaMs)} s`, `${s1(x.pcaCpuMs)} s`],
      ['UMAP (umap-js, 15 neighbours, 2-D)', `${s1(x.umapMs)} s`, `${s1(x.umapCpuMs)} s`],
    ],
    md,
  );
  console.log(`RSS ${x.rssGB.toFixed(2)} GB`);
}

function reportFailures(md: string[]): void {
  const r = runChild<ChildJson>(['--child', 'failures'], {}, 0);
  if (!r.ok) return void console.log(`\nfailures: failed: ${r.error}`);
  const x = r.value;
  const per = (b: number) => `${(b / x.failures).toFixed(0)} B`;
  printTable(
    `Failures file: ${x.failures} failing queries of ${N_QUERIES.toLocaleString('en-US')} over ${N_ITEMS.toLocaleString('en-US')} items (exact search, k 10); labels ${Object.entries(
      x.byLabel,
    )
      .filter(([, n]) => (n as number) > 0)
      .map(([l, n]) => `${l} ${n}`)
      .join(', ')}; load ${loadStr(r.load)}`,
    ['file', 'bytes', 'per failing query'],
    [
      ['format 2 (items once, 60-char snippets)', `${(x.v2 / 2 ** 20).toFixed(2)} MB`, per(x.v2)],
      ['format 1 (full record per line)', `${(x.v1 / 2 ** 20).toFixed(2)} MB`, per(x.v1)],
    ],
    md,
  );
  console.log(`triage ${s1(x.triageMs)} s, encode ${s1(x.encodeMs)} s, decode ${s1(x.decodeMs)} s (${x.decoded} records read back)`);
}

function reportLexical(md: string[], o: Opts): void {
  const r = runChild<ChildJson>(['--child', 'lexical', ...childOpts(o)], {}, 0);
  if (!r.ok) return void console.log(`\nlexical: failed: ${r.error}`);
  const x = r.value;
  printTable(
    `BM25 baseline (typed-array postings, the towers' words, k1 1.2, b 0.75) on ${N_ITEMS.toLocaleString('en-US')} synthetic item texts, ${N_QUERIES.toLocaleString('en-US')} queries, depth ${K}; load ${loadStr(r.load)}`,
    ['step', 'wall (median)', 'runs', 'cpu', 'per query'],
    [
      ['build index', fmtT(x.build), fmtRuns(x.build), fmtCpu(x.build), ''],
      [`save (toBuffer, ${(x.savedBytes / 2 ** 20).toFixed(1)} MB)`, fmtT(x.save), fmtRuns(x.save), fmtCpu(x.save), ''],
      ['load (fromBuffer: the reuse path)', fmtT(x.load), fmtRuns(x.load), fmtCpu(x.load), ''],
      [`search ${N_QUERIES} queries (postings + heap)`, fmtT(x.search), fmtRuns(x.search), fmtCpu(x.search), perQ(median(x.search.ms), N_QUERIES)],
      ['MiniSearch 7 build (the reference)', fmtT(x.libBuild), '', fmtCpu(x.libBuild), ''],
      [`MiniSearch search() on ${x.libN} queries`, fmtT(x.lib), '', fmtCpu(x.lib), perQ(median(x.lib.ms), x.libN)],
    ],
    md,
  );
  console.log(`${x.matched} of ${N_QUERIES} queries matched at least one item; RSS ${x.rssGB.toFixed(2)} GB`);
}

function reportEncode(md: string[], o: Opts): void {
  const r = runChild<ChildJson>(['--child', 'encode', ...childOpts(o)], { OMP_NUM_THREADS: o.ompThreads }, 0);
  if (!r.ok) return void console.log(`\nencode: failed: ${r.error}`);
  const e = r.value;
  const d = e.dims;
  const rate = (n: number, t: Timing) => `${Math.round(n / (median(t.ms) / 1000)).toLocaleString('en-US')}/s`;
  printTable(
    `Encoding (${e.backend} backend, SIMD ${e.simd}, multi-thread ${e.multithread}; V ${d.vocab}, E ${d.embed}, H ${d.hidden}, D ${d.out}; ` +
      `${e.itemFeatures.toFixed(1)} features/item, ${e.queryFeatures.toFixed(1)}/query; load ${loadStr(r.load)})`,
    ['step', 'median', 'cpu', 'rate', 'runs'],
    [
      [`featurize ${N_ITEMS / 1000}k items`, fmtT(e.featItems), fmtCpu(e.featItems), rate(N_ITEMS, e.featItems), fmtRuns(e.featItems)],
      [`featurize ${N_QUERIES / 1000}k queries`, fmtT(e.featQueries), fmtCpu(e.featQueries), rate(N_QUERIES, e.featQueries), fmtRuns(e.featQueries)],
      ['initTwoTower (2 towers, 2 × V × E)', fmtT(e.init), fmtCpu(e.init), '', ''],
      [`encodeFeatures ${N_ITEMS / 1000}k items`, fmtT(e.encItems), fmtCpu(e.encItems), rate(N_ITEMS, e.encItems), fmtRuns(e.encItems)],
      [`encodeFeatures ${N_QUERIES / 1000}k queries`, fmtT(e.encQueries), fmtCpu(e.encQueries), rate(N_QUERIES, e.encQueries), fmtRuns(e.encQueries)],
      [`  same loop, tensor returned from tf.tidy`, fmtT(e.tensorOut), fmtCpu(e.tensorOut), rate(N_ITEMS, e.tensorOut), fmtRuns(e.tensorOut)],
      [`  bagForward alone (host)`, fmtT(e.bagOnly), fmtCpu(e.bagOnly), '', fmtRuns(e.bagOnly)],
    ],
    md,
  );
  console.log(`(RSS ${e.rssGB.toFixed(2)} GB, ${e.numTensors} tensors left; tensor-returned variant vs encodeFeatures max |Δ| ${e.maxDiff})`);
}

function sweepTable(md: string[], title: string, sweep: SweepRow[], nq: number, flat: { r10: number; r100: number }, defaultNprobe: number): void {
  printTable(
    title,
    ['nprobe', 'search', 'per query', 'nbr recall@10', 'nbr recall@100', 'planted @10', 'planted @100', 'gap @10', 'gap @100', 'setNprobe'],
    sweep.map((s) => [
      `${s.nprobe}${s.nprobe === defaultNprobe ? ' (default)' : ''}`,
      fmtT(s.search),
      perQ(median(s.search.ms), nq),
      s.nr10.toFixed(3),
      s.nr100.toFixed(3),
      s.r10.toFixed(3),
      s.r100.toFixed(3),
      (s.r10 - flat.r10).toFixed(3),
      (s.r100 - flat.r100).toFixed(3),
      `${s.setMs.toFixed(0)} ms`,
    ]),
    md,
  );
}

function reportIndex(md: string[], kind: VectorKind, o: Opts): void {
  const r = runChild<ChildJson>(['--child', 'index', '--vectors', kind, ...childOpts(o)], { OMP_NUM_THREADS: o.ompThreads }, 0);
  if (!r.ok) return void console.log(`\nindex (${kind}): failed: ${r.error}`);
  const x = r.value;
  const eff = x.ivf.effective;
  const tsPerQ = median(x.exactTs.ms) / x.exactQueries;
  const flatPerQ = median(x.flatSearch.ms) / x.nq;
  printTable(
    `Index, ${x.kind} vectors: ${x.n / 1000}k × ${x.dim}, ${x.nq / 1000}k queries, k ${x.k} (load ${loadStr(r.load)})`,
    ['step', 'median', 'cpu', 'per query', 'runs'],
    [
      ['Flat build (IndexFlatIP)', fmtT(x.flatBuild), fmtCpu(x.flatBuild), '', fmtRuns(x.flatBuild)],
      [`Flat search, ${x.nq / 1000}k queries`, fmtT(x.flatSearch), fmtCpu(x.flatSearch), perQ(median(x.flatSearch.ms), x.nq), fmtRuns(x.flatSearch)],
      [
        `exactSearch (TypeScript), ${x.exactQueries} queries`,
        fmtT(x.exactTs),
        fmtCpu(x.exactTs),
        perQ(median(x.exactTs.ms), x.exactQueries),
        fmtRuns(x.exactTs),
      ],
      [`  → ${x.nq / 1000}k queries (extrapolated)`, `${s1(tsPerQ * x.nq)} s`, '', `${(tsPerQ / flatPerQ).toFixed(1)}× Flat`, ''],
      [`IVF${eff.nlist},PQ${eff.m}x${eff.nbits} build (schema defaults)`, fmtT(x.ivf.build), fmtCpu(x.ivf.build), '', fmtRuns(x.ivf.build)],
      [`  train (${eff.trainSample} vectors)`, fmtT(x.ivf.train), '', '', fmtRuns(x.ivf.train)],
      ['  add', fmtT(x.ivf.add), '', '', fmtRuns(x.ivf.add)],
      [
        `IVF-PQ search, ${x.nq / 1000}k queries, nprobe ${eff.nprobe}`,
        ...(() => {
          const s = x.sweep.find((w: SweepRow) => w.nprobe === eff.nprobe);
          return s ? [fmtT(s.search), fmtCpu(s.search), perQ(median(s.search.ms), x.nq), fmtRuns(s.search)] : ['', '', '', ''];
        })(),
      ],
    ],
    md,
  );
  console.log(`exactSearch and Flat agree on ${(100 * x.sameLabelShare).toFixed(2)}% of the top-${x.k} labels of those ${x.exactQueries} queries.`);
  console.log(`IVF-PQ defaults ${JSON.stringify(x.ivf.requested)} → ${JSON.stringify(eff)}; notes: ${x.ivf.notes.join('; ') || 'none'}`);
  sweepTable(
    md,
    `Recall of IVF${eff.nlist},PQ${eff.m}x${eff.nbits} vs exact Flat, ${x.kind} vectors (nbr = share of Flat's top k found; planted = the query's source item; Flat planted @10 ${x.flatPlanted.r10.toFixed(3)}, @100 ${x.flatPlanted.r100.toFixed(3)})`,
    x.sweep,
    x.nq,
    x.flatPlanted,
    eff.nprobe,
  );
}

function reportNlist(md: string[], o: Opts): void {
  const r = runChild<ChildJson>(['--child', 'nlist', ...childOpts(o)], { OMP_NUM_THREADS: o.ompThreads }, 0);
  if (!r.ok) return void console.log(`\nnlist: failed: ${r.error}`);
  const rows: string[][] = [];
  for (const c of r.value.rows) {
    for (const s of c.sweep as SweepRow[]) {
      const first = s === c.sweep[0];
      rows.push([
        first ? c.label : '',
        first ? String(c.effective.trainSample) : '',
        first ? fmtT(c.build) : '',
        first ? fmtCpu(c.build) : '',
        first ? fmtT(c.train) : '',
        first ? fmtT(c.add) : '',
        String(s.nprobe),
        perQ(median(s.search.ms), N_QUERIES),
        s.nr10.toFixed(3),
        s.nr100.toFixed(3),
        s.r10.toFixed(3),
      ]);
    }
  }
  printTable(
    `IVF-PQ (m 16, nbits 8) at ${N_ITEMS / 1000}k × ${DIM} clustered: build time vs nlist (Flat planted @10 ${r.value.flatPlanted.r10.toFixed(3)}; load ${loadStr(r.load)})`,
    ['case', 'train sample', 'build', 'build cpu', 'train', 'add', 'nprobe', 'search/query', 'nbr recall@10', 'nbr recall@100', 'planted @10'],
    rows,
    md,
  );
}

interface FactorCase {
  name: string;
  factory: string;
  sample: number;
  env: Record<string, string | undefined>;
  timeoutMs?: number;
}

function reportFactors(md: string[], o: Opts): void {
  const nlist = 256;
  const per64 = Math.min(FACTOR_N, 64 * nlist); // resolveSpec's default sample: 64 per list (2^nbits is 256 too)
  const cur = { OPENBLAS_NUM_THREADS: '1', OMP_WAIT_POLICY: 'PASSIVE' };
  const np = `IVF${nlist},PQ16x8np`;
  const poly = `IVF${nlist},PQ16`;
  const cases: FactorCase[] = [
    { name: 'current: np, OPENBLAS 1, PASSIVE, 64/list', factory: np, sample: per64, env: cur },
    { name: `train sample: all ${FACTOR_N / 1000}k`, factory: np, sample: FACTOR_N, env: cur },
    { name: 'OPENBLAS_NUM_THREADS=2', factory: np, sample: per64, env: { ...cur, OPENBLAS_NUM_THREADS: '2' } },
    { name: 'OMP_WAIT_POLICY unset (libgomp default)', factory: np, sample: per64, env: { ...cur, OMP_WAIT_POLICY: undefined } },
    { name: 'polysemous training (no np)', factory: poly, sample: per64, env: cur, timeoutMs: o.polyTimeoutMs },
  ];
  if (o.factorsFull) {
    cases.push(
      { name: 'OMP_NUM_THREADS=1 (faiss single-threaded)', factory: np, sample: per64, env: { ...cur, OMP_NUM_THREADS: '1' } },
      { name: `np, nothing set, all ${FACTOR_N / 1000}k`, factory: np, sample: FACTOR_N, env: {} },
      { name: `issue: no np, nothing set, all ${FACTOR_N / 1000}k`, factory: poly, sample: FACTOR_N, env: {}, timeoutMs: o.polyTimeoutMs },
    );
  }
  // Rounds over all cases (not all runs of one case, then the next) so that load changes on the
  // shared machine spread over the cases; polysemous cases run once (they take minutes).
  const res = cases.map(() => ({ train: timing(), add: timing(), err: '', loads: [] as number[] }));
  for (let round = 0; round < o.heavy; round++) {
    cases.forEach((c, i) => {
      const x = res[i];
      if (x.err || (round > 0 && c.factory === poly)) return;
      const r = runChild<ChildJson>(['--child', 'factor', '--factory', c.factory, '--sample', String(c.sample)], c.env, c.timeoutMs ?? 0);
      x.loads.push(r.load[0], r.load[1]);
      if (!r.ok) {
        x.err = r.error ?? 'failed';
        if (r.timedOut) x.train.ms.push(r.wallMs);
      } else {
        x.train.ms.push(r.value.trainMs);
        x.train.cpuMs.push(r.value.trainCpuMs);
        x.add.ms.push(r.value.addMs);
        x.add.cpuMs.push(r.value.addCpuMs);
      }
      console.log(
        `  round ${round + 1}: ${c.name}: ${r.ok ? `train ${s1(r.value.trainMs)} s, cpu ${s1(r.value.trainCpuMs)} s` : x.err} (load ${loadStr(r.load)})`,
      );
    });
  }
  const rows: string[][] = [];
  let baseTotal = 0;
  cases.forEach((c, i) => {
    const x = res[i];
    const envStr =
      Object.entries(c.env)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => `${k}=${v}`)
        .join(' ') || '(none)';
    const loads = `load ${Math.min(...x.loads).toFixed(1)}–${Math.max(...x.loads).toFixed(1)}`;
    const row = [c.name, c.factory, String(c.sample), envStr];
    if (x.err) {
      rows.push([...row, x.train.ms.length ? `> ${s1(x.train.ms[0])} s` : 'failed', '', '', '', `${x.err} (${loads})`]);
      return;
    }
    const total = median(x.train.ms) + median(x.add.ms);
    if (i === 0) baseTotal = total;
    rows.push([...row, fmtT(x.train), fmtCpu(x.train), fmtT(x.add), `${s1(total)} s (${(total / baseTotal).toFixed(1)}×)`, `${fmtRuns(x.train)} (${loads})`]);
  });
  printTable(
    `IVF256,PQ16 build on ${FACTOR_N / 1000}k × ${DIM} clustered vectors, one factor changed per row (a child process per run)`,
    ['case', 'factory', 'sample', 'env', 'train', 'train cpu', 'add', 'build (vs current)', 'train runs'],
    rows,
    md,
  );
}

function reportMillion(md: string[], o: Opts, n: number, nq: number, gapQueries: number, bm25: boolean): void {
  const dir = fs.mkdtempSync(`${os.tmpdir()}/rl-bench-million-`);
  try {
    const t0 = performance.now();
    const files = writeMillionData(dir, n, nq);
    console.log(`\nmillion: wrote ${n} items (${(files.bytes / 1e6).toFixed(0)} MB) and ${nq} queries in ${s1(performance.now() - t0)} s`);
    const mo: MillionOpts = { ...o, dir, n, gapQueries, bm25 };
    const r = runChild<ChildJson>(['--child', 'million', '--opts', JSON.stringify(mo)], {}, 0);
    if (!r.ok) return void console.log(`million: failed: ${r.error}`);
    const x = r.value;
    const gb = (b: number) => (b / 2 ** 30).toFixed(2);
    const between = (a: string, b: string) => s1((x.phases[b] ?? x.evalMs) - (x.phases[a] ?? 0));
    const rows: string[][] = [
      ['corpus file', `${x.n} items, ${(x.corpusBytes / 1e6).toFixed(0)} MB JSONL; ${x.nq} queries`],
      ['load (ids + lines, one streamed pass; queries)', `${s1(x.loadMs)} s`],
      ['encode corpus (streamed in batches of 4096, wasm) + queries', `${between('encode-corpus', 'build-index')} s`],
      [`build ${x.spec.type} nlist ${x.spec.nlist} m ${x.spec.m} (trained on ${x.spec.trainSample} vectors)`, `${s1(x.buildMs)} s`],
      [`search ${x.nq} queries, k 100, nprobe ${x.spec.nprobe}`, `${s1(x.searchMs)} s (${perQ(x.searchMs, x.nq)}/query)`],
      [
        'failing queries (texts of shown rows read back in one pass) + triage',
        `${s1((x.marks.triage ?? x.evalMs) - (x.phases.triage ?? x.evalMs))} s (${x.failures} failing)`,
      ],
      ['whole evaluation', `${s1(x.evalMs)} s`],
      ['exact search', x.exactSkipped ? `skipped: ${x.exactSkipped}` : 'ran'],
      ['peak RSS of the evaluation (VmHWM)', `${gb(x.rss.evaluated.peak)} GB (target ≤ 3 GB)`],
      [
        'RSS after load / before build / at the end',
        `${gb(x.rss.loaded.rss)} / ${gb(x.rss['before build-index']?.rss ?? NaN)} / ${gb(x.rss.evaluated.rss)} GB`,
      ],
      [`IVF-PQ recall@10 / @100 (all ${x.nq} queries)`, `${x.annRecall10?.toFixed(3)} / ${x.annRecall100?.toFixed(3)}`],
      [
        `ANN gap on ${x.gap.queries} sampled queries (exact by Flat over 100k-row chunks, ${s1(x.gap.exactMs)} s)`,
        `recall@10 ${x.gap.exact10.toFixed(3)} exact vs ${x.gap.ann10.toFixed(3)} IVF-PQ = ${(x.gap.exact10 - x.gap.ann10).toFixed(3)}; @100 ${x.gap.exact100.toFixed(3)} vs ${x.gap.ann100.toFixed(3)}`,
      ],
    ];
    rows.push([`IVF-PQ neighbour recall@10 on the sample (exact top 10 found in IVF-PQ's top 10)`, x.gap.neighbours10.toFixed(3)]);
    if (x.lexical)
      rows.push([
        'BM25 (built while the corpus streams) / search',
        `${s1(x.lexical.buildMs)} s / ${s1(x.lexical.searchMs)} s, recall@10 ${x.bm25Recall10?.toFixed(3)}`,
      ]);
    if (x.bm25Save && x.rss.bm25Saved)
      rows.push([
        'BM25 index saved as evaluateRun saves it (bm25.bin) / peak RSS after saving',
        `${s1(x.bm25Save.ms)} s, ${(x.bm25Save.bytes / 2 ** 20).toFixed(0)} MB / ${gb(x.rss.bm25Saved.peak)} GB`,
      ]);
    printTable(
      `million: evaluation of a ${x.n}-item synthetic corpus (untrained default model with shared towers, wasm; load ${loadStr(r.load)})`,
      ['step', 'result'],
      rows,
      md,
    );
    for (const l of x.logs) console.log(`  log: ${l}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      child: { type: 'string' },
      opts: { type: 'string' },
      parts: { type: 'string', default: 'encode,index,lexical,failures,map,factors' },
      vectors: { type: 'string', default: 'clustered' },
      repeats: { type: 'string', default: '3' },
      'heavy-repeats': { type: 'string', default: '1' },
      'exact-queries': { type: 'string', default: '100' },
      'poly-timeout': { type: 'string', default: '30' },
      factors: { type: 'string', default: 'short' },
      factory: { type: 'string' },
      sample: { type: 'string' },
      md: { type: 'string' },
      'omp-threads': { type: 'string' },
      'million-items': { type: 'string', default: '1000000' },
      'million-queries': { type: 'string', default: '8000' },
      'gap-queries': { type: 'string', default: '500' },
      'million-bm25': { type: 'boolean', default: false },
    },
  });
  if (values.child) {
    const o = JSON.parse(values.opts ?? '{}') as Opts;
    let out: unknown;
    if (values.child === 'encode') out = await childEncode(o);
    else if (values.child === 'index') out = await childIndex(values.vectors as VectorKind, o);
    else if (values.child === 'nlist') out = await childNlist(o);
    else if (values.child === 'lexical') out = await childLexical(o);
    else if (values.child === 'failures') out = await childFailures();
    else if (values.child === 'map') out = await childMap();
    else if (values.child === 'factor') out = await childFactor(values.factory!, Number(values.sample));
    else if (values.child === 'million') out = await childMillion(o as MillionOpts);
    else throw new Error(`unknown child ${values.child}`);
    console.log(JSON.stringify(out));
    return;
  }
  const pos = (name: string, v: string | undefined): number => {
    const x = Number(v);
    if (!Number.isInteger(x) || x < 1) throw new Error(`--${name} must be a positive integer, got ${v}`);
    return x;
  };
  const o: Opts = {
    repeats: pos('repeats', values.repeats),
    heavy: pos('heavy-repeats', values['heavy-repeats']),
    exactQueries: pos('exact-queries', values['exact-queries']),
    polyTimeoutMs: Number(values['poly-timeout']) * 1000, // 0: no limit
    factorsFull: values.factors === 'full',
    ompThreads: values['omp-threads'],
  };
  const parts = values.parts!.split(',');
  const kinds = values.vectors!.split(',');
  for (const k of kinds) if (k !== 'clustered' && k !== 'random') throw new Error(`--vectors: unknown kind ${k} (clustered, random)`);
  for (const p of parts)
    if (!['encode', 'index', 'lexical', 'failures', 'map', 'factors', 'nlist', 'million'].includes(p))
      throw new Error(`--parts: unknown part ${p} (encode, index, lexical, failures, map, factors, nlist, million)`);

  const started = performance.now();
  const cpus = os.cpus();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const faissNode = (require('faiss-node/package.json') as { version: string }).version;
  const header =
    `eval benchmark ${new Date().toISOString()}: ${cpus.length} × ${cpus[0]?.model ?? '?'}, node ${process.version}, faiss-node ${faissNode}; ` +
    `repeats ${o.repeats}, heavy ${o.heavy}${o.ompThreads ? `, OMP_NUM_THREADS=${o.ompThreads}` : ''}; load average ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`;
  console.log(header);
  const md: string[] = [`_${header}_`];
  if (parts.includes('encode')) reportEncode(md, o);
  if (parts.includes('index')) for (const kind of kinds as VectorKind[]) reportIndex(md, kind, o);
  if (parts.includes('lexical')) reportLexical(md, o);
  if (parts.includes('failures')) reportFailures(md);
  if (parts.includes('map')) reportMap(md);
  if (parts.includes('factors')) reportFactors(md, o);
  if (parts.includes('nlist')) reportNlist(md, o);
  if (parts.includes('million'))
    reportMillion(
      md,
      o,
      pos('million-items', values['million-items']),
      pos('million-queries', values['million-queries']),
      pos('gap-queries', values['gap-queries']),
      values['million-bm25']!,
    );
  const total = `total ${s1(performance.now() - started)} s; load average now ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`;
  console.log(`\n${total}`);
  md.push(`\n_${total}_`);
  if (values.md) fs.writeFileSync(values.md, md.join('\n') + '\n');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
