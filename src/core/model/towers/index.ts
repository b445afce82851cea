/**
 * Tower presets (model.preset; docs/towers.md): the dispatch point between the tower designs of the compared
 * systems. Each design lives in its own module beside this one; the item tower is the DSSM tower in every preset.
 *   "dssm"   (dssm.ts): one bag of words + trigrams → MLP → one query embedding, dot-product score.
 *   "dpsr"   (dpsr.ts): the DSSM bag → MLP with K output layers → K query embeddings, DPSR's attention score.
 *   "mgdspr" (mgdspr.ts): three bags (unigrams, bigrams, whole query) concatenated with their mix → MLP → one
 *            query embedding, dot-product score.
 * A preset decides how a query is featurised and becomes the MLP's input (queryFeaturizer, queryInputDim,
 * queryBagSeqs, queryTowerInput), how many embeddings the query tower gives (queryHeadsOf) and how a batch is
 * scored (batchScorer).
 */
import type { ModelConfig, TowerPreset } from '../../config/types';
import { featurize, featurizeOptions } from '../featurize';
import { dotBatchScores } from './dssm';
import { dpsrBatchScores } from './dpsr';
import { towerPreset } from './presets';
import { granules, MGDSPR_GRANULES, MGDSPR_PARTS, mgdsprMix, mgdsprMixBackward, mgdsprQueryFeatures } from './mgdspr';

export type { TowerPreset } from '../../config/types';
export { DPSR_DEFAULT_HEADS, queryHeadsOf, TOWER_PRESETS, towerPreset, towerPresetProblems, type TowerProblem } from './presets';

/** A scored batch for the trainer (trainStep.ts) and its backward to the tower outputs. */
export interface BatchScores {
  /** [2B × N]: sQV (query-anchored scores) then sVV = ⟨v_j, items⟩. */
  scores: Float32Array;
  /** [B] s(q_j, v_j). */
  pos: Float64Array;
  /** ∂L/∂scores, ∂L/∂pos → ∂L/∂(query tower output) [B × K·D] and ∂L/∂items [N × D]. */
  backward(dScores: Float32Array, dPos: Float64Array): { dQ: Float32Array; dItems: Float32Array };
}

/** How a batch is scored: dot products for one head, DPSR's attention score for K > 1 heads. */
export function batchScorer(K: number): (eQ: Float32Array, eI: Float32Array, B: number, N: number, D: number) => BatchScores {
  return K === 1 ? dotBatchScores : (eQ, eI, B, N, D) => dpsrBatchScores(eQ, eI, B, K, N, D);
}

/**
 * Feature ids of a query text under a model config (packed granules for "mgdspr"); `preset` the tower's that
 * encodes them (a loaded checkpoint's `params.preset`), by default the config's.
 */
export function queryFeaturizer(model: ModelConfig, preset: TowerPreset = towerPreset(model)): (text: string) => Int32Array {
  const opts = featurizeOptions(model, 'query');
  return preset === 'mgdspr' ? (t) => mgdsprQueryFeatures(t, opts) : (t) => featurize(t, opts);
}

/** Width of the query MLP's input for embedding width E. */
export function queryInputDim(preset: TowerPreset, E: number): number {
  return preset === 'mgdspr' ? MGDSPR_PARTS * E : E;
}

/** Bags per query. */
export function queryBagsPerQuery(preset: TowerPreset): number {
  return preset === 'mgdspr' ? MGDSPR_GRANULES : 1;
}

/** The bags of queries' features, `queryBagsPerQuery` consecutive bags per query. */
export function queryBagSeqs(preset: TowerPreset, feats: Int32Array[]): Int32Array[] {
  return preset === 'mgdspr' ? feats.flatMap((f) => granules(f)) : feats;
}

/** The MLP input of `rows` queries from their bags ([rows × bagsPerQuery·E]); the bags themselves otherwise. */
export function queryTowerInput(preset: TowerPreset, bags: Float32Array, rows: number, E: number): Float32Array {
  return preset === 'mgdspr' ? mgdsprMix(bags, rows, E) : bags;
}

/** Backward of queryTowerInput: ∂L/∂bags from ∂L/∂input. */
export function queryTowerInputBackward(preset: TowerPreset, dx: Float32Array, rows: number, E: number): Float32Array {
  return preset === 'mgdspr' ? mgdsprMixBackward(dx, rows, E) : dx;
}
