import type { ConfigProblem } from './configError';
import type { LossConfig } from '../losses/types';
import type { DataFormat, FieldMapping } from '../data/types';
import type { CollapseThresholds } from '../metrics/collapseMonitor';

/** Backend preference: auto = tfjs-node if it loads, else wasm, else cpu. */
export type BackendPreference = 'auto' | 'node' | 'wasm' | 'cpu';

export interface DataConfig {
  /** A file, a glob, or a list of files / globs (shards), or a BEIR folder. */
  train: string | string[];
  test?: string;
  corpus?: string;
  format: DataFormat;
  /** Field mapping for JSONL records of no known shape (see FieldMapping). */
  fields?: FieldMapping;
  trainSplit: string;
  testSplit: string;
  maxBadLineShare: number;
  /** Training pairs held in the shuffle buffer of the streamed training data. */
  shuffleBuffer: number;
  /** Hard negatives mined before training (absent: none); see src/core/training/hardNegatives.ts. */
  hardNegatives?: HardNegativesConfig;
  /** Mask negatives whose normalised text equals the positive's (batcher.ts). */
  maskDuplicateNegatives: boolean;
  /** Audit the training data at the start of training and log its summary (src/core/data/audit/); off: it costs a pass. */
  audit: boolean;
  /** The text a positive is trained on: its line's, or its corpus item's (src/core/data/audit/corpusPositives.ts). */
  positiveText: 'line' | 'corpus';
}

/** `data.hardNegatives`: BM25-mined negatives per training query. */
export interface HardNegativesConfig {
  source: 'bm25';
  /** Mined negatives per query (1–32). */
  perQuery: number;
  /** BM25 hits (after the positives are dropped) skipped before the negatives are taken. */
  skipTop: number;
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
  /** Tower design (src/core/model/towers/); absent in configs and checkpoints written before presets: "dssm". */
  preset?: TowerPreset;
  /** DPSR query heads K (preset "dpsr" only; absent: 2 with dpsr, else 1). */
  queryHeads?: number;
}

/** `model.preset`: the towers of the compared systems (src/core/model/towers/index.ts, docs/towers.md). */
export type TowerPreset = 'dssm' | 'dpsr' | 'mgdspr';

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
  /** Live held-out evaluation: "auto" (within heldOutBudget of training time), every N steps, or 0 = off. */
  every: number | 'auto';
  /** Test queries sampled for live held-out evaluation. */
  heldOutQueries: number;
  /** Largest corpus a live held-out evaluation encodes (a larger one is sampled, positives kept). */
  heldOutCorpus: number;
  /** Under every "auto": the largest share of training time live held-out evaluation may cost. */
  heldOutBudget: number;
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
  /** Step samples and suspected false negatives in each logged step event (src/core/metrics/stepSamples.ts). */
  stepSamples: boolean;
}

/** Which trainer runs the experiment: the built-in TensorFlow.js one, or the PyTorch DDP one under torch.distributed.run. */
export type TrainerKind = 'node' | 'torchrun';

/** `trainer` of the config: nprocPerNode, python and module are used with kind "torchrun" only. */
export interface TrainerConfig {
  kind: TrainerKind;
  /** Processes on this machine (--nproc_per_node). */
  nprocPerNode: number;
  /** Interpreter with torch; absent: /usr/bin/python3 when it imports torch, else python3. */
  python?: string;
  /** Module torch.distributed.run starts (default retrieval_lens.train). */
  module: string;
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
  trainer: TrainerConfig;
  output: { runsDir: string };
  /** Defaults of sweeps and ablations (src/core/experiments). */
  sweep: SweepConfig;
}

/** `sweep` of the config. */
export interface SweepConfig {
  /** Trainer processes at once. */
  concurrency: number;
  /** Seeds per swept value. */
  seeds: number;
  /** Summary metric, e.g. "recall@10". */
  metric: string;
  /** Checkpoint folders a sweep / ablation run keeps once evaluated (experiments/keepCheckpoints.ts). */
  keepCheckpoints: 'best' | 'last' | 'all' | 'none';
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
