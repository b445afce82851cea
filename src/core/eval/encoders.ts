/**
 * Where an evaluation's embeddings come from: the two towers of a checkpoint (featurised texts through the
 * towers), or precomputed vectors of any encoder (`--embeddings DIR`, looked up by query and item id).
 */
import type { ModelConfig } from '../config/types';
import type { Item } from '../data/types';
import { encodeFeatures } from '../model/encode';
import { featurize, featurizeOptions } from '../model/featurize';
import { queryFeaturizer } from '../model/towers';
import type { TwoTowerParams } from '../model/params';
import { headsOf } from '../model/towerForward';
import type { EvalData, EvalQuery } from './evalData';
import type { EmbeddingMatrix, EmbeddingsSet } from './embeddingsDir';
import type { TowerLimits } from './triage';

export interface EvalEncoder {
  readonly dim: number;
  /**
   * Embeddings per query (K heads of a DPSR query tower, model/towers/dpsr.ts; absent: 1): `queries` then gives
   * K unit rows of `dim` per query, [queries.length, K·dim], and evaluate.ts searches and merges them.
   */
  readonly queryHeads?: number;
  /** The feature limits the triage's "truncated" label checks (none for an encoder of unknown tokenisation). */
  readonly limits: TowerLimits;
  /** Embeddings of a batch of corpus items, row-major [batch.length, dim]. */
  items(batch: readonly Item[]): Float32Array;
  /** Embeddings of the test queries, row-major [queries.length, dim]. */
  queries(queries: readonly EvalQuery[], onProgress?: (done: number, total: number) => void): Float32Array;
}

/** The checkpoint's towers (featurize.ts + encode.ts). */
export function towerEncoder(params: TwoTowerParams, model: ModelConfig): EvalEncoder {
  const queryFeats = queryFeaturizer(model, params.preset ?? 'dssm');
  const iOpts = featurizeOptions(model, 'item');
  return {
    dim: params.dims.out,
    queryHeads: headsOf(params.query.dense, params.dims),
    limits: { maxQueryTokens: model.maxQueryTokens, maxItemTokens: model.maxItemTokens, charTrigrams: model.charTrigrams },
    items: (batch) =>
      encodeFeatures(
        params,
        'item',
        batch.map((it) => featurize(it.text, iOpts)),
      ),
    queries: (queries, onProgress) =>
      encodeFeatures(
        params,
        'query',
        queries.map((q) => queryFeats(q.text)),
        { onProgress },
      ),
  };
}

/** Token limits of an encoder the evaluation knows nothing about: no word counts as cut off. */
export const NO_TOKEN_LIMITS: TowerLimits = { maxQueryTokens: 2 ** 31 - 1, maxItemTokens: 2 ** 31 - 1, charTrigrams: false };

function rows(m: EmbeddingMatrix, ids: readonly string[]): Float32Array {
  const out = new Float32Array(ids.length * m.dim);
  ids.forEach((id, k) => out.set(m.data.subarray(m.rowOf.get(id)! * m.dim, (m.rowOf.get(id)! + 1) * m.dim), k * m.dim));
  return out;
}

/**
 * Precomputed embeddings for the evaluation's test queries and corpus, looked up by id. Every test query and
 * every corpus item must have a row: the first that has none is reported with its source line and the count.
 * Rows of other ids are left out (`log` says how many).
 */
export function embeddingsEncoder(set: EmbeddingsSet, data: EvalData, log: (m: string) => void = () => undefined): EvalEncoder {
  const missingQueries = data.queries.filter((q) => !set.queries.rowOf.has(q.id));
  if (missingQueries.length > 0) {
    const q = missingQueries[0];
    throw new Error(
      `${set.queries.idsFile}: no embedding for test query ${JSON.stringify(q.id)} (${q.source.file}:${q.source.line}); ${missingQueries.length} of the ${data.queries.length} test queries have none`,
    );
  }
  const ids = data.corpus.ids;
  const missing = ids.map((id, row) => (set.items.rowOf.has(id) ? -1 : row)).filter((r) => r >= 0);
  if (missing.length > 0) {
    const src = data.corpus.source(missing[0]);
    throw new Error(
      `${set.items.idsFile}: no embedding for corpus item ${JSON.stringify(ids[missing[0]])} (${src.file}:${src.line}); ${missing.length} of the ${ids.length} corpus items have none`,
    );
  }
  const extraQueries = set.queries.ids.length - data.queries.length;
  const extraItems = set.items.ids.length - ids.length;
  if (extraQueries > 0 || extraItems > 0)
    log(`embeddings of ${extraQueries} queries and ${extraItems} items that are not in the test data or corpus were left out`);
  return {
    dim: set.items.dim,
    limits: NO_TOKEN_LIMITS,
    items: (batch) =>
      rows(
        set.items,
        batch.map((it) => it.id),
      ),
    queries: (queries, onProgress) => {
      const out = rows(
        set.queries,
        queries.map((q) => q.id),
      );
      onProgress?.(queries.length, queries.length);
      return out;
    },
  };
}
