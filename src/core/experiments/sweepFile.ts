/**
 * Schemas of a sweep folder (`sweeps/<UTC time>-<name>/`): `sweep.json`, the plan and state of a sweep or
 * an ablation (written atomically after every change), and `ablation.json`, the ablation table. TypeBox:
 * each schema gives the TypeScript type and, through `npm run -s gen:checks`, its generated check.
 * Format described in docs/experiments.md.
 */
import { Type, type Static } from '@sinclair/typebox';

/** Version of sweep.json / ablation.json; bumped only on breaking changes. */
export const SWEEP_FORMAT_VERSION = 1;

const NumberOrNull = () => Type.Union([Type.Number(), Type.Null()], { errorMessage: 'must be a number or null' });
const StringOrNull = () => Type.Union([Type.String(), Type.Null()], { errorMessage: 'must be a string or null' });
const oneOf = <const T extends readonly string[]>(values: T) =>
  Type.Unsafe<T[number]>(
    Type.Union(
      values.map((v) => Type.Literal(v)),
      { errorMessage: `must be one of ${values.join('|')}` },
    ),
  );

/**
 * State of one run of a sweep: `queued` (not started, or to be redone), `running`, `completed` (trained
 * and evaluated), `failed` (the trainer reported a failure, or its process ended without reporting),
 * `stopped` (training stopped by a cancel: redone in a new run folder on resume), `cancelled` (trained,
 * its evaluation cancelled: re-evaluated on resume).
 */
export const SweepRunStatusSchema = oneOf(['queued', 'running', 'completed', 'failed', 'stopped', 'cancelled'] as const);
export type SweepRunStatus = Static<typeof SweepRunStatusSchema>;

/** The ablation variants, in the order of the paper's table. */
export const ABLATION_VARIANTS = [
  'margin-fixed',
  'margin-adaptive',
  'margin-adaptive-sg',
  'margin-adaptive-sg-sym',
  'softmax-fixed',
  'softmax-adaptive',
  'softmax-adaptive-sg',
  'softmax-adaptive-sg-sym',
  // Beyond the paper's table (`ablate --variants`): learned α/δ₀/τ₀ and Adap-τ on the paper's method.
  'margin-learned',
  'softmax-learned',
  'softmax-adap-tau',
  // The fixed loss and the paper's method on the MGDSPR query tower (model.preset "mgdspr"; the rest run "dssm").
  'margin-fixed-mgdspr',
  'margin-adaptive-sg-sym-mgdspr',
  'softmax-fixed-mgdspr',
  'softmax-adaptive-sg-sym-mgdspr',
  // Tower presets (model.preset, src/core/model/towers/): the fixed, adaptive (the paper's method: + sg + symmetric)
  // and learned-α/δ₀/τ₀ losses on each tower this build trains.
  'dssm-margin-fixed',
  'dssm-margin-adaptive',
  'dssm-margin-learned',
  'dssm-softmax-fixed',
  'dssm-softmax-adaptive',
  'dssm-softmax-learned',
  'dpsr-margin-fixed',
  'dpsr-margin-adaptive',
  'dpsr-margin-learned',
  'dpsr-softmax-fixed',
  'dpsr-softmax-adaptive',
  'dpsr-softmax-learned',
] as const;
export type AblationVariant = (typeof ABLATION_VARIANTS)[number];

/** The variants an ablation trains without `--variants`: the paper's 8. */
export const PAPER_VARIANTS: readonly AblationVariant[] = ABLATION_VARIANTS.slice(0, 8);

/** Metric name → value of one search ("recall@1", "recall@5", "recall@10", "mrr@10", "ndcg@10"); null when not measured. */
const Metrics = Type.Record(Type.String(), NumberOrNull(), { errorMessage: 'must be an object of numbers or nulls' });

