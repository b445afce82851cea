/**
 * BM25 (src/core/lexical/bm25Index.ts) from the bundled example to a million items, on real and synthetic text.
 *
 *  example    the bundled example (examples/shop/data: 6,120 items, its 1,613 test queries);
 *  pycode     the BEIR set `--pycode` (default /work/shared/datasets/pycode: 50,829 Python functions from Debian
 *             packages, title + text as evaluation indexes them; 5,000 docstring queries) as it is;
 *  real       the same set grown to `--items` by a seeded perturbation: the original items, then copies in which
 *             each word is kept with probability 0.8 and otherwise replaced by a word drawn from the corpus's own
 *             word distribution (every token of the original corpus equally likely, so the Zipfian head of real
 *             code — `self`, `return`, `if`, `none` — keeps its long posting lists). The queries are the set's real
 *             queries (all 5,000, cycled to `--queries` if more are asked for);
 *  synthetic  `--items` texts of 15–40 words drawn from a 50k-word Zipf-like vocabulary (the generator of
 *             `npm run bench:eval -- --parts million`, bench/support/syntheticText.ts), and `--queries` queries
 *             of 3 words of a random item.
 *
 * Each corpus runs in its own child process (peak RSS = that child's VmHWM): the texts stream into the index
 * builder 5,000 at a time (generation time is not counted in the build), then every query is ranked 100 deep
 * (evaluation.rankCutoff) by each scorer in `--scorers`, query by query with every scorer in turn (so the load
 * weighs on all alike), after an untimed warm-up of every scorer on the first 50 queries:
 *   exhaustive  every posting of every query term (Bm25Index.queryExhaustive; the first `--exhaustive-queries`
 *               queries only, since it is slow on real text): the reference;
 *   pruned      block-max MaxScore whatever the query (Bm25Index.queryPruned, windows of 2^`--window-bits` rows);
 *   auto        what evaluation uses (Bm25Index.query): exhaustive for queries whose lists hold at most
 *               PRUNE_MIN_POSTINGS postings, pruned above;
 *   --threads N the batch search evaluation runs (Bm25Index.searchParallel: this thread and N − 1 worker threads
 *               on the shared index), over every query after the scorers above, compared with `auto`'s rankings;
 *   before      the index of another checkout (`--before <dir>`, e.g. /work/main at the previous commit) built from
 *               the same texts in the same child, ranking with its own query(): "before and after" in one run.
 * Every ranking is compared row for row and score for score with the exhaustive scorer's on the queries both
 * ranked (they must be identical), and the postings each scorer scores are counted.
 *
 *   npm run bench:bm25 [-- --corpora example,pycode,synthetic,real --items 1000000 --queries 5000
 *                          --scorers exhaustive,pruned,auto --exhaustive-queries 500 --window-bits 12
 *                          --before /work/main --threads 2 --pycode /work/shared/datasets/pycode]
 *
 * Wall times are for one run on a shared machine; the load average before → after each child is printed.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseArgs } from 'util';
import seedrandom from 'seedrandom';
import { Bm25Index } from '../src/core/lexical';
import { WINDOW_BITS } from '../src/core/lexical/blockMaxScore';
import { words } from '../src/core/model/featurize';
import { vmHwm } from './support/procStatus';
import { syntheticWordSource } from './support/syntheticText';

const DEPTH = 100;
const CHUNK = 5000;
const SCORERS = ['exhaustive', 'pruned', 'auto', 'before'] as const;
type Scorer = (typeof SCORERS)[number];
const CORPORA = ['example', 'pycode', 'synthetic', 'real'] as const;
type Corpus = (typeof CORPORA)[number];
const EXAMPLE = path.resolve(__dirname, '../examples/shop/data');

/** A scorer: a ranking, and the postings it scored for it. */
interface Ranker {
  rank(text: string, depth: number): { labels: number[]; scores: number[] };
  read(): number;
}

