/**
 * Experiment config files and where their runs go. No VS Code import.
 */
import * as path from 'path';
import { readConfigBasics } from './configAnchors';
import { readBoundedTextSync } from '../../core/io/safeRead';

/** Suffix of experiment config files. */
export const CONFIG_SUFFIX = '.rlens.json';
/** Glob of experiment configs in a workspace. */
export const CONFIG_GLOB = `**/*${CONFIG_SUFFIX}`;
/** Folders never searched for configs. */
export const CONFIG_EXCLUDE_GLOB = '**/{node_modules,.git,.cache,dist,out}/**';

/** Whether a path names an experiment config. */
export function isExperimentConfig(file: string): boolean {
  return file.endsWith(CONFIG_SUFFIX) && path.basename(file).length > CONFIG_SUFFIX.length;
}

/** The runs folder of a config given its text: `output.runsDir` (default "runs") against the config's folder. */
export function runsRootOf(configPath: string, text: string): string {
  const { runsDir } = readConfigBasics(text);
  return path.resolve(path.dirname(configPath), runsDir);
}

/** The runs folder of a config file on disk; null when it cannot be read. */
export function runsRootOfFile(configPath: string): string | null {
  try {
    return runsRootOf(configPath, readBoundedTextSync(configPath, 'experiment config'));
  } catch {
    return null;
  }
}

/** Same file? Paths compared resolved (run meta records the absolute config path). */
export function samePath(a: string | null | undefined, b: string | null | undefined): boolean {
  return !!a && !!b && path.resolve(a) === path.resolve(b);
}
