import type { ModelConfig } from '../../config/types';
import { featurize, featurizeOptions } from '../featurize';
import { granules, MGDSPR_GRANULES, MGDSPR_PARTS, mgdsprMix, mgdsprMixBackward, mgdsprQueryFeatures } from './mgdspr';

/**
 * The query towers (model.preset; docs/towers.md): how a query is featurised, into which bags, and how the bags
 * become the input of the tower's MLP. "dssm": one bag of words + trigrams, the MLP's input is the bag. "mgdspr":
 * three bags (mgdspr.ts), the MLP's input their concatenation and mix. The item tower is always DSSM.
 */
export type TowerPreset = 'dssm' | 'mgdspr';

/** The preset a model config (or a checkpoint's, written before presets existed: "dssm") trains. */
export function towerPreset(model: Pick<ModelConfig, 'preset'>): TowerPreset {
  const p = model.preset ?? 'dssm';
  if (p === 'dpsr') throw new Error(presetMessages.dpsr);
  return p;
}

const presetMessages = {
  dpsr: '"dpsr" (the multi-head query tower) is not in this build: use "dssm" or "mgdspr"',
  shared: 'the "mgdspr" query tower has its own input layer (4 × embeddingDim), so towers cannot be shared: set model.sharedTowers to false',
};

/** A model config's preset problem, at its key under `model`, or undefined. */
export function modelPresetProblem(model: Pick<ModelConfig, 'preset' | 'sharedTowers'>): { key: 'preset' | 'sharedTowers'; message: string } | undefined {
  if (model.preset === 'dpsr') return { key: 'preset', message: presetMessages.dpsr };
  if (model.preset === 'mgdspr' && model.sharedTowers) return { key: 'sharedTowers', message: presetMessages.shared };
  return undefined;
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

/** The MLP input of `rows` queries from their bags ([rows × bagsPerQuery·E]); the bags themselves for "dssm". */
export function queryTowerInput(preset: TowerPreset, bags: Float32Array, rows: number, E: number): Float32Array {
  return preset === 'mgdspr' ? mgdsprMix(bags, rows, E) : bags;
}

/** Backward of queryTowerInput: ∂L/∂bags from ∂L/∂input. */
export function queryTowerInputBackward(preset: TowerPreset, dx: Float32Array, rows: number, E: number): Float32Array {
  return preset === 'mgdspr' ? mgdsprMixBackward(dx, rows, E) : dx;
}
