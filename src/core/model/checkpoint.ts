import * as fs from 'fs';
import * as path from 'path';
import type { ModelConfig } from '../config/types';
import { queryHeadsOf, towerPreset } from './towers';
import { namedTowers, towerInputDim, type DenseParams, type ModelDims, type TowerParams, type TwoTowerParams } from './params';
import { readBoundedSync, readJsonSync } from '../io/safeRead';

/**
 * Checkpoints in TensorFlow.js' weights format: `model.json` (with a `weightsManifest`) and one
 * `weights.bin` of little-endian float32 values, concatenated in manifest order. Weight names are
 * `<tower>/embedding` [V × E], `<tower>/dense1/kernel` [E × H], `<tower>/dense1/bias` [H],
 * `<tower>/dense2/kernel` [H × D], `<tower>/dense2/bias` [D] ([H × K·D] and [K·D] for a DPSR query tower of K
 * heads, model.preset "dpsr": K output layers side by side), with tower `query` and `item`, or `shared` when
 * towers are shared. The query tower of `checkpoint.model.preset` "mgdspr" has `query/dense1/kernel` [4E × H]
 * (towers/mgdspr.ts); a checkpoint without `preset` is "dssm". `tf.io.decodeWeights` reads the same files.
 */
export const CHECKPOINT_FORMAT = 'retrieval-lens/two-tower@1';

export interface CheckpointInfo {
  step: number;
  model: ModelConfig;
  /** Free-form extra facts (metric that made it "best", backend, ...). */
  extra?: Record<string, unknown>;
}

interface WeightSpec {
  name: string;
  shape: number[];
  dtype: 'float32';
}

interface ModelJson {
  format: string;
  generatedBy: string;
  checkpoint: CheckpointInfo;
  weightsManifest: { paths: string[]; weights: WeightSpec[] }[];
}

function towerWeights(prefix: string, t: TowerParams, d: ModelDims, inDim: number): { spec: WeightSpec; data: Float32Array }[] {
  const w = (name: string, shape: number[], data: Float32Array) => ({ spec: { name: `${prefix}/${name}`, shape, dtype: 'float32' as const }, data });
  return [
    w('embedding', [d.vocab, d.embed], t.table),
    w('dense1/kernel', [inDim, d.hidden], t.dense.w1),
    w('dense1/bias', [d.hidden], t.dense.b1),
    w('dense2/kernel', [d.hidden, t.dense.b2.length], t.dense.w2),
    w('dense2/bias', [t.dense.b2.length], t.dense.b2),
  ];
}

/** Writes model.json and weights.bin into `dir` (which must exist; callers write into a temp dir and swap). */
export async function saveCheckpoint(dir: string, params: TwoTowerParams, info: CheckpointInfo): Promise<void> {
  const weights = namedTowers(params).flatMap(({ name, tower }) =>
    towerWeights(name, tower, params.dims, towerInputDim(params, name === 'query' ? 'query' : 'item')),
  );
  const json: ModelJson = {
    format: CHECKPOINT_FORMAT,
    generatedBy: 'retrieval-lens',
    checkpoint: info,
    weightsManifest: [{ paths: ['weights.bin'], weights: weights.map((w) => w.spec) }],
  };
  const fh = await fs.promises.open(path.join(dir, 'weights.bin'), 'w');
  try {
    for (const w of weights) await fh.write(new Uint8Array(w.data.buffer, w.data.byteOffset, w.data.byteLength));
    await fh.sync();
  } finally {
    await fh.close();
  }
  await fs.promises.writeFile(path.join(dir, 'model.json'), JSON.stringify(json, null, 1));
}

/** Thrown for a missing, truncated or inconsistent checkpoint; the message names the file. */
export class CheckpointError extends Error {
  override name = 'CheckpointError';
}

