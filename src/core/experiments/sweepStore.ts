/**
 * Sweep folders on disk: `<config folder>/sweeps/<UTC time>-<name>/` with sweep.json (atomic writes,
 * validated reads) and, for an ablation, ablation.json + ablation.md.
 */
import * as fs from 'fs';
import * as path from 'path';
import { writeFileAtomicSync, writeJsonAtomicSync } from '../runs/atomicWrite';
import { createRunDir } from '../runs/runDir';
import { schemaProblem } from '../schemaCheck';
import { ablationMarkdown, ablationTable } from './summary';
import { SWEEP_FORMAT_VERSION, SweepFileSchema, type AblationFile, type SweepFile } from './sweepFile';
import { SWEEP_FILE_CHECKS } from './sweepFileChecks.generated';
import { readBoundedTextSync } from '../io/safeRead';

export const SWEEP_FILE = 'sweep.json';
export const ABLATION_JSON = 'ablation.json';
export const ABLATION_MD = 'ablation.md';
/** Folder of sweep folders, beside the config file. */
export const SWEEPS_DIR = 'sweeps';

/** The sweeps folder of a config file. */
export function sweepsRootOf(configPath: string): string {
  return path.join(path.dirname(path.resolve(configPath)), SWEEPS_DIR);
}

/** Create a new, empty sweep folder `<root>/<UTC time>-<name>` (suffix -2, -3 … when taken). */
export function createSweepDir(root: string, name: string, now = new Date()): string {
  return createRunDir(root, name, now);
}

/** Atomically replace `<dir>/sweep.json`. */
export function writeSweepFile(dir: string, file: SweepFile): void {
  writeJsonAtomicSync(path.join(dir, SWEEP_FILE), file);
}

/** Read and validate `<dir>/sweep.json`; throws with a located reason (`sweep.json: runs[2].status: …`). */
export function readSweepFile(dir: string): SweepFile {
  const file = path.join(dir, SWEEP_FILE);
  let text: string;
  try {
    text = readBoundedTextSync(file, 'sweep.json');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(code === 'ENOENT' ? `${file}: not found (not a sweep folder)` : `${file}: ${(e as Error).message}`, { cause: e });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new Error(`${file}: not valid JSON: ${(e as Error).message}`, { cause: e });
  }
  const v = (value as { version?: unknown } | null)?.version;
  if (typeof v === 'number' && v > SWEEP_FORMAT_VERSION) throw new Error(`${file}: version ${v} is newer than the supported ${SWEEP_FORMAT_VERSION}`);
  const problem = schemaProblem(SweepFileSchema, value, '', SWEEP_FILE_CHECKS.sweep);
  if (problem) throw new Error(`${file}: ${problem}`);
  return value as SweepFile;
}

/** Write ablation.json and ablation.md of an ablation sweep folder; returns the table. */
export function writeAblationFiles(dir: string, file: SweepFile): AblationFile {
  const table = ablationTable(file);
  writeJsonAtomicSync(path.join(dir, ABLATION_JSON), table);
  writeFileAtomicSync(path.join(dir, ABLATION_MD), ablationMarkdown(table));
  return table;
}

/** Sweep folders under `root` whose sweep.json is valid, newest first; unreadable ones are skipped. */
export function listSweeps(root: string): { dir: string; file: SweepFile }[] {
  let names: string[];
  try {
    names = fs.readdirSync(root);
  } catch {
    return [];
  }
  const out: { dir: string; file: SweepFile }[] = [];
  for (const n of names.sort().reverse()) {
    const dir = path.join(root, n);
    try {
      out.push({ dir, file: readSweepFile(dir) });
    } catch {
      // not a sweep folder, or damaged: not listed
    }
  }
  return out;
}
