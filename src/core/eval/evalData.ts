import seedrandom from 'seedrandom';
import type { LoadedConfig } from '../config/types';
import { collectQrels, DataError, loadExamples } from '../data';
import { fileCorpus, memoryCorpus, type EvalCorpus } from './evalCorpus';
import type { Example, Item, SourceLocation } from '../data/types';

/** A test query with where it came from. */
export interface EvalQuery {
  id: string;
  text: string;
  source: SourceLocation;
}

/** Everything an evaluation needs from the data files. */
export interface EvalData {
  queries: EvalQuery[];
  qrels: Map<string, Set<string>>;
  /** The corpus: ids and sources in memory, texts streamed from its file (see EvalCorpus). */
  corpus: EvalCorpus;
  queriesSource: string;
  corpusSource: string;
  /** Decisions worth telling the user (e.g. positives added to the corpus). */
  notes: string[];
}

function itemsOf(examples: Example[]): Item[] {
  return examples.flatMap((e) => [e.positive, ...e.negatives]);
}

/** First occurrence of each id wins (and keeps its location). */
function dedupeItems(items: Item[]): Item[] {
  const byId = new Map<string, Item>();
  for (const it of items) if (!byId.has(it.id)) byId.set(it.id, it);
  return [...byId.values()];
}

/**
 * Loads test queries, qrels and the corpus. The corpus is `data.corpus` when set, the BEIR corpus for
 * BEIR test data (both streamed from their file: only ids and line numbers stay in memory), and otherwise
 * every item seen in the train and test data. Relevant items missing from the corpus are added to it (with
 * a note), so every query can be answered.
 */
export async function loadEvalData(loaded: LoadedConfig, opts: { testPath?: string } = {}): Promise<EvalData> {
  const cfg = loaded.config;
  const testPath = opts.testPath ?? cfg.data.test;
  if (!testPath) throw new DataError(`no test data: set data.test in ${loaded.path} or pass --data`, loaded.path);
  const common = { maxBadLineShare: cfg.data.maxBadLineShare, baseDir: loaded.baseDir };
  const fields = cfg.data.fields ? { fields: cfg.data.fields } : {};
  const test = await loadExamples({
    ...common,
    path: testPath,
    format: opts.testPath ? 'auto' : cfg.data.format,
    ...fields,
    split: cfg.data.testSplit,
    label: opts.testPath ? '--data' : 'data.test',
  });
  const notes: string[] = [];
  const missingOf = (known: ReadonlySet<string>): Item[] => {
    const missing = dedupeItems(test.examples.map((e) => e.positive).filter((p) => !known.has(p.id)));
    if (missing.length > 0) notes.push(`${missing.length} relevant items of the test data were not in the corpus and were added (first: ${missing[0].id})`);
    return missing;
  };
  let corpus: EvalCorpus;
  let corpusSource: string;
  if (cfg.data.corpus || test.report.format === 'beir') {
    const spec = cfg.data.corpus
      ? { ...common, path: cfg.data.corpus, label: 'data.corpus' }
      : { ...common, path: test.report.path, format: 'beir' as const, label: 'data.test' };
    const c = await fileCorpus(spec, missingOf);
    corpus = c.corpus;
    corpusSource = c.report.path;
  } else {
    const train = await loadExamples({ ...common, path: cfg.data.train, format: cfg.data.format, ...fields, split: cfg.data.trainSplit, label: 'data.train' });
    const items = dedupeItems([...itemsOf(train.examples), ...itemsOf(test.examples)]);
    corpusSource = `items of ${train.report.path} and ${test.report.path}`;
    notes.push(`no data.corpus: the corpus is the ${items.length} distinct items of the train and test data`);
    corpus = memoryCorpus([...items, ...missingOf(new Set(items.map((i) => i.id)))]);
  }
  const queries = new Map<string, EvalQuery>();
  for (const e of test.examples) if (!queries.has(e.queryId)) queries.set(e.queryId, { id: e.queryId, text: e.query, source: e.source });
  return { queries: [...queries.values()], qrels: collectQrels(test.examples), corpus, queriesSource: test.report.path, corpusSource, notes };
}

/** A seeded subset of n queries (all when n ≥ the count), in their original order. */
export function subsetQueries(data: EvalData, n: number, seed: number): EvalData {
  if (n >= data.queries.length) return data;
  const rng = seedrandom.alea(`retrieval-lens-heldout-${seed}`);
  const idx = data.queries.map((_, i) => i);
  for (let i = idx.length - 1; i > 0; i--) {
    const k = Math.floor(rng() * (i + 1));
    [idx[i], idx[k]] = [idx[k], idx[i]];
  }
  const keep = new Set(idx.slice(0, n));
  return { ...data, queries: data.queries.filter((_, i) => keep.has(i)) };
}
