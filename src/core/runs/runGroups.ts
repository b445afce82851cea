/**
 * Which config and which sweep a run belongs to, for the Runs tree: a run is filed under the config that
 * made it — recorded in the run (meta.json `configPath`), never guessed from the runs folder, which several
 * configs may share — and a sweep's or ablation's runs under that sweep (sweep.json lists its run folders).
 * A recorded path that no longer exists (the workspace was moved) is matched by its file name when exactly
 * one config of the workspace has that name. Runs of no known config form a group of their own.
 */
import * as path from 'path';
import type { RunSummary } from './readRun';

/** A sweep or ablation folder: its name, its config, and its run folders (absolute, attempts included). */
export interface SweepRef {
  dir: string;
  name: string;
  kind: 'sweep' | 'ablation';
  configPath: string;
  runDirs: string[];
}

export interface SweepGroup {
  sweep: SweepRef;
  runs: RunSummary[];
}

export interface ConfigGroup {
  /** The config file (absolute), or null for the runs of no known config. */
  configPath: string | null;
  sweeps: SweepGroup[];
  /** Runs started from the config outside any sweep, in the order given (newest first). */
  runs: RunSummary[];
}

const same = (a: string, b: string): boolean => path.resolve(a) === path.resolve(b);

/** The known config a run was started from, or null. */
export function configOfRun(run: RunSummary, configs: readonly string[]): string | null {
  const recorded = run.meta?.configPath;
  if (!recorded) return null;
  const exact = configs.find((c) => same(c, recorded));
  if (exact) return exact;
  const byName = configs.filter((c) => path.basename(c) === path.basename(recorded));
  return byName.length === 1 ? byName[0] : null;
}

/**
 * One group per config (in the order of `configs`, also when it has no run yet), then one for runs of no
 * known config when there are any. Inside a config, each sweep of it that has listed runs is a group (in the
 * order of `sweeps`); a run listed by a sweep goes under the sweep, whatever config it recorded.
 */
export function groupRuns(runs: readonly RunSummary[], configs: readonly string[], sweeps: readonly SweepRef[]): ConfigGroup[] {
  const groups: ConfigGroup[] = configs.map((c) => ({ configPath: c, sweeps: [], runs: [] }));
  const other: ConfigGroup = { configPath: null, sweeps: [], runs: [] };
  const groupOf = (configPath: string | null): ConfigGroup =>
    configPath === null ? other : (groups.find((g) => g.configPath !== null && same(g.configPath, configPath)) ?? other);
  const sweepGroups = new Map<SweepRef, SweepGroup>();
  for (const run of runs) {
    const sweep = sweeps.find((s) => s.runDirs.some((d) => same(d, run.dir)));
    if (sweep) {
      let sg = sweepGroups.get(sweep);
      if (!sg) {
        sg = { sweep, runs: [] };
        sweepGroups.set(sweep, sg);
      }
      sg.runs.push(run);
      continue;
    }
    groupOf(configOfRun(run, configs)).runs.push(run);
  }
  for (const sweep of sweeps) {
    const sg = sweepGroups.get(sweep);
    if (sg) groupOf(configs.find((c) => same(c, sweep.configPath)) ?? null).sweeps.push(sg);
  }
  return other.runs.length > 0 || other.sweeps.length > 0 ? [...groups, other] : groups;
}