interface ChildOpts {
  corpus: Corpus;
  items: number;
  queries: number;
  scorers: Scorer[];
  /** The exhaustive scorer ranks only the first this many queries (it reads every posting: slow on real text). */
  exhaustiveQueries: number;
  pycode: string;
  windowBits: number;
  /** The checkout whose index is the `before` scorer. */
  before: string | null;
  /** Threads of the batch search (Bm25Index.searchParallel) run after the scorers; 0: none. */
  threads: number;
}

interface ScorerResult {
  scorer: Scorer;
  queries: number;
  ms: number;
  perQuery: { p50: number; p95: number; max: number };
  postingsRead: number;
  /** Queries auto ranked by pruning (the rest exhaustively). */
  prunedQueries: number;
  /** Rankings that differ from the exhaustive scorer's (rows or scores), of those both ranked. */
  mismatches: number;
  compared: number;
  /** Time spent on the queries the exhaustive scorer also ranked (the ratio's numerator). */
  msOnCompared: number;
  /** Median over those queries of this scorer's time / the exhaustive scorer's (robust to a query descheduled). */
  medianRatio: number;
}

interface ChildResult {
  corpus: string;
  items: number;
  queries: number;
  terms: number;
  postings: number;
  buildMs: number;
  /** Peak RSS with the corpus source loaded (the real corpus's words are held to generate its copies). */
  peakBeforeBuild: number;
  peakAfterBuild: number;
  peakAtEnd: number;
  scorers: ScorerResult[];
  /** The batch search of every query on `threads` threads: its time, the threads that ranked, rankings unlike `auto`'s. */
  parallel: { threads: number; used: number; ms: number; mismatches: number | null } | null;
}

function quantile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

