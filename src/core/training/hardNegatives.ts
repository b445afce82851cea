/**
 * BM25-mined hard negatives (data.hardNegatives), the recipe of DPR and its successors: once before
 * training, every distinct training query is ranked by BM25 (lexical/bm25Index.ts, the towers' words)
 * over the training corpus, and its negatives are the ranked items after
 *   1. dropping every positive of the query (by item id and by normalised text — itemId.ts — gathered over
 *      all pairs with the query's id or its normalised text: a query asked twice keeps both positives), and
 *   2. skipping the first `skipTop` of the rest (the very top are often unlabelled positives),
 * the next `perQuery` of them. The training corpus is data.corpus when set, else the BEIR folder's
 * corpus.jsonl, else the distinct positives of the training pairs (plain pairs without a corpus: the only
 * items the data names).
 *
 * The result is cached beside the first training file as `<file>.rlens-hardneg` (the temp folder when that
 * folder is not writable; git-ignored, never matched by a glob), two JSON lines: a header — the identity of
 * what it was mined from (every source file's path, size and mtime, the parameters, the BM25 version), the
 * counts and time (the data lens reads only this line) — and the body: the negative items (id + text, so
 * training needs no corpus on a cache hit) and, per query id, the rows of its negatives. A cache whose identity differs (other or changed data, other parameters) or that
 * cannot be read is mined again, with a notice saying why; it is written atomically, so nothing is lost
 * when mining is interrupted.
 */
import { closeSync, readSync, statSync } from 'node:fs';
import type { HardNegativesConfig } from '../config/types';
import { normaliseText } from '../data/itemId';
import { cacheFilesBeside, HARDNEG_SUFFIX, writeCacheSync } from '../data/lineIndex';
import { openRegularSync, readBoundedTextSync, UnsafeFileError } from '../io/safeRead';
import type { Example, Item } from '../data/types';
import { Bm25Index, BM25_VERSION } from '../lexical/bm25Index';

const CACHE_FORMAT = 'rlens-hardneg-2';

/** What the mining is a function of: the files read (path, size, mtime), the parameters and BM25's version. */
export interface MiningIdentity {
  files: { path: string; size: number; mtimeMs: number }[];
  params: HardNegativesConfig;
  bm25: string;
}

/** Mined negatives and how they were obtained. */
export interface MinedNegatives {
  /** Query id → its negatives (id + text). */
  byQuery: Map<string, Item[]>;
  /** Queries mined for, negatives mined in all (a query may get fewer than perQuery from a small corpus). */
  queries: number;
  mined: number;
  /** Items of the corpus mined from, and what it was ("data.corpus …", "the 1,234 training positives"). */
  corpusItems: number;
  corpusSource: string;
  /** Mining time (ms) when mined now; the recorded mining time when read from the cache. */
  ms: number;
  fromCache: boolean;
  /** Where the cache is (null: no place was writable). */
  cacheFile: string | null;
  /** Why an existing cache was not used (other data, other parameters, unreadable), when one was found. */
  notice?: string;
}

/** The cache's first line: what was mined from what, and how long it took. */
export interface MiningHeader {
  format: string;
  identity: MiningIdentity;
  queries: number;
  mined: number;
  corpusItems: number;
  corpusSource: string;
  ms: number;
}

/** The cache's second line. */
export interface CacheBody {
  /** Negative items, [id, text]; `negatives` holds indices into it. */
  items: [string, string][];
  negatives: Record<string, number[]>;
}

/** Bytes read for the header line (the identity lists every data file: a few KB even for many shards). */
const HEADER_MAX_BYTES = 1 << 20;

/**
 * The header of the mining cache beside `file` (the first training file), read without its body: for the
 * data lens. Null when there is none or it is not a mining cache.
 */
export function readMiningHeader(file: string): { header: MiningHeader; cacheFile: string } | null {
  for (const place of cacheFilesBeside(file, HARDNEG_SUFFIX)) {
    let fd: number;
    try {
      fd = openRegularSync(place).fd; // a FIFO or device planted as the cache is not opened for reading
    } catch {
      continue;
    }
    try {
      const buf = Buffer.alloc(HEADER_MAX_BYTES);
      const n = readSync(fd, buf, 0, buf.length, 0);
      const nl = buf.subarray(0, n).indexOf(10);
      if (nl < 0) continue;
      const header = JSON.parse(buf.subarray(0, nl).toString('utf8')) as MiningHeader;
      if (header.format === CACHE_FORMAT) return { header, cacheFile: place };
    } catch {
      // unreadable: as if absent
    } finally {
      closeSync(fd);
    }
  }
  return null;
}

/** The identity of mining over these files with these parameters (a file that does not exist is an error). */
export function miningIdentity(files: readonly string[], params: HardNegativesConfig): MiningIdentity {
  return {
    files: files.map((p) => {
      const s = statSync(p);
      return { path: p, size: s.size, mtimeMs: s.mtimeMs };
    }),
    params: { source: params.source, perQuery: params.perQuery, skipTop: params.skipTop },
    bm25: BM25_VERSION,
  };
}

