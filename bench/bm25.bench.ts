/**
 * BM25 (src/core/lexical/bm25Index.ts) at a million items, on synthetic text and on real text.
 *
 *  synthetic  `--items` texts of 15–40 words drawn from a 50k-word Zipf-like vocabulary (the generator of
 *             `npm run bench:eval -- --parts million`, bench/support/syntheticText.ts), and `--queries` queries
 *             of 3 words of a random item;
 *  real       the BEIR set `--pycode` (default /work/shared/datasets/pycode: 50,829 Python functions from Debian
 *             packages, title + text as evaluation indexes them; 5,000 docstring queries) grown to `--items` by a
 *             seeded perturbation: the original items, then copies in which each word is kept with probability
 *             0.8 and otherwise replaced by a word drawn from the corpus's own word distribution (every token of
 *             the original corpus equally likely, so the Zipfian head of real code — `self`, `return`, `if`,
 *             `none` — keeps its long posting lists). The queries are the set's real queries (all 5,000, cycled
 *             to `--queries` if more are asked for).
 *
 * Each corpus runs in its own child process (peak RSS = that child's VmHWM): the texts stream into the index
 * builder 5,000 at a time (generation time is not counted in the build), then every query is ranked 100 deep
 * (evaluation.rankCutoff) by each scorer in `--scorers`: `maxscore` (dynamic pruning, Bm25Index.query, what
 * evaluation uses) and `exhaustive` (every posting of every query term, Bm25Index.queryExhaustive; on the first
 * `--exhaustive-queries` only, since it is slow on real text); the rankings of the queries both ranked are
 * compared row for row and score for score (they must be identical) and the postings each scorer scores are counted.
 *
 *   npm run bench:bm25 [-- --corpora synthetic,real --items 1000000 --queries 5000 --scorers exhaustive,maxscore
 *                          --exhaustive-queries 500 --pycode /work/shared/datasets/pycode]
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
import { words } from '../src/core/model/featurize';
import { vmHwm } from './support/procStatus';
import { syntheticWordSource } from './support/syntheticText';

const DEPTH = 100;
const CHUNK = 5000;
type Scorer = 'exhaustive' | 'maxscore';

interface ChildOpts {
  corpus: 'synthetic' | 'real';
  items: number;
  queries: number;
  scorers: Scorer[];
  /** The exhaustive scorer ranks only the first this many queries (it reads every posting: slow on real text). */
  exhaustiveQueries: number;
  pycode: string;
}

interface ScorerResult {
  scorer: Scorer;
  queries: number;
  ms: number;
  perQuery: { p50: number; p95: number; max: number };
  postingsRead: number;
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
  /** Queries ranked by both scorers, and those whose rankings differ (rows or scores). */
  compared: number;
  mismatches: number;
}

function quantile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

/** The texts of the corpus, `CHUNK` at a time, and the queries. */
function corpusSource(o: ChildOpts): { chunks: () => Generator<string[]>; queries: string[] } {
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
  return {
    queries: Array.from({ length: o.queries }, (_, i) => realQueries[i % realQueries.length]),
    *chunks() {
      for (let s = 0; s < o.items; s += CHUNK) {
        const texts: string[] = [];
        for (let i = s; i < Math.min(o.items, s + CHUNK); i++) {
          const doc = docs[i % docs.length];
          texts.push(i < docs.length ? doc.join(' ') : doc.map((w) => (rng() < 0.8 ? w : tokens[Math.floor(rng() * tokens.length)])).join(' '));
        }
        yield texts;
      }
    },
  };
}

