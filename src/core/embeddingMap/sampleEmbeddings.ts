/**
 * The points of an embedding map: a seeded sample of corpus items (item tower) and test queries (query
 * tower) of a run's checkpoint, each with its text, source line and, for a query, its triage label in the
 * latest evaluation's exact search (or "ok" when it did not fail).
 */
import * as path from 'path';
import seedrandom from 'seedrandom';
import type { SourceLocation } from '../data/types';
import { loadEvalData } from '../eval/evalData';
import { EVAL_DIR, FAILURES_FILE, readFailuresFile } from '../eval/evalOutputs';
import { chooseCheckpoint, loadRunConfig } from '../eval/evaluateRun';
import { loadCheckpoint } from '../model/checkpoint';
import { encodeFeatures } from '../model/encode';
import { featurize, featurizeOptions } from '../model/featurize';
import { queryFeaturizer } from '../model/towers';

export interface MapPoint {
  kind: 'item' | 'query';
  id: string;
  text: string;
  source: SourceLocation;
  /** Queries: triage label of the latest evaluation's exact search, or "ok"; items: "". */
  label: string;
}

export interface SampledEmbeddings {
  step: number;
  checkpoint: 'last' | 'best';
  dim: number;
  /** Row-major points × dim, unit rows. */
  vectors: Float32Array;
  points: MapPoint[];
}

/** `k` indices of 0..n−1, seeded, in ascending order (all when k ≥ n). */
function sampleIndices(n: number, k: number, seed: string): number[] {
  if (k >= n) return Array.from({ length: n }, (_, i) => i);
  const rng = seedrandom(seed);
  const idx = Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(rng() * (n - i));
    [idx[i], idx[j]] = [idx[j], idx[i]];
  }
  return idx.slice(0, k).sort((a, b) => a - b);
}

/** Encodes a seeded sample of `items` corpus items and `queries` test queries with a run's checkpoint. Needs an initialised tfjs backend. */
export async function sampleEmbeddings(o: {
  runDir: string;
  checkpoint?: 'last' | 'best';
  items: number;
  queries: number;
  seed?: string;
}): Promise<SampledEmbeddings> {
  const loaded = loadRunConfig(o.runDir);
  const ckpt = chooseCheckpoint(o.runDir, o.checkpoint);
  const { params, info } = loadCheckpoint(ckpt.dir);
  const data = await loadEvalData(loaded);
  const seed = o.seed ?? 'retrieval-lens-map';
  const items = await data.corpus.items(sampleIndices(data.corpus.count, o.items, `${seed}-items`));
  const queries = sampleIndices(data.queries.length, o.queries, `${seed}-queries`).map((i) => data.queries[i]);
  const labels = new Map<string, string>();
  const failuresFile = path.join(o.runDir, EVAL_DIR, FAILURES_FILE);
  for (const f of readFailuresFile(failuresFile)?.records ?? []) labels.set(f.queryId, f.label);
  const model = loaded.config.model;
  const itemEmb = encodeFeatures(
    params,
    'item',
    items.map((it) => featurize(it.text, featurizeOptions(model, 'item'))),
  );
  const heads = encodeFeatures(
    params,
    'query',
    queries.map((q) => queryFeaturizer(model, params.preset ?? 'dssm')(q.text)),
  );
  const dim = params.dims.out;
  // A DPSR query tower gives K unit vectors per query (model/towers/dpsr.ts): the map places a query by its first head.
  const K = heads.length / Math.max(1, queries.length * dim);
  const queryEmb = K > 1 ? Float32Array.from({ length: queries.length * dim }, (_, i) => heads[Math.floor(i / dim) * K * dim + (i % dim)]) : heads;
  const vectors = new Float32Array((items.length + queries.length) * dim);
  vectors.set(itemEmb, 0);
  vectors.set(queryEmb, items.length * dim);
  const points: MapPoint[] = [
    ...items.map((it) => ({ kind: 'item' as const, id: it.id, text: it.text, source: it.source, label: '' })),
    ...queries.map((q) => ({ kind: 'query' as const, id: q.id, text: q.text, source: q.source, label: labels.get(q.id) ?? (labels.size > 0 ? 'ok' : '') })),
  ];
  return { step: info.step, checkpoint: ckpt.kind, dim, vectors, points };
}
