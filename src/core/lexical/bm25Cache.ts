/**
 * The BM25 index saved beside the Faiss index (`<checkpoint>/index/bm25.bin` + `bm25.key.json`). It depends
 * on the corpus only (not on the checkpoint), so it is built once per corpus: the key is the corpus
 * fingerprint, its size, BM25_VERSION (tokenisation and parameters) and BM25_INDEX_FORMAT (the file's layout),
 * and any checkpoint folder of the run holding a matching one is reused. Anything stale (an index of this corpus
 * saved by another version or in another layout) or unreadable is rebuilt and the log says why, never trusted.
 */
import * as fs from 'fs';
import * as path from 'path';
import { writeFileAtomicSync } from '../runs/atomicWrite';
import { Bm25Index, BM25_INDEX_FORMAT, BM25_VERSION } from './bm25Index';
import { readBoundedSync, readBoundedTextSync } from '../io/safeRead';

export const BM25_FILE = 'bm25.bin';
const KEY_FILE = 'bm25.key.json';

interface Bm25Key {
  v: 1;
  version: string;
  /** Absent in keys written before the block maxima (layout 2). */
  format?: number;
  corpus: string;
  n: number;
}

function keyOf(corpusFingerprint: string, n: number): Bm25Key {
  return { v: 1, version: BM25_VERSION, format: BM25_INDEX_FORMAT, corpus: corpusFingerprint, n };
}

/** Why a saved key of this corpus does not fit (another BM25 version or layout); null when it is another corpus's. */
function staleness(text: string, corpusFingerprint: string, n: number): string | null {
  let key: Partial<Bm25Key>;
  try {
    key = JSON.parse(text) as Partial<Bm25Key>;
  } catch {
    return 'its key is not JSON';
  }
  if (key.corpus !== corpusFingerprint || key.n !== n) return null;
  const format = key.format ?? 2;
  if (format !== BM25_INDEX_FORMAT)
    return `it is in layout ${String(format)}, this version reads layout ${BM25_INDEX_FORMAT} (block maxima and posting bounds for pruned ranking)`;
  return `it was built by BM25 ${String(key.version)}, this version is ${BM25_VERSION}`;
}

/** The first index folder among `indexDirs` holding a BM25 index for this corpus; null when none. */
export function loadBm25Cache(
  indexDirs: readonly string[],
  corpusFingerprint: string,
  n: number,
  log: (m: string) => void,
): { index: Bm25Index; dir: string } | null {
  const want = JSON.stringify(keyOf(corpusFingerprint, n));
  for (const dir of indexDirs) {
    const keyFile = path.join(dir, KEY_FILE);
    if (!fs.existsSync(keyFile)) continue;
    try {
      const key = readBoundedTextSync(keyFile, 'cache key');
      if (key !== want) {
        const why = staleness(key, corpusFingerprint, n);
        if (why) log(`saved BM25 index in ${dir} is outdated (${why}): rebuilding`);
        continue;
      }
      const index = Bm25Index.fromBuffer(readBoundedSync(path.join(dir, BM25_FILE), 'binary cache'));
      if (index.documentCount !== n) throw new Error(`it holds ${index.documentCount} documents, expected ${n}`);
      log(`reusing the BM25 index saved in ${dir}`);
      return { index, dir };
    } catch (e) {
      log(`saved BM25 index in ${dir} is unusable (${(e as Error).message}): rebuilding`);
    }
  }
  return null;
}

/** Saves the BM25 index and its key in `indexDir` (the key last: a half-written index is never reused). */
export function saveBm25Cache(indexDir: string, index: Bm25Index, corpusFingerprint: string, n: number): string {
  fs.mkdirSync(indexDir, { recursive: true });
  fs.rmSync(path.join(indexDir, KEY_FILE), { force: true });
  writeFileAtomicSync(path.join(indexDir, BM25_FILE), index.toBuffer());
  writeFileAtomicSync(path.join(indexDir, KEY_FILE), JSON.stringify(keyOf(corpusFingerprint, n)));
  return indexDir;
}
