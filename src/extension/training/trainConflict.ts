/**
 * Which runs of a config are its own and whether ▷ Train must ask first. A running sweep trains runs from
 * the config with overrides (a fixed τ, another seed): they are the sweep's, not the config's, so the
 * config's lens neither shows them as its live run nor as its last run. Training a config while a run of it
 * is running (a sweep's run, or one started elsewhere, e.g. the CLI) asks first: start another, show the
 * running one, or cancel. No VS Code import: unit-tested.
 */
import * as path from 'path';
import type { SweepFile } from '../../core/experiments/sweepFile';

/** The run folders of a sweep (absolute; runs not started yet have none). */
export function sweepRunDirsOf(sweepDir: string, file: Pick<SweepFile, 'runs'>): Set<string> {
  return new Set(file.runs.flatMap((r) => [r.runDir, ...r.previousRunDirs]).flatMap((d) => (d ? [path.resolve(sweepDir, d)] : [])));
}

/** Whether `dir` is one of `sweepRunDirs`. */
export function isSweepRun(dir: string | null | undefined, sweepRunDirs: ReadonlySet<string>): boolean {
  return !!dir && sweepRunDirs.has(path.resolve(dir));
}

/** The config's own runs: `runs` without the sweep's. */
export function ownRuns<R extends { dir: string }>(runs: readonly R[], sweepRunDirs: ReadonlySet<string>): R[] {
  return runs.filter((r) => !isSweepRun(r.dir, sweepRunDirs));
}

/** A running run of the config, as the registry lists it. */
export interface RunningRun {
  dir: string;
  name: string;
  step: number;
  totalSteps: number | null;
}

/** What ▷ Train asks when a run of the config is running; null when nothing is (train at once). */
export function trainConflict(
  configPath: string,
  running: readonly RunningRun[],
  sweepRunDirs: ReadonlySet<string>,
): { runDir: string; message: string } | null {
  if (running.length === 0) return null;
  const r = running[0];
  const where = isSweepRun(r.dir, sweepRunDirs) ? 'a run of the sweep that is running' : 'not started from this window';
  const more = running.length > 1 ? ` and ${running.length - 1} more` : '';
  const progress = `step ${r.step.toLocaleString('en-US')}${r.totalSteps !== null ? ` of ${r.totalSteps.toLocaleString('en-US')}` : ''}`;
  return {
    runDir: r.dir,
    message: `${path.basename(configPath)} is already training: ${r.name} (${progress}, ${where})${more}. Start another training of it?`,
  };
}
