/**
 * The held-out sample of live evaluation during training, prepared once per run: `heldOutQueries` seeded test
 * queries, the corpus sampled to at most `heldOutCorpus` items (seeded; every relevant item of the sampled
 * queries kept, so no query loses its answer to the sampling) and held in memory, and BM25 on that same
 * sample as the lexical reference (k1 1.2, b 0.75; computed once: it does not change while the model trains).
 *
 * When the corpus is a file (data.corpus, or a BEIR test folder's corpus.jsonl) the prepared sample is cached
 * beside it as `corpus.jsonl.rlens-heldout` (the per-user temp folder when that folder is not writable;
 * git-ignored, never matched by a glob), two JSON lines: the identity of what it was drawn from (every test and
 * corpus file's path, size and mtime, the data settings, heldOutQueries, heldOutCorpus, the seed, BM25's
 * version), then the sampled queries, qrels and items with BM25's metrics. A run on the same data reads it
 * instead of loading the whole corpus (twice for a BEIR folder) and indexing the sample with BM25 again — most
 * of the preparation (on pycode, 50,829 items: ≈ 17 s of the preparation under load, see bench/heldout.bench.ts);
 * a cache of other data or settings, or an unreadable one, is prepared again and replaced.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import seedrandom from 'seedrandom';
import type { LoadedConfig } from '../config/types';
import { resolveDataPath } from '../data/dataPath';
import { cacheFilesBeside, HELDOUT_SUFFIX, writeCacheSync } from '../data/lineIndex';
import type { Item } from '../data/types';
import { readBoundedTextSync } from '../io/safeRead';
import { BM25_VERSION } from '../lexical/bm25Index';
import { loadEvalData, subsetQueries, type EvalData } from '../eval/evalData';
import { memoryCorpus } from '../eval/evalCorpus';
import type { MetricValues } from '../eval/types';
import { Bm25Index } from '../lexical';
import { evaluateRetrieval, metricValues } from '../eval/retrievalMetrics';
import { resultToRankings } from '../vectorIndex/rankings';

/** What the held-out sample is, as the run log, eval events and the dashboard state it. */
export interface HeldOutInfo {
  queries: number;
  /** Items searched (the sample). */
  corpus: number;
  /** Items of the whole corpus. */
  corpusTotal: number;
  sampled: boolean;
  /** "1,000 queries × 20,000 of 50,829 items (sampled, all positives kept)" */
  description: string;
}

export interface HeldOutSample {
  data: EvalData;
  info: HeldOutInfo;
  /** BM25's metrics on the sample (recall@1…100, mrr@10, ndcg@10): the reference line. */
  bm25: MetricValues;
  /** Wall time of the preparation (loading, sampling, BM25; or reading the cache), ms. */
  prepMs: number;
  /** The cache, for the run log: "read from <file>", "cached in <file>" (with why a cache found was not used), or null (none). */
  cache: string | null;
}

const count = (n: number) => n.toLocaleString('en-US');

/** The sentence naming a sample: "1,000 queries × 20,000 of 50,829 items (sampled, all positives kept)" or "… × 6,000 items (whole corpus)". */
export function describeHeldOut(queries: number, corpus: number, corpusTotal: number): string {
  return corpus < corpusTotal
    ? `${count(queries)} queries × ${count(corpus)} of ${count(corpusTotal)} items (sampled, all positives kept)`
    : `${count(queries)} queries × ${count(corpus)} items (whole corpus)`;
}

/**
 * Rows of a corpus sample of at most `max` rows (ascending): every row whose id is in `keep`, then seeded
 * random other rows up to `max`. All rows when the corpus has at most `max` (or `keep` alone is larger).
 */
export function sampleRows(ids: readonly string[], keep: ReadonlySet<string>, max: number, seed: number): number[] {
  if (ids.length <= max) return ids.map((_, r) => r);
  const kept: number[] = [];
  const others: number[] = [];
  ids.forEach((id, r) => (keep.has(id) ? kept : others).push(r));
  const rng = seedrandom.alea(`retrieval-lens-heldout-corpus-${seed}`);
  const want = Math.max(0, max - kept.length);
  // Partial Fisher–Yates: the first `want` of a seeded shuffle of the other rows.
  for (let i = 0; i < Math.min(want, others.length); i++) {
    const k = i + Math.floor(rng() * (others.length - i));
    [others[i], others[k]] = [others[k], others[i]];
  }
  return [...kept, ...others.slice(0, want)].sort((a, b) => a - b);
}

