/**
 * Where things are in an experiment config's text (`*.rlens.json`, JSON with comments): the `loss`
 * section, the data paths and the top of the document, as character offsets for lenses, diagnostics
 * and "Show in config". Pure (jsonc-parser only), so it is unit-tested without VS Code.
 */
import { findNodeAtLocation, parseTree, type JSONPath, type Node } from 'jsonc-parser';

/** A span of the config text (0-based offset, length in UTF-16 code units, as VS Code counts). */
export interface TextSpan {
  offset: number;
  length: number;
}

/** One data path of the config (`data.train`, `data.test`, `data.corpus`), or one entry of a list of them. */
export interface DataPathAnchor {
  /** The key under `data`. */
  key: DataKey;
  /** The position in a list of paths (`"train": ["a.jsonl", "b.jsonl"]`: shards), null for a single path. */
  index: number | null;
  /** The path as written in the config (relative to the config's folder or absolute; a file, a glob or a BEIR folder). */
  value: string;
  /** Where the lens goes: the whole property (`"train": "data/train.jsonl"`), or a list entry's string. */
  property: TextSpan;
  /** The string value only: where a "not found" diagnostic goes. */
  valueSpan: TextSpan;
}

export type DataKey = 'train' | 'test' | 'corpus';
export const DATA_KEYS: readonly DataKey[] = ['train', 'test', 'corpus'];

export interface ConfigAnchors {
  /** The root object (offset of its "{"); null when the text has no object at its root. */
  root: TextSpan | null;
  /** The `loss` property; null when absent. */
  loss: TextSpan | null;
  /** The data paths that are present as strings (a list: each string entry), in DATA_KEYS order. */
  data: DataPathAnchor[];
  /** The sweepable loss values present in the text (`loss.margin`, `loss.temperature`, `loss.alpha`): where the "Sweep…" lenses go. */
  sweepable: { param: SweepableParam; property: TextSpan }[];
}

export type SweepableParam = 'loss.margin' | 'loss.temperature' | 'loss.alpha';
export const SWEEPABLE_KEYS: readonly SweepableParam[] = ['loss.margin', 'loss.temperature', 'loss.alpha'];

const PARSE_OPTIONS = { allowTrailingComma: true, disallowComments: false };

/** Parse tree of config text, tolerant of syntax errors (what can be recovered is returned). */
export function configTree(text: string): Node | undefined {
  return parseTree(text, [], PARSE_OPTIONS);
}

/** Span of the property holding the value at `path` (key through value); null when absent. */
export function propertySpan(root: Node | undefined, path: JSONPath): TextSpan | null {
  if (!root) return null;
  const value = findNodeAtLocation(root, path);
  if (!value) return null;
  const prop = value.parent?.type === 'property' ? value.parent : value;
  return { offset: prop.offset, length: prop.length };
}

/** Span of the value at `path`; null when absent. */
export function valueSpan(root: Node | undefined, path: JSONPath): TextSpan | null {
  if (!root) return null;
  const value = findNodeAtLocation(root, path);
  return value ? { offset: value.offset, length: value.length } : null;
}

/** The anchors of a config text. Never throws; missing parts are null / left out. */
export function findConfigAnchors(text: string): ConfigAnchors {
  const root = configTree(text);
  const data: DataPathAnchor[] = [];
  for (const key of DATA_KEYS) {
    const node = root ? findNodeAtLocation(root, ['data', key]) : undefined;
    if (node?.type === 'array') {
      // A list of files and globs (shards): each string entry is its own data path, its lens above it.
      (node.children ?? []).forEach((entry, index) => {
        if (entry.type !== 'string' || typeof entry.value !== 'string') return;
        const span = { offset: entry.offset, length: entry.length };
        data.push({ key, index, value: entry.value, property: span, valueSpan: span });
      });
      continue;
    }
    if (!node || node.type !== 'string' || typeof node.value !== 'string') continue;
    const prop = node.parent?.type === 'property' ? node.parent : node;
    data.push({
      key,
      index: null,
      value: node.value,
      property: { offset: prop.offset, length: prop.length },
      valueSpan: { offset: node.offset, length: node.length },
    });
  }
  return {
    root: root && root.type === 'object' ? { offset: root.offset, length: root.length } : null,
    loss: propertySpan(root, ['loss']),
    data,
    sweepable: SWEEPABLE_KEYS.flatMap((param) => {
      const property = propertySpan(root, param.split('.'));
      return property ? [{ param, property }] : [];
    }),
  };
}

/**
 * The few config values the extension needs without a full validation (the runs folder and name),
 * read tolerantly: defaults of experiment.schema.json when absent or of the wrong type.
 */
export interface ConfigBasics {
  name: string;
  /** `output.runsDir` as written (default "runs"), relative to the config's folder unless absolute. */
  runsDir: string;
}

/** Read {@link ConfigBasics} from config text; never throws. */
export function readConfigBasics(text: string): ConfigBasics {
  const root = configTree(text);
  const str = (path: JSONPath, fallback: string): string => {
    const n = root ? findNodeAtLocation(root, path) : undefined;
    return n && n.type === 'string' && typeof n.value === 'string' && n.value !== '' ? n.value : fallback;
  };
  return { name: str(['name'], 'experiment'), runsDir: str(['output', 'runsDir'], 'runs') };
}
