import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import type { EvaluationConfig } from '../config/types';
import type { Item } from '../data/types';
import { loadIndex, saveIndex, type VectorIndex } from '../vectorIndex';
import { writeFileAtomicSync, writeJsonAtomicSync } from '../runs/atomicWrite';

/**
 * The built index saved next to the checkpoint it was built from: `<checkpoint>/index/index.faiss` (+ its
 * sidecar), `corpus.f32` (the corpus embeddings, float32 little-endian, n × dim) and `cache.json`
 * (checkpoint step, requested index spec and a fingerprint of the corpus ids and texts). Reused only when
 * all three match; anything stale or unreadable is rebuilt (and said), never trusted.
 */
interface CacheKey {
  v: 1;
  step: number;
  index: EvaluationConfig['index'];
  corpus: string;
  n: number;
  dim: number;
}

export function corpusFingerprint(items: Item[]): string {
  const h = createHash('sha256');
  for (const it of items) h.update(it.id).update('\0').update(it.text).update('\n');
  return h.digest('hex');
}

function keyOf(step: number, index: EvaluationConfig['index'], corpus: Item[], dim: number, fingerprint?: string): CacheKey {
  return { v: 1, step, index, corpus: fingerprint ?? corpusFingerprint(corpus), n: corpus.length, dim };
}

/** Loads the saved index + corpus embeddings when they were built for exactly this checkpoint, spec and corpus. */
export function loadIndexCache(
  checkpointDir: string,
  step: number,
  index: EvaluationConfig['index'],
  corpus: Item[],
  dim: number,
  log: (m: string) => void,
  fingerprint?: string,
): { index: VectorIndex; corpusEmb: Float32Array } | null {
  const dir = path.join(checkpointDir, 'index');
  if (!fs.existsSync(path.join(dir, 'cache.json'))) return null;
  try {
    const saved = JSON.parse(fs.readFileSync(path.join(dir, 'cache.json'), 'utf8'));
    if (JSON.stringify(saved) !== JSON.stringify(keyOf(step, index, corpus, dim, fingerprint))) {
      log(`saved index in ${dir} is for another checkpoint, spec or corpus: rebuilding`);
      return null;
    }
    const bytes = fs.readFileSync(path.join(dir, 'corpus.f32'));
    if (bytes.byteLength !== corpus.length * dim * 4) throw new Error(`corpus.f32 has ${bytes.byteLength} bytes, expected ${corpus.length * dim * 4}`);
    const corpusEmb = new Float32Array(corpus.length * dim);
    new Uint8Array(corpusEmb.buffer).set(bytes);
    const loaded = loadIndex(path.join(dir, 'index.faiss'));
    log(`reusing the index saved in ${dir}`);
    return { index: loaded, corpusEmb };
  } catch (e) {
    log(`saved index in ${dir} is unusable (${(e as Error).message}): rebuilding`);
    return null;
  }
}

/** Saves the index, corpus embeddings and cache key next to the checkpoint. */
export function saveIndexCache(
  checkpointDir: string,
  step: number,
  indexCfg: EvaluationConfig['index'],
  corpus: Item[],
  dim: number,
  index: VectorIndex,
  corpusEmb: Float32Array,
  fingerprint?: string,
): string {
  const dir = path.join(checkpointDir, 'index');
  fs.mkdirSync(dir, { recursive: true });
  fs.rmSync(path.join(dir, 'cache.json'), { force: true }); // invalid until everything below is written
  saveIndex(index, path.join(dir, 'index.faiss'));
  writeFileAtomicSync(path.join(dir, 'corpus.f32'), new Uint8Array(corpusEmb.buffer, corpusEmb.byteOffset, corpusEmb.byteLength));
  writeJsonAtomicSync(path.join(dir, 'cache.json'), keyOf(step, indexCfg, corpus, dim, fingerprint));
  return dir;
}
