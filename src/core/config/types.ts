import type { ConfigProblem } from './configError';
import type { LossConfig } from '../losses/types';
import type { DataFormat, FieldMapping } from '../data/types';
import type { CollapseThresholds } from '../metrics/collapseMonitor';

/** Backend preference: auto = tfjs-node if it loads, else wasm, else cpu. */
export type BackendPreference = 'auto' | 'node' | 'wasm' | 'cpu';

export interface DataConfig {
  train: string;
  test?: string;
  corpus?: string;
  format: DataFormat;
  /** Field mapping for JSONL records of no known shape (see FieldMapping). */
  fields?: FieldMapping;
  trainSplit: string;
  testSplit: string;
  maxBadLineShare: number;
}

export interface ModelConfig {
  vocabBuckets: number;
  embeddingDim: number;
  hiddenDim: number;
  outputDim: number;
  maxQueryTokens: number;
  maxItemTokens: number;
  charTrigrams: boolean;
  sharedTowers: boolean;
}

export interface TrainingConfig {
  batchSize: number;
  learningRate: number;
  steps: number;
  epochs: number | null;
  seed: number;
  logEvery: number;
  checkpointEvery: number;
  effectiveRankEvery: number;
  maxNegativesPerExample: number;
}

export interface EvaluationConfig {
  index: { type: 'IVF-PQ' | 'Flat'; nlist: number; m: number; nbits: number; nprobe: number; trainSample: number | null };
  k: number;
  rankCutoff: number;
  every: number;
  heldOutQueries: number;
  nearDuplicateThreshold: number;
  collapsedSpread: number;
  /** BM25 over the same corpus and queries beside the dense model (full evaluations only). */
  lexicalBaseline: boolean;
  /** Exact (Flat) search beside the index: always, never, or 'auto' = only up to exactMaxCorpus items. */
  exact: 'auto' | boolean;
  /** Largest corpus searched exactly under exact 'auto' (exact search costs O(corpus) per query). */
  exactMaxCorpus: number;
}

/** `diagnostics` of the config: the collapse verdict's thresholds and windows (docs/diagnostics.md). */
export interface DiagnosticsConfig {
  collapse: CollapseThresholds;
}

/** A validated experiment config with every default filled in (the shape of experiment.schema.json). */
export interface ExperimentConfig {
  name: string;
  data: DataConfig;
  model: ModelConfig;
  loss: LossConfig;
  training: TrainingConfig;
  evaluation: EvaluationConfig;
  diagnostics: DiagnosticsConfig;
  backend: BackendPreference;
  output: { runsDir: string };
}

/** A config plus where it came from; relative paths in it resolve against `baseDir`. */
export interface LoadedConfig {
  config: ExperimentConfig;
  /** Absolute path of the config file (or '<inline>'). */
  path: string;
  baseDir: string;
  /** Problems that do not stop a run (a key given twice), each located; logged by the trainer. */
  warnings?: ConfigProblem[];
}