function child(o: ChildOpts): ChildResult {
  const src = corpusSource(o);
  const builder = Bm25Index.builder();
  const peakBeforeBuild = vmHwm(process.pid);
  let buildMs = 0;
  for (const texts of src.chunks()) {
    const t0 = performance.now();
    builder.add(texts);
    buildMs += performance.now() - t0;
  }
  const t0 = performance.now();
  const index = builder.finish();
  buildMs += performance.now() - t0;
  const peakAfterBuild = vmHwm(process.pid);
  const rankings: { labels: number[]; scores: number[] }[][] = [];
  const scorers: ScorerResult[] = [];
  for (const scorer of o.scorers) {
    const per = new Float64Array(Math.min(src.queries.length, scorer === 'exhaustive' ? o.exhaustiveQueries : Infinity));
    const out: { labels: number[]; scores: number[] }[] = [];
    let postingsRead = 0;
    const start = performance.now();
    const queries = scorer === 'exhaustive' ? src.queries.slice(0, o.exhaustiveQueries) : src.queries;
    queries.forEach((q, i) => {
      const t = performance.now();
      const r = scorer === 'exhaustive' ? index.queryExhaustive(q, DEPTH) : index.query(q, DEPTH);
      per[i] = performance.now() - t;
      postingsRead += index.lastPostingsRead;
      out.push(r);
    });
    const ms = performance.now() - start;
    per.sort();
    scorers.push({
      scorer,
      queries: queries.length,
      ms,
      perQuery: { p50: quantile(per, 0.5), p95: quantile(per, 0.95), max: per[per.length - 1] },
      postingsRead,
    });
    rankings.push(out);
  }
  let mismatches = 0;
  if (rankings.length === 2) {
    const [a, b] = rankings;
    for (let q = 0; q < Math.min(a.length, b.length); q++) {
      const same = a[q].labels.length === b[q].labels.length && a[q].labels.every((r, j) => r === b[q].labels[j] && a[q].scores[j] === b[q].scores[j]);
      if (!same) mismatches++;
    }
  }
  const stats = index.stats();
  return {
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
    compared: Math.min(...rankings.map((r) => r.length)),
    mismatches,
  };
}

function main(): void {
  const { values } = parseArgs({
    options: {
      child: { type: 'string' },
      corpora: { type: 'string', default: 'synthetic,real' },
      items: { type: 'string', default: '1000000' },
      queries: { type: 'string', default: '5000' },
      scorers: { type: 'string', default: 'exhaustive,maxscore' },
      'exhaustive-queries': { type: 'string', default: '500' },
      pycode: { type: 'string', default: '/work/shared/datasets/pycode' },
    },
  });
  if (values.child) {
    process.stdout.write(JSON.stringify(child(JSON.parse(values.child) as ChildOpts)));
    return;
  }
  const count = (name: string, v: string): number => {
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n < 1) throw new Error(`--${name}: a positive integer, got "${v}"`);
    return n;
  };
  const scorers = values.scorers!.split(',') as Scorer[];
  for (const s of scorers) if (s !== 'exhaustive' && s !== 'maxscore') throw new Error(`--scorers: unknown scorer "${s}" (exhaustive, maxscore)`);
  const gb = (b: number) => `${(b / 2 ** 30).toFixed(2)} GB`;
  console.log(`bm25 bench: ${os.cpus().length} cores, node ${process.version}`);
  for (const corpus of values.corpora!.split(',')) {
    if (corpus !== 'synthetic' && corpus !== 'real') throw new Error(`--corpora: unknown corpus "${corpus}" (synthetic, real)`);
    if (corpus === 'real' && !fs.existsSync(path.join(values.pycode!, 'corpus.jsonl'))) {
      console.log(`\nreal: skipped, no BEIR set at ${values.pycode} (--pycode <folder>)`);
      continue;
    }
    const opts: ChildOpts = {
      corpus,
      items: count('items', values.items!),
      queries: count('queries', values.queries!),
      scorers,
      exhaustiveQueries: count('exhaustive-queries', values['exhaustive-queries']!),
      pycode: values.pycode!,
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
    for (const s of x.scorers)
      console.log(
        `  ${s.scorer.padEnd(10)} ${s.queries} queries in ${(s.ms / 1000).toFixed(2)} s = ${(s.ms / s.queries).toFixed(2)} ms/query ` +
          `(p50 ${s.perQuery.p50.toFixed(2)}, p95 ${s.perQuery.p95.toFixed(2)}, max ${s.perQuery.max.toFixed(1)} ms); ` +
          `postings scored ${(s.postingsRead / s.queries).toFixed(0)} a query`,
      );
    if (x.scorers.length === 2) console.log(`  rankings that differ between the scorers: ${x.mismatches} of the ${x.compared} both ranked`);
  }
}

main();