/** BM25 metrics of `data`'s queries over its corpus. */
export async function bm25Metrics(data: EvalData, depth = 100): Promise<MetricValues> {
  const builder = Bm25Index.builder();
  for await (const batch of data.corpus.batches(4096)) builder.add(batch.map((it) => it.text));
  const index = builder.finish();
  const d = Math.min(depth, data.corpus.count);
  const result = await index.searchParallel(
    data.queries.map((q) => q.text),
    d,
  );
  return metricValues(
    evaluateRetrieval(
      data.qrels,
      resultToRankings(
        result,
        data.queries.map((q) => q.id),
        data.corpus.ids,
      ),
    ),
  );
}

const CACHE_FORMAT = 'rlens-heldout-1';

/** What a held-out sample is a function of (the cache's key). */
interface HeldOutIdentity {
  files: { path: string; size: number; mtimeMs: number }[];
  data: Record<string, unknown>;
  queries: number;
  corpus: number;
  seed: number;
  bm25: string;
}

/** The cache's second line: the sample as drawn, with BM25's metrics on it. */
interface CacheBody {
  queries: [id: string, text: string, file: string, line: number][];
  qrels: [queryId: string, itemIds: string[]][];
  corpus: [id: string, text: string, file: string, line: number][];
  corpusTotal: number;
  bm25: MetricValues;
  queriesSource: string;
  corpusSource: string;
  notes: string[];
}

/**
 * Where the sample of `loaded` is cached and what it is a function of; null when the corpus is not one file
 * (plain pairs without data.corpus: the corpus is the items of the train and test data, small and quick to build).
 */
function cacheOf(loaded: LoadedConfig): { places: string[]; identity: HeldOutIdentity } | null {
  const d = loaded.config.data;
  const test = resolveDataPath(d.test!, loaded.baseDir);
  const files: string[] = [];
  try {
    const folder = statSync(test).isDirectory();
    if (folder) {
      for (const name of readdirSync(test).sort()) if (/\.(jsonl|tsv|gz)$/.test(name) && statSync(join(test, name)).isFile()) files.push(join(test, name));
      const qrels = join(test, 'qrels');
      for (const name of readdirSync(qrels).sort()) if (name.endsWith('.tsv')) files.push(join(qrels, name));
    } else files.push(test);
    const corpus = d.corpus !== undefined ? resolveDataPath(d.corpus, loaded.baseDir) : folder ? join(test, 'corpus.jsonl') : null;
    if (corpus === null) return null;
    if (d.corpus !== undefined) files.push(corpus);
    const ev = loaded.config.evaluation;
    return {
      places: cacheFilesBeside(corpus, HELDOUT_SUFFIX),
      identity: {
        files: files.map((f) => {
          const st = statSync(f);
          return { path: f, size: st.size, mtimeMs: st.mtimeMs };
        }),
        data: {
          test: d.test,
          corpus: d.corpus ?? null,
          format: d.format,
          testSplit: d.testSplit ?? null,
          fields: d.fields ?? null,
          maxBadLineShare: d.maxBadLineShare,
        },
        queries: ev.heldOutQueries,
        corpus: ev.heldOutCorpus,
        seed: loaded.config.training.seed,
        bm25: BM25_VERSION,
      },
    };
  } catch {
    return null; // a file that cannot be read: loading it below says where
  }
}