/** How two identities differ, for the notice ("data.train changed (size or mtime)", "perQuery 3 → 5"). */
function identityDifference(was: MiningIdentity, now: MiningIdentity): string {
  const parts: string[] = [];
  const wasFiles = new Map(was.files.map((f) => [f.path, f]));
  const nowPaths = new Set(now.files.map((f) => f.path));
  for (const f of now.files) {
    const w = wasFiles.get(f.path);
    if (!w) parts.push(`${f.path} was not among the files it was mined from`);
    else if (w.size !== f.size || w.mtimeMs !== f.mtimeMs) parts.push(`${f.path} changed since (size or modification time)`);
  }
  for (const f of was.files) if (!nowPaths.has(f.path)) parts.push(`it was mined from ${f.path} too, which this training does not read`);
  for (const k of ['source', 'perQuery', 'skipTop'] as const)
    if (was.params?.[k] !== now.params[k]) parts.push(`${k} ${String(was.params?.[k])} → ${now.params[k]}`);
  if (was.bm25 !== now.bm25) parts.push(`BM25 ${was.bm25} → ${now.bm25}`);
  return parts.length ? parts.join('; ') : 'its identity differs';
}

/** Reads the cache when it holds mining with this identity; else null and, for a cache that exists, why not. */
function readCache(file: string, identity: MiningIdentity): { mined: MinedNegatives | null; notice?: string } {
  let text: string;
  try {
    text = readBoundedTextSync(file, 'hard negatives cache');
  } catch (err) {
    return err instanceof UnsafeFileError ? { mined: null, notice: err.message } : { mined: null };
  }
  try {
    const nl = text.indexOf('\n');
    const c = JSON.parse(nl < 0 ? text : text.slice(0, nl)) as MiningHeader;
    if (c.format !== CACHE_FORMAT) return { mined: null, notice: `${file} has format ${String(c.format)}, not ${CACHE_FORMAT}` };
    if (JSON.stringify(c.identity) !== JSON.stringify(identity)) {
      return { mined: null, notice: `${file} was mined from other data or parameters (${identityDifference(c.identity, identity)})` };
    }
    if (nl < 0) throw new Error('no body line');
    const body = JSON.parse(text.slice(nl + 1)) as CacheBody;
    const items = body.items.map(([id, text]) => {
      if (typeof id !== 'string' || typeof text !== 'string') throw new Error('an item is not [id, text]');
      return { id, text, source: { file, line: 1 } };
    });
    const byQuery = new Map<string, Item[]>();
    for (const [q, rows] of Object.entries(body.negatives)) {
      byQuery.set(
        q,
        rows.map((r) => {
          const it = items[r];
          if (!it) throw new Error(`query ${q} names item ${r} of ${items.length}`);
          return it;
        }),
      );
    }
    return {
      mined: {
        byQuery,
        queries: c.queries,
        mined: c.mined,
        corpusItems: c.corpusItems,
        corpusSource: c.corpusSource,
        ms: c.ms,
        fromCache: true,
        cacheFile: file,
      },
    };
  } catch (e) {
    return { mined: null, notice: `${file} is unreadable (${(e as Error).message})` };
  }
}

/** The negatives as the cache's body: each item once ([id, text]), and per query id the rows of its negatives (also what the PyTorch trainer reads). */
export function minedBody(m: Pick<MinedNegatives, 'byQuery'>): CacheBody {
  const itemIndex = new Map<string, number>();
  const items: [string, string][] = [];
  const negatives: Record<string, number[]> = {};
  for (const [q, negs] of m.byQuery) {
    negatives[q] = negs.map((it) => {
      let i = itemIndex.get(it.id);
      if (i === undefined) {
        i = items.length;
        itemIndex.set(it.id, i);
        items.push([it.id, it.text]);
      }
      return i;
    });
  }
  return { items, negatives };
}

/** Writes the cache atomically to the first writable place; null when none is. */
function writeCache(places: readonly string[], identity: MiningIdentity, m: MinedNegatives): string | null {
  const header: MiningHeader = {
    format: CACHE_FORMAT,
    identity,
    queries: m.queries,
    mined: m.mined,
    corpusItems: m.corpusItems,
    corpusSource: m.corpusSource,
    ms: m.ms,
  };
  const body = minedBody(m);
  return writeCacheSync(places, `${JSON.stringify(header)}\n${JSON.stringify(body)}\n`);
}

/** One training query: its text and what may never be its negative (its positives' ids and normalised texts). */
interface QueryPositives {
  text: string;
  ids: Set<string>;
  norms: Set<string>;
}

/**
 * Mines `perQuery` negatives per query over `corpus` (see the module comment for the rule). Pure: the
 * queries, and for each its positives to exclude, are given.
 */
