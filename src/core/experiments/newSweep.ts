/**
 * Creating a sweep or ablation folder: the plan is checked first (every run's config must load with its
 * overrides: a bad value is reported with the config's file:line and the `--set` it came from), then
 * `sweeps/<UTC time>-<name>/sweep.json` is written with every run queued.
 */
import { loadConfig } from '../config/loadConfig';
import { summarizeSweep } from './summary';
import { SWEEP_FORMAT_VERSION, type AblationVariant, type SweepFile } from './sweepFile';
import { planAblation, planSweep, seedList } from './sweepPlan';
import { createSweepDir, sweepsRootOf, writeSweepFile } from './sweepStore';

/** Metrics a sweep can summarise (corpus evaluation; in-batch has recall@1/5/10 only). */
export const SWEEP_METRICS = ['recall@1', 'recall@5', 'recall@10', 'recall@50', 'recall@100', 'mrr@10', 'ndcg@10'];

export interface NewSweepOptions {
  configPath: string;
  /** `--set` overrides applied to every run. */
  baseOverrides?: string[];
  /** Sweep: the config path to vary and its values; absent for an ablation. */
  sweep?: { param: string; values: number[] };
  /** Seeds per value (default: config `sweep.seeds`). */
  seedCount?: number;
  /** Ablation: the variants to train (default: the paper's 8). */
  variants?: readonly AblationVariant[];
  concurrency?: number;
  metric?: string;
  steps?: number;
  code: { retrievalLens: string; gitCommit: string | null };
  /** Folder of sweep folders (default `sweeps/` beside the config). */
  root?: string;
  now?: Date;
}

/** Creates the sweep folder and its sweep.json; returns the folder. Throws ConfigError / Error with a located message. */
export function createSweep(o: NewSweepOptions): { dir: string; file: SweepFile } {
  const base = loadConfig(o.configPath, o.baseOverrides ?? []);
  const cfg = base.config;
  const seeds = seedList(cfg.training.seed, o.seedCount ?? cfg.sweep.seeds);
  const concurrency = o.concurrency ?? cfg.sweep.concurrency;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new Error(`--concurrency must be a positive integer, got ${concurrency}`);
  const metric = o.metric ?? cfg.sweep.metric;
  if (!SWEEP_METRICS.includes(metric)) throw new Error(`metric "${metric}" is not one of ${SWEEP_METRICS.join(', ')}`);
  if (!cfg.data.test && !['recall@1', 'recall@5', 'recall@10'].includes(metric))
    throw new Error(`metric "${metric}" needs test data (data.test): without it runs are scored by in-batch recall@1/5/10`);
  if (o.steps !== undefined && !(Number.isInteger(o.steps) && o.steps > 0)) throw new Error(`--steps must be a positive integer, got ${o.steps}`);
  const runs = o.sweep ? planSweep(cfg.name, o.sweep.param, o.sweep.values, seeds) : planAblation(cfg.name, seeds, o.variants);
  // Every run's config must be valid before anything starts (a value out of range, a param that is no config field).
  const checked = new Set<string>();
  for (const r of runs) {
    const key = r.overrides.filter((x) => !x.startsWith('name=') && !x.startsWith('training.seed=')).join('\n');
    if (checked.has(key)) continue;
    checked.add(key);
    loadConfig(o.configPath, [...(o.baseOverrides ?? []), ...r.overrides]);
  }
  const now = o.now ?? new Date();
  const name = o.sweep ? `${cfg.name}-${o.sweep.param}` : `${cfg.name}-ablation`;
  const dir = createSweepDir(o.root ?? sweepsRootOf(base.path), name, now);
  const partial = { values: o.sweep?.values ?? [], metric, runs };
  const file: SweepFile = {
    version: SWEEP_FORMAT_VERSION,
    kind: o.sweep ? 'sweep' : 'ablation',
    name,
    createdAt: now.toISOString(),
    updatedAt: now.toISOString(),
    configPath: base.path,
    baseOverrides: o.baseOverrides ?? [],
    param: o.sweep?.param ?? null,
    values: partial.values,
    seeds,
    concurrency,
    metric,
    steps: o.steps ?? null,
    code: o.code,
    state: 'unfinished',
    driver: null,
    runs,
    summary: summarizeSweep(partial),
  };
  writeSweepFile(dir, file);
  return { dir, file };
}