/** The cached sample when one of `places` holds it for `identity`; else null and, for a cache found, why not. */
function readCache(places: readonly string[], identity: HeldOutIdentity): { sample?: Omit<HeldOutSample, 'prepMs'>; notice?: string } {
  const notices: string[] = [];
  for (const file of places) {
    let text: string;
    try {
      text = readBoundedTextSync(file, 'held-out cache');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') notices.push(`${file} is unreadable (${(e as Error).message})`);
      continue;
    }
    try {
      const nl = text.indexOf('\n');
      const head = JSON.parse(text.slice(0, nl)) as { format: string; identity: HeldOutIdentity };
      if (head.format !== CACHE_FORMAT || JSON.stringify(head.identity) !== JSON.stringify(identity)) {
        notices.push(`${file} was drawn from other data or settings`);
        continue;
      }
      const b = JSON.parse(text.slice(nl + 1)) as CacheBody;
      const items: Item[] = b.corpus.map(([id, t, f, line]) => ({ id, text: t, source: { file: f, line } }));
      const data: EvalData = {
        queries: b.queries.map(([id, t, f, line]) => ({ id, text: t, source: { file: f, line } })),
        qrels: new Map(b.qrels.map(([q, ids]) => [q, new Set(ids)])),
        corpus: memoryCorpus(items),
        queriesSource: b.queriesSource,
        corpusSource: b.corpusSource,
        notes: b.notes,
      };
      return { sample: { data, info: infoOf(data, b.corpusTotal), bm25: b.bm25, cache: `read from ${file}` } };
    } catch (e) {
      notices.push(`${file} is unreadable (${(e as Error).message})`);
    }
  }
  return notices.length ? { notice: notices.join('; ') } : {};
}

/** Writes the cache atomically to the first usable place; the place, or null when none is. */
async function writeCache(places: readonly string[], identity: HeldOutIdentity, s: Omit<HeldOutSample, 'prepMs' | 'cache'>): Promise<string | null> {
  const corpus: CacheBody['corpus'] = [];
  for await (const batch of s.data.corpus.batches(4096)) for (const it of batch) corpus.push([it.id, it.text, it.source.file, it.source.line]);
  const body: CacheBody = {
    queries: s.data.queries.map((q) => [q.id, q.text, q.source.file, q.source.line]),
    qrels: s.data.queries.map((q) => [q.id, [...(s.data.qrels.get(q.id) ?? [])]]),
    corpus,
    corpusTotal: s.info.corpusTotal,
    bm25: s.bm25,
    queriesSource: s.data.queriesSource,
    corpusSource: s.data.corpusSource,
    notes: s.data.notes,
  };
  return writeCacheSync(places, `${JSON.stringify({ format: CACHE_FORMAT, identity })}\n${JSON.stringify(body)}\n`);
}

function infoOf(data: EvalData, total: number): HeldOutInfo {
  return {
    queries: data.queries.length,
    corpus: data.corpus.count,
    corpusTotal: total,
    sampled: data.corpus.count < total,
    description: describeHeldOut(data.queries.length, data.corpus.count, total),
  };
}

/** Loads the test data and prepares the sample, or reads it from its cache (see the file comment). */
export async function prepareHeldOut(loaded: LoadedConfig): Promise<HeldOutSample> {
  const t0 = performance.now();
  const cache = cacheOf(loaded);
  const found = cache ? readCache(cache.places, cache.identity) : {};
  if (found.sample) return { ...found.sample, prepMs: performance.now() - t0 };
  const ev = loaded.config.evaluation;
  const seed = loaded.config.training.seed;
  const all = subsetQueries(await loadEvalData(loaded), ev.heldOutQueries, seed);
  const positives = new Set<string>();
  for (const q of all.queries) for (const id of all.qrels.get(q.id) ?? []) positives.add(id);
  const rows = sampleRows(all.corpus.ids, positives, ev.heldOutCorpus, seed);
  const corpus = memoryCorpus(await all.corpus.items(rows)); // in memory: every evaluation reads it again
  const data: EvalData = { ...all, corpus };
  const sample = { data, info: infoOf(data, all.corpus.count), bm25: await bm25Metrics(data) };
  const written = cache ? await writeCache(cache.places, cache.identity, sample) : null;
  const why = found.notice ? ` (${found.notice}: prepared again)` : '';
  return { ...sample, cache: written ? `cached in ${written}${why}` : cache ? `not cached (no writable place)${why}` : null, prepMs: performance.now() - t0 };
}
