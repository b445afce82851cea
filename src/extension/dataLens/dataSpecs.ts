/**
 * What to load for each data path of a config (for the data lenses and bad-line diagnostics): the
 * loader spec with the config's format, split and folder, from the validated config when it is
 * valid, else from the raw text with the schema's defaults. No VS Code import.
 */
import * as path from 'path';
import { parseConfigText } from '../configEditor/configValidator';
import type { DataSpec } from '../../core/data/types';
import { findConfigAnchors, type DataKey, type TextSpan } from '../configEditor/configAnchors';

/** One data path of a config (or one entry of a list of paths) with how to load it. */
export interface DataSpecOf {
  key: DataKey;
  /** The entry's position in a list of paths (shards), null for a single path. */
  index: number | null;
  /** Absolute path of the file, glob or BEIR folder. */
  absPath: string;
  /** Where its lens goes in the config text. */
  at: TextSpan;
  spec: DataSpec;
  /** Examples (train/test pairs) or items (corpus). */
  what: 'examples' | 'items';
  /** The config's tolerated bad-line share (loads for the lens tolerate everything and report). */
  maxBadLineShare: number;
}

/** Data specs of a config text, in DATA_KEYS order (a list's entries in their order). Never throws. */
export function dataSpecsOf(configPath: string, text: string): DataSpecOf[] {
  const baseDir = path.dirname(configPath);
  let data: { format?: DataSpec['format']; fields?: DataSpec['fields']; trainSplit?: string; testSplit?: string; maxBadLineShare?: number } = {};
  try {
    data = parseConfigText(text, configPath).config.data;
  } catch {
    // Invalid config: defaults below, paths from the raw text.
  }
  return findConfigAnchors(text).data.flatMap((a) => {
    const key = a.key;
    if (a.value === '') return [];
    const absPath = path.isAbsolute(a.value) ? a.value : path.resolve(baseDir, a.value);
    const split = key === 'train' ? (data.trainSplit ?? 'train') : key === 'test' ? (data.testSplit ?? 'test') : undefined;
    return [
      {
        key,
        index: a.index,
        absPath,
        at: a.property,
        spec: {
          path: absPath,
          format: data.format ?? 'auto',
          ...(data.fields && key !== 'corpus' ? { fields: data.fields } : {}),
          split,
          maxBadLineShare: 1,
          baseDir,
          label: a.index === null ? `data.${key}` : `data.${key}[${a.index}]`,
        },
        what: key === 'corpus' ? 'items' : 'examples',
        maxBadLineShare: data.maxBadLineShare ?? 0.05,
      } satisfies DataSpecOf,
    ];
  });
}
