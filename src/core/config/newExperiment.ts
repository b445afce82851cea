/**
 * "New Experiment…" (extension) and `retrieval-lens new` (CLI): look at the user's training data, test data
 * and corpus with the readers training uses (src/core/data: the same format detection and record-shape
 * detection as the run log's "training examples from … (jsonl: query+positive pairs, detected at …)" line),
 * say what was found, and write a config for it that trains as it is. Never overwrites a file unless asked.
 */
import * as fs from 'fs';
import * as path from 'path';
import { detectFormat } from '../data/dataPath';
import { DataError } from '../data/errors';
import { SHAPE_NAMES } from '../data/formats';
import { isBlank, readLines } from '../data/lineReader';
import { LineFault } from '../data/lineFields';
import { parseCorpusLine } from '../data/corpusJsonl';
import { fileFormat, fileRecordParser } from '../data/trainFiles';

/** Lines of a file read at most to decide its record shape. */
const SHAPE_LINES = 200;
/** Default training steps of a new experiment (the user is asked; the schema's default too). */
export const NEW_EXPERIMENT_STEPS = 1000;

export type DataRole = 'train' | 'test' | 'corpus';

/** What was found at a data path. */
export interface DataFinding {
  /** Absolute path. */
  path: string;
  format: 'beir' | 'jsonl' | 'tsv' | 'bge' | 'sentence-transformers' | 'msmarco';
  /** One line for the user, e.g. "JSONL: query+positive pairs, detected at train.jsonl:1 (item ids from "positive_id")". */
  description: string;
  /** BEIR folders: the qrels splits present (e.g. ["test", "train"]). */
  splits?: string[];
}

/** The qrels splits of a BEIR folder (qrels/<split>.tsv), sorted. */
function beirSplits(folder: string): string[] {
  try {
    return fs
      .readdirSync(path.join(folder, 'qrels'))
      .filter((f) => f.endsWith('.tsv'))
      .map((f) => f.slice(0, -4))
      .sort();
  } catch {
    return [];
  }
}

/**
 * Detect what `absPath` holds for `role`. Throws a DataError (naming the file, and the line for a bad first
 * record) when it cannot serve: missing, a BEIR folder without the split the role reads, a TSV corpus, no
 * record of a known shape in its first 200 lines.
 */
export async function inspectData(absPath: string, role: DataRole, split = role === 'train' ? 'train' : 'test'): Promise<DataFinding> {
  const label = `data.${role}`;
  const format = await detectFormat(absPath, 'auto', label);
  if (format === 'beir') {
    const splits = beirSplits(absPath);
    if (role !== 'corpus' && !splits.includes(split))
      throw new DataError(
        `${absPath} is a BEIR folder without qrels/${split}.tsv (${splits.length ? `splits: ${splits.join(', ')}` : 'no qrels folder'}); ${label} reads the "${split}" split`,
        absPath,
      );
    const parts = role === 'corpus' ? 'corpus.jsonl' : `corpus.jsonl, queries.jsonl, qrels/${split}.tsv`;
    return { path: absPath, format, splits, description: `BEIR folder (${parts}; splits: ${splits.join(', ') || 'none'})` };
  }
  const file = absPath;
  if (role === 'corpus') {
    if (format === 'tsv') throw new DataError(`${file}: a corpus must be a JSONL file of {"id", "text"} lines or a BEIR folder, not TSV (${label})`, file);
    for await (const { text, line } of readLines(file)) {
      if (isBlank(text)) continue;
      try {
        parseCorpusLine(text, { file, line });
      } catch (e) {
        if (e instanceof LineFault) throw new DataError(`${file}:${line}: not a corpus line: ${e.message} (${label}; expected {"id", "text"})`, file, line);
        throw e;
      }
      return { path: file, format, description: `corpus JSONL ({"id", "text"} lines, checked at ${path.basename(file)}:${line})` };
    }
    throw new DataError(`${file} holds no data lines (${label})`, file);
  }
  const parser = fileRecordParser({ file, ...fileFormat(file, 'auto') }, undefined, label);
  let firstFault: string | null = null;
  let n = 0;
  for await (const { text, line } of readLines(file)) {
    if (isBlank(text)) continue;
    if (n++ === 0 && parser.header(text)) continue;
    try {
      parser.parse(text, { file, line });
    } catch (e) {
      if (!(e instanceof LineFault)) throw e;
      firstFault ??= `${path.basename(file)}:${line}: ${e.message}`;
    }
    if (parser.shape !== null || n >= SHAPE_LINES) break;
  }
  if (parser.shape === null)
    throw new DataError(
      `${file}: no training pairs of a known shape in its first ${Math.min(n, SHAPE_LINES)} lines${firstFault ? ` (${firstFault})` : ''} (${label})`,
      file,
    );
  const container = format === 'tsv' || format === 'msmarco' ? 'TSV' : 'JSONL';
  return { path: file, format, description: `${container}: ${SHAPE_NAMES[parser.shape]}, ${parser.how}` };
}

