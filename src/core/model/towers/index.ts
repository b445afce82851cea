/**
 * Tower presets (model.preset): the dispatch point between the tower designs of the compared systems. Each design
 * lives in its own module beside this one (dssm.ts: one query embedding, dot-product score; dpsr.ts: DPSR's
 * multi-head query tower and its attention score). A preset decides how many embeddings the query tower gives
 * (queryHeadsOf) and how a batch is scored (batchScorer); the item tower is the DSSM tower in every preset.
 */
import type { ModelConfig, TowerPreset } from '../../config/types';
import { dotBatchScores } from './dssm';
import { DPSR_DEFAULT_HEADS, dpsrBatchScores } from './dpsr';

/** A scored batch for the trainer (trainStep.ts) and its backward to the tower outputs. */
export interface BatchScores {
  /** [2B × N]: sQV (query-anchored scores) then sVV = ⟨v_j, items⟩. */
  scores: Float32Array;
  /** [B] s(q_j, v_j). */
  pos: Float64Array;
  /** ∂L/∂scores, ∂L/∂pos → ∂L/∂(query tower output) [B × K·D] and ∂L/∂items [N × D]. */
  backward(dScores: Float32Array, dPos: Float64Array): { dQ: Float32Array; dItems: Float32Array };
}

/** The preset of a model config; "dssm" for configs and checkpoints written before presets existed. */
export function presetOf(model: Partial<Pick<ModelConfig, 'preset'>>): TowerPreset {
  return model.preset ?? 'dssm';
}

/** Embeddings the query tower gives per query: model.queryHeads (default 2) with dpsr, else 1. */
export function queryHeadsOf(model: Partial<Pick<ModelConfig, 'preset' | 'queryHeads'>>): number {
  return presetOf(model) === 'dpsr' ? (model.queryHeads ?? DPSR_DEFAULT_HEADS) : 1;
}

/** How a batch is scored: dot products for one head, DPSR's attention score for K > 1 heads. */
export function batchScorer(K: number): (eQ: Float32Array, eI: Float32Array, B: number, N: number, D: number) => BatchScores {
  return K === 1 ? dotBatchScores : (eQ, eI, B, N, D) => dpsrBatchScores(eQ, eI, B, K, N, D);
}

/** A config problem of the model section: where (JSON path segments) and what. */
export interface TowerProblem {
  segments: string[];
  message: string;
}

/** Presets this build trains; every problem located at its key (loadConfig.ts reports them). */
export function towerPresetProblems(model: ModelConfig): TowerProblem[] {
  const problems: TowerProblem[] = [];
  const preset = presetOf(model);
  if (preset === 'mgdspr') problems.push({ segments: ['model', 'preset'], message: '"mgdspr" is not available in this build (use "dssm" or "dpsr")' });
  if (model.queryHeads !== undefined && preset !== 'dpsr')
    problems.push({
      segments: ['model', 'queryHeads'],
      message: `is used only with model.preset "dpsr" (preset is "${preset}"): remove it or set the preset to "dpsr"`,
    });
  if (preset === 'dpsr' && model.sharedTowers)
    problems.push({
      segments: ['model', 'sharedTowers'],
      message: 'cannot be true with model.preset "dpsr": the multi-head query tower and the one-embedding item tower differ',
    });
  return problems;
}