/** The texts of the corpus, `CHUNK` at a time, and the queries. */
function corpusSource(o: ChildOpts): { chunks: () => Generator<string[]>; queries: string[] } {
  if (o.corpus === 'example') {
    const jsonl = (file: string) =>
      fs
        .readFileSync(path.join(EXAMPLE, file), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, string>);
    const texts = jsonl('corpus.jsonl').map((d) => d.text);
    return {
      queries: jsonl('test.jsonl').map((q) => q.query),
      *chunks() {
        for (let s = 0; s < texts.length; s += CHUNK) yield texts.slice(s, s + CHUNK);
      },
    };
  }
  if (o.corpus === 'synthetic') {
    const rng = seedrandom('bm25-bench-synthetic');
    const word = syntheticWordSource(rng);
    const queries: string[] = [];
    const plantedOn = new Map<number, number>();
    for (let q = 0; q < o.queries; q++) plantedOn.set(Math.floor(rng() * o.items), q);
    queries.length = o.queries;
    return {
      queries,
      *chunks() {
        for (let s = 0; s < o.items; s += CHUNK) {
          const texts: string[] = [];
          for (let i = s; i < Math.min(o.items, s + CHUNK); i++) {
            const ws = Array.from({ length: 15 + Math.floor(rng() * 26) }, word);
            texts.push(ws.join(' '));
            const q = plantedOn.get(i);
            if (q !== undefined) queries[q] = Array.from({ length: 3 }, () => ws[Math.floor(rng() * ws.length)]).join(' ');
          }
          yield texts;
        }
        // Two items drawn for one query: the later one won; a query left without an item gets a fresh one.
        for (let q = 0; q < o.queries; q++) queries[q] ??= Array.from({ length: 3 }, word).join(' ');
      },
    };
  }
  const docs: string[][] = [];
  for (const line of fs.readFileSync(path.join(o.pycode, 'corpus.jsonl'), 'utf8').split('\n')) {
    if (!line) continue;
    const d = JSON.parse(line) as { title?: string; text: string };
    docs.push(words(`${d.title ?? ''} ${d.text}`));
  }
  const realQueries = fs
    .readFileSync(path.join(o.pycode, 'queries.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => (JSON.parse(l) as { text: string }).text);
  const tokens = docs.flat();
  const rng = seedrandom('bm25-bench-real');
  const items = o.corpus === 'pycode' ? docs.length : o.items;
  return {
    queries: Array.from({ length: o.corpus === 'pycode' ? realQueries.length : o.queries }, (_, i) => realQueries[i % realQueries.length]),
    *chunks() {
      for (let s = 0; s < items; s += CHUNK) {
        const texts: string[] = [];
        for (let i = s; i < Math.min(items, s + CHUNK); i++) {
          const doc = docs[i % docs.length];
          texts.push(i < docs.length ? doc.join(' ') : doc.map((w) => (rng() < 0.8 ? w : tokens[Math.floor(rng() * tokens.length)])).join(' '));
        }
        yield texts;
      }
    },
  };
}

async function child(o: ChildOpts): Promise<ChildResult> {
  const src = corpusSource(o);
  const builder = Bm25Index.builder();
  type Module = { Bm25Index?: typeof Bm25Index; default?: { Bm25Index: typeof Bm25Index } };
  const mod = o.before ? ((await import(path.resolve(o.before, 'src/core/lexical/bm25Index.ts'))) as Module) : null;
  const old = mod ? (mod.Bm25Index ?? mod.default!.Bm25Index).builder() : null;
  const peakBeforeBuild = vmHwm(process.pid);
  let buildMs = 0;
  for (const texts of src.chunks()) {
    const t0 = performance.now();
    builder.add(texts);
    buildMs += performance.now() - t0;
    old?.add(texts);
  }
  const t0 = performance.now();
  const index = builder.finish();
  buildMs += performance.now() - t0;
  const before = old?.finish() ?? null;
  const peakAfterBuild = vmHwm(process.pid);
  const read = () => index.lastPostingsRead;
  const rankers: Record<Scorer, Ranker | null> = {
    exhaustive: { rank: (q, d) => index.queryExhaustive(q, d), read },
    pruned: { rank: (q, d) => index.queryPruned(q, d, o.windowBits), read },
    auto: { rank: (q, d) => index.query(q, d), read },
    before: before && { rank: (q, d) => before.query(q, d), read: () => before.lastPostingsRead },
  };
  // Warm-up (the JIT), untimed: every scorer ranks the first 50 queries once.
  const active = o.scorers.filter((sc) => rankers[sc]);
  for (const scorer of active) for (const q of src.queries.slice(0, 50)) rankers[scorer]!.rank(q, DEPTH);
  // Query by query, every scorer in turn, so that the machine's load weighs on all of them alike.
  const runs = active.map((scorer) => {
    const n = scorer === 'exhaustive' ? Math.min(o.exhaustiveQueries, src.queries.length) : src.queries.length;
    return {
      scorer,
      ranker: rankers[scorer]!,
      per: new Float64Array(n),
      out: [] as { labels: number[]; scores: number[] }[],
      postingsRead: 0,
      prunedQueries: 0,
    };
  });
  src.queries.forEach((q, i) => {
    for (const run of runs) {
      if (i >= run.per.length) continue;
      const t = performance.now();
      run.out.push(run.ranker.rank(q, DEPTH));
      run.per[i] = performance.now() - t;
      run.postingsRead += run.ranker.read();
      if (run.scorer === 'auto' && index.lastScorer === 'pruned') run.prunedQueries++;
    }
  });
  const exhaustive = runs.find((r) => r.scorer === 'exhaustive');
  const reference = exhaustive?.out ?? [];
  const scorers: ScorerResult[] = runs.map(({ scorer, per, out, postingsRead, prunedQueries }) => {
    const compared = Math.min(reference.length, out.length);
    const ratios = Float64Array.from({ length: compared }, (_, q) => per[q] / exhaustive!.per[q]).sort();
    const msOnCompared = per.subarray(0, compared).reduce((a, b) => a + b, 0);
    const ms = per.reduce((a, b) => a + b, 0);
    let mismatches = 0;
    for (let q = 0; q < compared; q++) {
      const [a, b] = [reference[q], out[q]];
      if (!(a.labels.length === b.labels.length && a.labels.every((r, j) => r === b.labels[j] && a.scores[j] === b.scores[j]))) mismatches++;
    }
    const sorted = per.slice().sort();
    return {
      scorer,
      queries: per.length,
      ms,
      perQuery: { p50: quantile(sorted, 0.5), p95: quantile(sorted, 0.95), max: sorted[sorted.length - 1] },
      postingsRead,
      prunedQueries,
      mismatches,
      compared,
      msOnCompared,
      medianRatio: compared > 0 ? quantile(ratios, 0.5) : NaN,
    };
  });
  // The batch search as evaluation runs it, on --threads threads, compared query by query with `auto`'s rankings.
  let parallel: ChildResult['parallel'] = null;
  if (o.threads > 0) {
    const t = performance.now();
    const r = await index.searchParallel(src.queries, DEPTH, { threads: o.threads });
    const ms = performance.now() - t;
    const auto = runs.find((x) => x.scorer === 'auto');
    let mismatches: number | null = null;
    if (auto) {
      mismatches = 0;
      auto.out.forEach((a, q) => {
        const labels = Array.from(r.labels.subarray(q * DEPTH, q * DEPTH + a.labels.length));
        const scores = Array.from(r.scores.subarray(q * DEPTH, q * DEPTH + a.labels.length));
        const rest = r.labels[q * DEPTH + a.labels.length];
        if (labels.some((l, j) => l !== a.labels[j]) || scores.some((s, j) => s !== Math.fround(a.scores[j])) || (a.labels.length < DEPTH && rest !== -1))
          mismatches!++;
      });
    }
    parallel = { threads: o.threads, used: r.threads, ms, mismatches };
  }
  const stats = index.stats();
  return {
    parallel,
    corpus: o.corpus,
    items: index.documentCount,
    queries: src.queries.length,
    terms: stats.terms,
    postings: stats.postings,
    buildMs,
    peakBeforeBuild,
    peakAfterBuild,
    peakAtEnd: vmHwm(process.pid),
    scorers,
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      child: { type: 'string' },
      corpora: { type: 'string', default: CORPORA.join(',') },
      items: { type: 'string', default: '1000000' },
      queries: { type: 'string', default: '5000' },
      scorers: { type: 'string', default: 'exhaustive,pruned,auto' },
      'exhaustive-queries': { type: 'string', default: '500' },
      'window-bits': { type: 'string', default: String(WINDOW_BITS) },
      before: { type: 'string' },
      threads: { type: 'string', default: '0' },
      pycode: { type: 'string', default: '/work/shared/datasets/pycode' },
    },
  });
  if (values.child) {
    process.stdout.write(JSON.stringify(await child(JSON.parse(values.child) as ChildOpts)));
    return;
  }
  const count = (name: string, v: string): number => {
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n < 1) throw new Error(`--${name}: a positive integer, got "${v}"`);
    return n;
  };
  const scorers = values.scorers!.split(',') as Scorer[];
  for (const s of scorers) if (!SCORERS.includes(s)) throw new Error(`--scorers: unknown scorer "${s}" (${SCORERS.join(', ')})`);
  if (scorers.includes('before') && !values.before) throw new Error('--scorers before needs --before <checkout>');
  if (values.before && !fs.existsSync(path.join(values.before, 'src/core/lexical/bm25Index.ts')))
    throw new Error(`--before: no src/core/lexical/bm25Index.ts in ${values.before}`);
  const windowBits = count('window-bits', values['window-bits']!);
  if (windowBits < 5 || windowBits > 20) throw new Error(`--window-bits: 5 to 20, got ${windowBits}`);
  const gb = (b: number) => `${(b / 2 ** 30).toFixed(2)} GB`;
  console.log(`bm25 bench: ${os.cpus().length} cores, node ${process.version}`);
  for (const corpus of values.corpora!.split(',') as Corpus[]) {
    if (!CORPORA.includes(corpus)) throw new Error(`--corpora: unknown corpus "${corpus}" (${CORPORA.join(', ')})`);
    if ((corpus === 'real' || corpus === 'pycode') && !fs.existsSync(path.join(values.pycode!, 'corpus.jsonl'))) {
      console.log(`\n${corpus}: skipped, no BEIR set at ${values.pycode} (--pycode <folder>)`);
      continue;
    }
    const opts: ChildOpts = {
      corpus,
      items: count('items', values.items!),
      queries: count('queries', values.queries!),
      scorers,
      exhaustiveQueries: count('exhaustive-queries', values['exhaustive-queries']!),
      pycode: values.pycode!,
      windowBits,
      before: values.before ? path.resolve(values.before) : null,
      threads: Number(values.threads) >= 1 ? count('threads', values.threads!) : 0,
    };
    const load0 = os.loadavg()[0];
    const t0 = performance.now();
    const r = spawnSync(process.execPath, ['--max-old-space-size=8192', '--import', 'tsx', __filename, '--child', JSON.stringify(opts)], {
      encoding: 'utf8',
      maxBuffer: 1 << 24,
    });
    const load1 = os.loadavg()[0];
    if (r.status !== 0) {
      console.log(`\n${corpus}: failed (exit ${r.status ?? r.signal}): ${r.stderr.trim().split('\n').slice(-5).join(' | ')}`);
      continue;
    }
    const x = JSON.parse(r.stdout) as ChildResult;
    console.log(
      `\n${corpus}: ${x.items.toLocaleString('en')} items, ${x.terms.toLocaleString('en')} terms, ${x.postings.toLocaleString('en')} postings; ` +
        `${x.queries.toLocaleString('en')} queries ranked ${DEPTH} deep (load ${load0.toFixed(1)} → ${load1.toFixed(1)}, child ${((performance.now() - t0) / 1000).toFixed(0)} s)`,
    );
    console.log(
      `  build (streamed, ${CHUNK} texts a batch, + inversion): ${(x.buildMs / 1000).toFixed(1)} s; peak RSS with the source loaded ${gb(x.peakBeforeBuild)}, after build ${gb(x.peakAfterBuild)}, at the end ${gb(x.peakAtEnd)}`,
    );
    const reference = x.scorers.find((s) => s.scorer === 'exhaustive');
    for (const s of x.scorers)
      console.log(
        `  ${s.scorer.padEnd(10)} ${s.queries} queries in ${(s.ms / 1000).toFixed(2)} s = ${(s.ms / s.queries).toFixed(2)} ms/query ` +
          `(p50 ${s.perQuery.p50.toFixed(2)}, p95 ${s.perQuery.p95.toFixed(2)}, max ${s.perQuery.max.toFixed(1)} ms); ` +
          `postings scored ${(s.postingsRead / s.queries).toFixed(0)} a query` +
          (s.scorer === 'auto' ? `; ${s.prunedQueries} queries pruned` : '') +
          (reference && s !== reference && s.compared > 0
            ? `; on the ${s.compared} queries the exhaustive scorer ranked: ×${(s.msOnCompared / reference.msOnCompared).toFixed(2)} its time ` +
              `(median per query ×${s.medianRatio.toFixed(2)}), ${s.mismatches} rankings differ`
            : ''),
      );
    if (x.parallel)
      console.log(
        `  parallel   ${x.queries} queries on ${x.parallel.threads} threads (${x.parallel.used} ranked) in ${(x.parallel.ms / 1000).toFixed(2)} s = ` +
          `${(x.parallel.ms / x.queries).toFixed(2)} ms/query` +
          (x.parallel.mismatches === null ? '' : `; ${x.parallel.mismatches} rankings differ from auto's`),
      );
  }
}

void main();