/** Reads a checkpoint written by saveCheckpoint (or by another trainer following docs/run-format.md). */
export function loadCheckpoint(dir: string): { params: TwoTowerParams; info: CheckpointInfo } {
  const jsonFile = path.join(dir, 'model.json');
  let json: ModelJson;
  try {
    json = readJsonSync(jsonFile, 'cache key') as ModelJson;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CheckpointError(code === 'ENOENT' ? `checkpoint not found: ${jsonFile}` : `unreadable checkpoint ${jsonFile}: ${(e as Error).message}`);
  }
  if (json.format !== CHECKPOINT_FORMAT)
    throw new CheckpointError(`${jsonFile}: unknown format ${JSON.stringify(json.format)} (expected ${CHECKPOINT_FORMAT})`);
  const group = json.weightsManifest?.[0];
  if (!group || group.paths?.length !== 1) throw new CheckpointError(`${jsonFile}: weightsManifest must have one group with one path`);
  const binName = group.paths[0];
  if (typeof binName !== 'string' || binName !== path.basename(binName) || binName === '..' || binName === '.')
    throw new CheckpointError(`${jsonFile}: weightsManifest path ${JSON.stringify(binName)} must be a file name in the checkpoint folder`);
  const binFile = path.join(dir, binName);
  const expected = group.weights.reduce((s, w) => s + 4 * w.shape.reduce((a, b) => a * b, 1), 0);
  let bin: Buffer;
  try {
    // At most the bytes the manifest needs (+1, so a longer file is reported as mismatched below).
    bin = readBoundedSync(binFile, 'binary cache', { maxBytes: Number.isFinite(expected) ? expected + 1 : 0 });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EFBIG') throw new CheckpointError(`${binFile}: larger than the ${expected} bytes the manifest needs (truncated or mismatched)`);
    throw new CheckpointError(
      code === 'ENOENT' ? `checkpoint weights not found: ${binFile}` : `unreadable checkpoint weights ${binFile}: ${(e as Error).message}`,
    );
  }
  if (bin.byteLength !== expected) throw new CheckpointError(`${binFile}: ${bin.byteLength} bytes, manifest needs ${expected} (truncated or mismatched)`);
  const values = new Map<string, Float32Array>();
  let off = 0;
  for (const w of group.weights) {
    const n = w.shape.reduce((a, b) => a * b, 1);
    const copy = new Float32Array(n);
    new Uint8Array(copy.buffer).set(bin.subarray(off, off + 4 * n));
    values.set(w.name, copy);
    off += 4 * n;
  }
  const m = json.checkpoint.model;
  const dims: ModelDims = { vocab: m.vocabBuckets, embed: m.embeddingDim, hidden: m.hiddenDim, out: m.outputDim };
  const get = (name: string, size: number): Float32Array => {
    const v = values.get(name);
    if (!v) throw new CheckpointError(`${jsonFile}: weight "${name}" missing`);
    if (v.length !== size) throw new CheckpointError(`${jsonFile}: weight "${name}" has ${v.length} values, expected ${size}`);
    return v;
  };
  let preset;
  try {
    preset = towerPreset(m);
  } catch (e) {
    throw new CheckpointError(`${jsonFile}: checkpoint.model.preset: ${(e as Error).message}`);
  }
  if (preset !== 'dssm' && m.sharedTowers) throw new CheckpointError(`${jsonFile}: checkpoint.model.preset "${preset}" with shared towers`);
  const presetField = preset !== 'dssm' ? { preset } : {};
  // A DPSR query tower has K output layers side by side (W2 [H × K·D]); the checkpoint's model names preset and K.
  const tower = (prefix: string, heads = 1): TowerParams => {
    const inDim = towerInputDim({ dims, ...presetField }, prefix === 'query' ? 'query' : 'item');
    const dense: DenseParams = {
      w1: get(`${prefix}/dense1/kernel`, inDim * dims.hidden),
      b1: get(`${prefix}/dense1/bias`, dims.hidden),
      w2: get(`${prefix}/dense2/kernel`, dims.hidden * dims.out * heads),
      b2: get(`${prefix}/dense2/bias`, dims.out * heads),
    };
    return { table: get(`${prefix}/embedding`, dims.vocab * dims.embed), dense };
  };
  const shared = m.sharedTowers;
  const query = tower(shared ? 'shared' : 'query', queryHeadsOf(m));
  const item = shared ? query : tower('item');
  return { params: { dims, query, item, shared, ...presetField }, info: json.checkpoint };
}