/** What one finished run measured, read from its run folder. */
export const SweepRunResultSchema = Type.Object({
  /** "corpus": the evaluation job over data.test (exact search); "in-batch": the last logged step's in-batch recall (no test data). */
  source: oneOf(['corpus', 'in-batch'] as const),
  /** Last completed training step. */
  step: Type.Integer({ minimum: 0 }),
  /** Dense model metrics (corpus: exact search; in-batch: recall@1/5/10 only). */
  metrics: Metrics,
  /** BM25 over the same corpus and queries; null when not evaluated. */
  bm25: Type.Union([Metrics, Type.Null()]),
  /** Collapse indicators of the last logged step. */
  ratio: NumberOrNull(),
  violationRate: NumberOrNull(),
  itemCosine: NumberOrNull(),
  /** Collapse verdict of the last logged step, and its reason. */
  verdict: Type.String(),
  verdictReason: Type.String(),
  /** Training wall time from meta.json (startedAt → endedAt), ms; null when unknown. */
  trainingMs: NumberOrNull(),
  /** Backend that trained the run (meta.json). */
  backend: Type.String(),
  /** The run's config.json as trained (every default filled in). */
  config: Type.Record(Type.String(), Type.Unknown()),
  /** Evaluated checkpoint, relative to the run folder; null for in-batch results. */
  checkpoint: StringOrNull(),
  /** Code that trained and evaluated the run (a resumed sweep may run other code than the one that created it). */
  code: Type.Object({ retrievalLens: Type.String(), gitCommit: StringOrNull() }),
});
export type SweepRunResult = Static<typeof SweepRunResultSchema>;

/** One planned run: a swept value (or ablation variant) and a seed. */
export const SweepRunSchema = Type.Object({
  /** Stable id inside the sweep, e.g. "v0.1-s42", "ref-s42", "margin-fixed-s42". */
  id: Type.String({ minLength: 1 }),
  /** Swept value (sweeps); null for reference and ablation runs. */
  value: NumberOrNull(),
  /** Ablation variant; null in sweeps. */
  variant: Type.Union([oneOf(ABLATION_VARIANTS), Type.Null()]),
  /** The adaptive loss trained beside a sweep of a fixed δ or τ (the reference band). */
  reference: Type.Boolean(),
  seed: Type.Integer(),
  /** The exact `key=value` overrides of the base config (as `--set`), including name and seed. */
  overrides: Type.Array(Type.String()),
  status: SweepRunStatusSchema,
  /** Run folder relative to the sweep folder (e.g. "../../runs/20261129-221500-shop-margin-0.1-s42"); null before it exists. */
  runDir: StringOrNull(),
  /** Run folders of earlier, interrupted attempts (kept, never deleted), relative to the sweep folder. */
  previousRunDirs: Type.Array(Type.String()),
  /** Why the run failed; null otherwise. */
  error: StringOrNull(),
  result: Type.Union([SweepRunResultSchema, Type.Null()]),
});
export type SweepRun = Static<typeof SweepRunSchema>;

/** mean ± std over seeds of one point of the summary (std: sample std, null for fewer than 2 runs). */
export const MeanStdSchema = Type.Object({
  n: Type.Integer({ minimum: 0 }),
  mean: NumberOrNull(),
  std: NumberOrNull(),
  /** The runs' values, in seed order. */
  values: Type.Array(Type.Number()),
});
export type MeanStd = Static<typeof MeanStdSchema>;

/** The sweep's picture: the selected metric against the swept value. */
export const SweepSummarySchema = Type.Object({
  metric: Type.String(),
  /** One point per swept value (in the order of `values`), over its completed runs. */
  points: Type.Array(Type.Composite([Type.Object({ value: Type.Number() }), MeanStdSchema])),
  /** The adaptive loss's runs (sweeps of loss.margin / loss.temperature); null otherwise. */
  reference: Type.Union([MeanStdSchema, Type.Null()]),
  /** BM25's value of the metric when the runs were evaluated on a corpus; null otherwise. */
  bm25: Type.Union([MeanStdSchema, Type.Null()]),
  /** Swept value with the highest mean; null before any point. */
  bestValue: NumberOrNull(),
  /** Runs by state. */
  counts: Type.Record(Type.String(), Type.Integer({ minimum: 0 })),
});
export type SweepSummary = Static<typeof SweepSummarySchema>;

/** The process that drives the sweep (a CLI or an extension host); null when none does. */
const DriverSchema = Type.Object({ pid: Type.Integer(), host: Type.String(), since: Type.String() });