/** A path as written in a config beside `configDir`: relative with "/" when inside or near, else absolute. */
export function configRelativePath(configDir: string, abs: string): string {
  const rel = path.relative(configDir, abs);
  if (rel === '') return '.';
  if (path.isAbsolute(rel)) return abs;
  return rel.split(path.sep).join('/');
}

export interface NewExperimentSpec {
  /** Experiment name (config "name"; runs are named after it). */
  name: string;
  /** Folder of the config file to write (data paths are written relative to it). */
  configDir: string;
  train: DataFinding;
  test?: DataFinding;
  corpus?: DataFinding;
  /** Training steps (default NEW_EXPERIMENT_STEPS). */
  steps?: number;
}

/**
 * The config text (JSONC with comments): the data paths, what was detected in them, and the settings that
 * train the hashed-token two-tower model on CPU in minutes (batch 256, learning rate 0.002 as in the bundled
 * example; the loss is the schema's default, the paper's adaptive softmax with stop-gradient and symmetric term).
 */
export function newExperimentText(spec: NewExperimentSpec): string {
  const rel = (f: DataFinding) => JSON.stringify(configRelativePath(spec.configDir, f.path));
  const comment = (f: DataFinding) => `    // ${f.description.replace(/\s*\n\s*/g, ' ')}`;
  const data: string[] = [comment(spec.train), `    "train": ${rel(spec.train)}`];
  if (spec.test) data.push(comment(spec.test), `    "test": ${rel(spec.test)}`);
  if (spec.corpus) data.push(comment(spec.corpus), `    "corpus": ${rel(spec.corpus)}`);
  const dataBody = data.map((l, i) => (l.trimStart().startsWith('//') || i === data.length - 1 ? l : `${l},`)).join('\n');
  const noTest = spec.test ? '' : '  // No data.test: evaluation (and the live held-out recall) needs test queries; add "test" (and "corpus") to evaluate.\n';
  return `{
  // Written by Retrieval Lens "New Experiment…". Every key is described in the README ("The config file");
  // hover a key for its meaning. Train with ▷ Train above, or: retrieval-lens train <this file>
  "name": ${JSON.stringify(spec.name)},
${noTest}  "data": {
${dataBody}
  },
  // The paper's loss (the schema's default): adaptive temperature softmax with stop-gradient and the
  // symmetric term. "Sweep…" and "Ablation…" above the loss compare it with fixed values.
  "loss": { "type": "softmax", "adaptive": true, "stopGradient": true, "symmetric": true },
  "training": {
    // As in the bundled example: large enough steps for the hashed-token towers to learn on CPU.
    "batchSize": 256,
    "learningRate": 0.002,
    "steps": ${spec.steps ?? NEW_EXPERIMENT_STEPS},
    "checkpointEvery": ${Math.max(1, Math.min(500, Math.ceil((spec.steps ?? NEW_EXPERIMENT_STEPS) / 4)))}
  }
}
`;
}

/**
 * Write a new config file; refuses (throws, naming it) an existing file unless `overwrite`. The file is
 * created exclusively, so a file appearing meanwhile is not overwritten either.
 */
export function writeNewExperiment(file: string, text: string, overwrite = false): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  try {
    fs.writeFileSync(file, text, { flag: overwrite ? 'w' : 'wx' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST')
      throw new Error(`${file} exists already; choose another name (or --force to overwrite it)`, { cause: e });
    throw e;
  }
}

/** "shop-search" from a file or folder name: a config name suggestion. */
export function suggestedName(dataPath: string): string {
  const base = path.basename(dataPath).replace(/\.(jsonl|tsv|json)(\.gz)?$/i, '');
  const parent = path.basename(path.dirname(dataPath));
  const generic = /^(train|training|data|corpus|test|dev)$/i.test(base);
  const name = (generic && parent ? parent : base)
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return name || 'experiment';
}