export function mineWithBm25(
  queries: ReadonlyMap<string, QueryPositives>,
  corpus: readonly Item[],
  params: HardNegativesConfig,
): { byQuery: Map<string, Item[]>; mined: number } {
  const bm25 = Bm25Index.build(corpus.map((it) => it.text));
  const norms = corpus.map((it) => normaliseText(it.text));
  const byQuery = new Map<string, Item[]>();
  let mined = 0;
  const want = params.skipTop + params.perQuery;
  for (const [qid, q] of queries) {
    let depth = Math.min(corpus.length, want + q.ids.size + 16);
    let out: Item[];
    for (;;) {
      const { labels } = bm25.query(q.text, depth);
      const kept = labels.filter((r) => !q.ids.has(corpus[r].id) && !q.norms.has(norms[r]));
      out = kept.slice(params.skipTop, want).map((r) => corpus[r]);
      // Enough, or BM25 matched no more items, or the whole corpus was ranked.
      if (out.length === params.perQuery || labels.length < depth || depth >= corpus.length) break;
      depth = Math.min(corpus.length, depth * 4);
    }
    byQuery.set(qid, out);
    mined += out.length;
  }
  return { byQuery, mined };
}

export interface MiningInput {
  params: HardNegativesConfig;
  /** One pass over the training pairs (any order). */
  examples: () => AsyncIterable<Example>;
  /** The corpus to mine from, or null: the distinct positives of the training pairs. */
  corpus: (() => Promise<{ items: Item[]; source: string }>) | null;
  /** Every file the mining reads (training files, the corpus file): their identity keys the cache. */
  files: readonly string[];
  /** The file the cache lives beside (the first training file, or the BEIR folder's corpus.jsonl). */
  cacheBeside: string;
}

/**
 * The mined negatives of a training: from the cache when it was mined from these files with these
 * parameters, else mined now (one pass over the training pairs, the corpus loaded, BM25 built) and cached.
 */
export async function hardNegativesFor(input: MiningInput): Promise<MinedNegatives> {
  const identity = miningIdentity(input.files, input.params);
  const places = cacheFilesBeside(input.cacheBeside, HARDNEG_SUFFIX);
  const notices: string[] = [];
  for (const place of places) {
    const { mined, notice } = readCache(place, identity);
    if (mined) return mined;
    if (notice) notices.push(notice);
  }
  const t0 = performance.now();
  const queries = new Map<string, QueryPositives>();
  const byText = new Map<string, { ids: Set<string>; norms: Set<string> }>();
  const positives = new Map<string, Item>();
  for await (const ex of input.examples()) {
    const qNorm = normaliseText(ex.query);
    let shared = byText.get(qNorm);
    if (!shared) byText.set(qNorm, (shared = { ids: new Set(), norms: new Set() }));
    let q = queries.get(ex.queryId);
    // Pairs of one query id share one set; pairs of one query text (other ids) share another: both excluded.
    if (!q) queries.set(ex.queryId, (q = { text: ex.query, ids: new Set(), norms: new Set() }));
    const pNorm = normaliseText(ex.positive.text);
    for (const s of [q, shared]) {
      s.ids.add(ex.positive.id);
      s.norms.add(pNorm);
    }
    if (!input.corpus && !positives.has(ex.positive.id)) positives.set(ex.positive.id, ex.positive);
  }
  for (const q of queries.values()) {
    const shared = byText.get(normaliseText(q.text))!;
    for (const id of shared.ids) q.ids.add(id);
    for (const n of shared.norms) q.norms.add(n);
  }
  const corpus = input.corpus ? await input.corpus() : { items: [...positives.values()], source: `the ${positives.size} distinct training positives` };
  const { byQuery, mined } = mineWithBm25(queries, corpus.items, input.params);
  const result: MinedNegatives = {
    byQuery,
    queries: queries.size,
    mined,
    corpusItems: corpus.items.length,
    corpusSource: corpus.source,
    ms: performance.now() - t0,
    fromCache: false,
    cacheFile: null,
    ...(notices.length ? { notice: `${notices.join('; ')}: mined again` } : {}),
  };
  result.cacheFile = writeCache(places, identity, result);
  return result;
}

/** One line for the run log and the CLI: how many were mined, from what, how long it took, and the cache. */
export function describeMined(m: MinedNegatives, params: HardNegativesConfig): string {
  const how = m.fromCache ? `read from ${m.cacheFile} (mined in ${(m.ms / 1000).toFixed(1)} s)` : `mined in ${(m.ms / 1000).toFixed(1)} s`;
  const cache = m.fromCache ? '' : m.cacheFile ? `, cached in ${m.cacheFile}` : ', not cached (no writable place)';
  return (
    `hard negatives: ${m.mined} BM25 negatives for ${m.queries} training queries (perQuery ${params.perQuery}, skipTop ${params.skipTop}) ` +
    `from ${m.corpusSource} (${m.corpusItems} items), ${how}${cache}`
  );
}
