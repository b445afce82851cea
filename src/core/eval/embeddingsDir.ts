/**
 * A folder of precomputed embeddings for `retrieval-lens eval <run> --embeddings DIR` (docs/run-format.md §8.1):
 * `queries.npy` and `items.npy` (float32 [rows, dim], the same dim) with `queries.ids.json` and `items.ids.json`
 * (JSON arrays of strings: the test query id and the item id of each row), and optionally `embeddings.json`
 * (`{"step": n}`: the training step the encoder had). Every problem is reported with the file and the row.
 */
import * as fs from 'fs';
import * as path from 'path';
import { readNpyFloat32 } from './npy';

/** The embeddings folder inside a run (retrieval_lens.Lens.evaluate writes it; evaluated when the run has no checkpoint). */
export const RUN_EMBEDDINGS_DIR = 'embeddings';
export const QUERY_EMBEDDINGS_FILE = 'queries.npy';
export const QUERY_IDS_FILE = 'queries.ids.json';
export const ITEM_EMBEDDINGS_FILE = 'items.npy';
export const ITEM_IDS_FILE = 'items.ids.json';
export const EMBEDDINGS_MANIFEST_FILE = 'embeddings.json';

/** One matrix with the id of each row. */
export interface EmbeddingMatrix {
  file: string;
  idsFile: string;
  ids: string[];
  rowOf: Map<string, number>;
  dim: number;
  data: Float32Array;
}

export interface EmbeddingsSet {
  dir: string;
  queries: EmbeddingMatrix;
  items: EmbeddingMatrix;
  /** embeddings.json's step, or null without one. */
  step: number | null;
}

function readIds(file: string): string[] {
  let ids: unknown;
  try {
    ids = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : `not valid JSON: ${(e as Error).message}`}`, { cause: e });
  }
  if (!Array.isArray(ids)) throw new Error(`${file}: expected a JSON array of id strings, got ${ids === null ? 'null' : typeof ids}`);
  const bad = ids.findIndex((x) => typeof x !== 'string' || x === '');
  if (bad >= 0) throw new Error(`${file}: entry ${bad} is ${JSON.stringify(ids[bad])}; every id must be a non-empty string`);
  return ids as string[];
}

function readMatrix(dir: string, npy: string, idsName: string): EmbeddingMatrix {
  const file = path.join(dir, npy);
  const idsFile = path.join(dir, idsName);
  if (!fs.existsSync(file)) throw new Error(`${file}: missing (a float32 .npy file of embeddings, one row per id of ${idsName})`);
  const m = readNpyFloat32(file);
  const ids = readIds(idsFile);
  if (ids.length !== m.rows) throw new Error(`${idsFile} has ${ids.length} ids but ${file} has ${m.rows} rows`);
  if (m.cols === 0) throw new Error(`${file}: the embeddings have dimension 0`);
  const rowOf = new Map<string, number>();
  ids.forEach((id, r) => {
    const first = rowOf.get(id);
    if (first !== undefined) throw new Error(`${idsFile}: id ${JSON.stringify(id)} at row ${r} repeats row ${first}`);
    rowOf.set(id, r);
  });
  for (let i = 0; i < m.data.length; i++) {
    if (!Number.isFinite(m.data[i])) {
      const r = Math.floor(i / m.cols);
      throw new Error(`${file}: row ${r} (id ${JSON.stringify(ids[r])}) has a non-finite value (${m.data[i]}) in column ${i % m.cols}`);
    }
  }
  return { file, idsFile, ids, rowOf, dim: m.cols, data: m.data };
}

/** Reads and checks an embeddings folder (shapes, ids, finite values, equal dimensions). */
export function loadEmbeddingsDir(dir: string): EmbeddingsSet {
  const abs = path.resolve(dir);
  if (!fs.statSync(abs, { throwIfNoEntry: false })?.isDirectory()) throw new Error(`${abs}: not a folder of embeddings`);
  const queries = readMatrix(abs, QUERY_EMBEDDINGS_FILE, QUERY_IDS_FILE);
  const items = readMatrix(abs, ITEM_EMBEDDINGS_FILE, ITEM_IDS_FILE);
  if (queries.dim !== items.dim) throw new Error(`${queries.file} has dimension ${queries.dim} but ${items.file} has ${items.dim}`);
  let step: number | null = null;
  const manifest = path.join(abs, EMBEDDINGS_MANIFEST_FILE);
  if (fs.existsSync(manifest)) {
    let m: unknown;
    try {
      m = JSON.parse(fs.readFileSync(manifest, 'utf8'));
    } catch (e) {
      throw new Error(`${manifest}: not valid JSON: ${(e as Error).message}`, { cause: e });
    }
    const s = (m as { step?: unknown } | null)?.step;
    if (!Number.isInteger(s) || (s as number) < 0) throw new Error(`${manifest}: step: must be an integer >= 0, got ${JSON.stringify(s)}`);
    step = s as number;
  }
  return { dir: abs, queries, items, step };
}
