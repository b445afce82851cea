/**
 * The tower presets and their config rules, without the towers' numerics (no tfjs): config loading
 * (src/core/config/loadConfig.ts) runs in the extension host, which must never load tfjs or faiss
 * (test/unit/extension.manifest.test.ts). The towers themselves are in index.ts, dssm.ts, dpsr.ts, mgdspr.ts.
 */
import type { ModelConfig, TowerPreset } from '../../config/types';

/** DPSR's default number of query heads (model.queryHeads). */
export const DPSR_DEFAULT_HEADS = 2;

/** The presets this build trains. */
export const TOWER_PRESETS: readonly TowerPreset[] = ['dssm', 'dpsr', 'mgdspr'];

/**
 * The preset of a model config (or a checkpoint's); "dssm" for configs and checkpoints written before presets
 * existed. Throws on a value that is not a preset (a hand-edited checkpoint; configs are checked by their schema).
 */
export function towerPreset(model: Partial<Pick<ModelConfig, 'preset'>>): TowerPreset {
  const p = model.preset ?? 'dssm';
  if (!TOWER_PRESETS.includes(p)) throw new Error(`${JSON.stringify(p)} is not a tower preset (${TOWER_PRESETS.map((t) => `"${t}"`).join(', ')})`);
  return p;
}

/** Embeddings the query tower gives per query: model.queryHeads (default 2) with dpsr, else 1. */
export function queryHeadsOf(model: Partial<Pick<ModelConfig, 'preset' | 'queryHeads'>>): number {
  return towerPreset(model) === 'dpsr' ? (model.queryHeads ?? DPSR_DEFAULT_HEADS) : 1;
}

/** A config problem of the model section: where (JSON path segments) and what. */
export interface TowerProblem {
  segments: string[];
  message: string;
}

/** Combinations of model keys that make no sense, every problem located at its key (loadConfig.ts reports them). */
export function towerPresetProblems(model: ModelConfig): TowerProblem[] {
  const problems: TowerProblem[] = [];
  const preset = towerPreset(model);
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
  if (preset === 'mgdspr' && model.sharedTowers)
    problems.push({
      segments: ['model', 'sharedTowers'],
      message: 'the "mgdspr" query tower has its own input layer (4 × embeddingDim), so towers cannot be shared: set model.sharedTowers to false',
    });
  return problems;
}