/** sweep.json. */
export const SweepFileSchema = Type.Object({
  version: Type.Literal(SWEEP_FORMAT_VERSION, { errorMessage: `must be ${SWEEP_FORMAT_VERSION}` }),
  kind: oneOf(['sweep', 'ablation'] as const),
  name: Type.String(),
  createdAt: Type.String(),
  updatedAt: Type.String(),
  /** Absolute path of the base config. */
  configPath: Type.String(),
  /** Overrides applied to every run before its own (`--set` of the CLI). */
  baseOverrides: Type.Array(Type.String()),
  /** Swept config path, e.g. "loss.margin"; null for an ablation. */
  param: StringOrNull(),
  /** Swept values; empty for an ablation. */
  values: Type.Array(Type.Number()),
  seeds: Type.Array(Type.Integer(), { minItems: 1 }),
  /** Trainer processes at most at once. */
  concurrency: Type.Integer({ minimum: 1 }),
  /** Summary metric, e.g. "recall@10". */
  metric: Type.String(),
  /** Training steps of every run (`--steps`); null: the config's. */
  steps: Type.Union([Type.Integer({ minimum: 1 }), Type.Null()]),
  /** Code that ran the sweep. */
  code: Type.Object({ retrievalLens: Type.String(), gitCommit: StringOrNull() }),
  /** unfinished: runs remain queued or were interrupted; finished: every run completed or failed. */
  state: oneOf(['unfinished', 'finished'] as const),
  driver: Type.Union([DriverSchema, Type.Null()]),
  runs: Type.Array(SweepRunSchema),
  summary: SweepSummarySchema,
  /** When the user cancelled the sweep (ISO time); absent or null when not cancelled since its last (re)start. A cancelled sweep is not offered for resume on start-up (only on request). */
  cancelledAt: Type.Optional(Type.Union([Type.String(), Type.Null()])),
});
export type SweepFile = Static<typeof SweepFileSchema>;

/** One row of the ablation table: a variant, mean ± std over its completed seeds. */
export const AblationRowSchema = Type.Object({
  variant: oneOf(ABLATION_VARIANTS),
  /** Human-readable name, e.g. "adaptive margin + sg + symmetric". */
  label: Type.String(),
  /** Completed runs / planned runs. */
  completed: Type.Integer({ minimum: 0 }),
  planned: Type.Integer({ minimum: 0 }),
  /** Column → mean ± std: recall@1, recall@5, recall@10, mrr@10, ndcg@10, ratio, violationRate, itemCosine, trainingMs. */
  columns: Type.Record(Type.String(), MeanStdSchema),
  /** Verdict of each completed run, in seed order, e.g. ["healthy", "collapsed"]. */
  verdicts: Type.Array(Type.String()),
  /** Run folders relative to the sweep folder, in seed order. */
  runDirs: Type.Array(Type.String()),
  /** The towers the row's runs trained (model.preset of their config, "dpsr K=2"); absent in older files. */
  tower: Type.Optional(Type.String()),
});
export type AblationRow = Static<typeof AblationRowSchema>;

/** ablation.json. */
export const AblationFileSchema = Type.Object({
  version: Type.Literal(SWEEP_FORMAT_VERSION, { errorMessage: `must be ${SWEEP_FORMAT_VERSION}` }),
  configPath: Type.String(),
  seeds: Type.Array(Type.Integer()),
  steps: Type.Union([Type.Integer({ minimum: 1 }), Type.Null()]),
  /** "corpus" when every row was evaluated on data.test, else "in-batch". */
  source: oneOf(['corpus', 'in-batch', 'mixed'] as const),
  columns: Type.Array(Type.String()),
  /** Column → the variant with the best mean (highest; lowest for violationRate, itemCosine, trainingMs); absent when no value. */
  best: Type.Record(Type.String(), Type.String()),
  rows: Type.Array(AblationRowSchema),
  code: Type.Object({ retrievalLens: Type.String(), gitCommit: StringOrNull() }),
  /** The fixed δ (loss.margin) and τ (loss.temperature) the fixed rows trained with (from their config.json); absent in older files. */
  fixed: Type.Optional(Type.Object({ margin: NumberOrNull(), temperature: NumberOrNull() })),
});
export type AblationFile = Static<typeof AblationFileSchema>;

export const SWEEP_FILE_SCHEMAS = { sweep: SweepFileSchema, ablation: AblationFileSchema } as const;
