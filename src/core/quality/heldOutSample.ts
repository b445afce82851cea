/**
 * The held-out sample of live evaluation during training, prepared once per run: `heldOutQueries` seeded test
 * queries, the corpus sampled to at most `heldOutCorpus` items (seeded; every relevant item of the sampled
 * queries kept, so no query loses its answer to the sampling) and held in memory, and BM25 on that same
 * sample as the lexical reference (k1 1.2, b 0.75; computed once: it does not change while the model trains).
 */
import seedrandom from 'seedrandom';
import type { LoadedConfig } from '../config/types';
import { loadEvalData, subsetQueries, type EvalData } from '../eval/evalData';
import { memoryCorpus } from '../eval/evalCorpus';
import { metricValues } from '../eval/evaluate';
import type { MetricValues } from '../eval/types';
import { Bm25Index } from '../lexical';
import { evaluateRetrieval } from '../eval/retrievalMetrics';
import { resultToRankings } from '../vectorIndex';

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
  /** Wall time of the preparation (loading, sampling, BM25), ms. */
  prepMs: number;
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
  const result = index.search(
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

/** Loads the test data and prepares the sample (see the file comment). */
export async function prepareHeldOut(loaded: LoadedConfig): Promise<HeldOutSample> {
  const t0 = performance.now();
  const ev = loaded.config.evaluation;
  const seed = loaded.config.training.seed;
  const all = subsetQueries(await loadEvalData(loaded), ev.heldOutQueries, seed);
  const positives = new Set<string>();
  for (const q of all.queries) for (const id of all.qrels.get(q.id) ?? []) positives.add(id);
  const total = all.corpus.count;
  const rows = sampleRows(all.corpus.ids, positives, ev.heldOutCorpus, seed);
  const corpus = memoryCorpus(await all.corpus.items(rows)); // in memory: every evaluation reads it again
  const data: EvalData = { ...all, corpus };
  const bm25 = await bm25Metrics(data);
  return {
    data,
    info: {
      queries: data.queries.length,
      corpus: corpus.count,
      corpusTotal: total,
      sampled: corpus.count < total,
      description: describeHeldOut(data.queries.length, corpus.count, total),
    },
    bm25,
    prepMs: performance.now() - t0,
  };
}
