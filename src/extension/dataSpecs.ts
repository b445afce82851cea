/**
 * What to load for each data path of a config (for the data lenses and bad-line diagnostics): the
 * loader spec with the config's format, split and folder, from the validated config when it is
 * valid, else from the raw text with the schema's defaults. No VS Code import.
 */
import * as path from 'path';
import { parseConfigText } from './configValidator';
import type { DataSpec } from '../core/data/types';
import { DATA_KEYS, findConfigAnchors, type DataKey } from './configAnchors';

/** One data path of a config with how to load it. */
export interface DataSpecOf {
  key: DataKey;
  /** Absolute path of the file or BEIR folder. */
  absPath: string;
  spec: DataSpec;
  /** Examples (train/test pairs) or items (corpus). */
  what: 'examples' | 'items';
  /** The config's tolerated bad-line share (loads for the lens tolerate everything and report). */
  maxBadLineShare: number;
}

/** Data specs of a config text, in DATA_KEYS order. Never throws. */
export function dataSpecsOf(configPath: string, text: string): DataSpecOf[] {
  const baseDir = path.dirname(configPath);
  let data: { format?: DataSpec['format']; fields?: DataSpec['fields']; trainSplit?: string; testSplit?: string; maxBadLineShare?: number } = {};
  try {
    data = parseConfigText(text, configPath).config.data;
  } catch {
    // Invalid config: defaults below, paths from the raw text.
  }
  const anchors = findConfigAnchors(text);
  return DATA_KEYS.flatMap((key) => {
    const a = anchors.data.find((d) => d.key === key);
    if (!a || a.value === '') return [];
    const absPath = path.isAbsolute(a.value) ? a.value : path.resolve(baseDir, a.value);
    const split = key === 'train' ? (data.trainSplit ?? 'train') : key === 'test' ? (data.testSplit ?? 'test') : undefined;
    return [
      {
        key,
        absPath,
        spec: {
          path: absPath,
          format: data.format ?? 'auto',
          ...(data.fields && key !== 'corpus' ? { fields: data.fields } : {}),
          split,
          maxBadLineShare: 1,
          baseDir,
          label: `data.${key}`,
        },
        what: key === 'corpus' ? 'items' : 'examples',
        maxBadLineShare: data.maxBadLineShare ?? 0.05,
      } satisfies DataSpecOf,
    ];
  });
}
