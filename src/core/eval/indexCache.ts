import * as fs from 'fs';
import * as path from 'path';
import type { EvaluationConfig } from '../config/types';
import type { EvalCorpus } from './evalCorpus';
import { loadIndex, saveIndex, type VectorIndex } from '../vectorIndex';
import { writeFileAtomicSync, writeJsonAtomicSync } from '../runs/atomicWrite';
import { readBoundedSync, readJsonSync } from '../io/safeRead';

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

export { corpusFingerprint } from './evalCorpus';

/** What the cache key needs of a corpus: its row count and fingerprint. */
type CorpusKey = Pick<EvalCorpus, 'count' | 'fingerprint'>;

function keyOf(step: number, index: EvaluationConfig['index'], corpus: CorpusKey, dim: number): CacheKey {
  return { v: 1, step, index, corpus: corpus.fingerprint, n: corpus.count, dim };
}

/** Loads the saved index + corpus embeddings when they were built for exactly this checkpoint, spec and corpus. */
export function loadIndexCache(
  checkpointDir: string,
  step: number,
  index: EvaluationConfig['index'],
  corpus: CorpusKey,
  dim: number,
  log: (m: string) => void,
): { index: VectorIndex; corpusEmb: Float32Array } | null {
  const dir = path.join(checkpointDir, 'index');
  if (!fs.existsSync(path.join(dir, 'cache.json'))) return null;
  try {
    const saved = readJsonSync(path.join(dir, 'cache.json'), 'cache key');
    if (JSON.stringify(saved) !== JSON.stringify(keyOf(step, index, corpus, dim))) {
      log(`saved index in ${dir} is for another checkpoint, spec or corpus: rebuilding`);
      return null;
    }
    const bytes = readBoundedSync(path.join(dir, 'corpus.f32'), 'binary cache', { maxBytes: corpus.count * dim * 4 });
    if (bytes.byteLength !== corpus.count * dim * 4) throw new Error(`corpus.f32 has ${bytes.byteLength} bytes, expected ${corpus.count * dim * 4}`);
    const corpusEmb = new Float32Array(corpus.count * dim);
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
  corpus: CorpusKey,
  dim: number,
  index: VectorIndex,
  corpusEmb: Float32Array,
): string {
  const dir = path.join(checkpointDir, 'index');
  fs.mkdirSync(dir, { recursive: true });
  fs.rmSync(path.join(dir, 'cache.json'), { force: true }); // invalid until everything below is written
  saveIndex(index, path.join(dir, 'index.faiss'));
  writeFileAtomicSync(path.join(dir, 'corpus.f32'), new Uint8Array(corpusEmb.buffer, corpusEmb.byteOffset, corpusEmb.byteLength));
  writeJsonAtomicSync(path.join(dir, 'cache.json'), keyOf(step, indexCfg, corpus, dim));
  return dir;
}
