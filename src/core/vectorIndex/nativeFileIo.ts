import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadFaiss } from './faissModule';
import type { Index as FaissIndex } from 'faiss-node';

/*
 * File-based faiss I/O. We avoid faiss-node's toBuffer()/fromBuffer(): in faiss-node 0.5.1 both
 * allocate a VectorIOWriter/VectorIOReader with `new` and never free it, leaking a full copy of the
 * index per call. Index.write()/Index.read() use faiss's FileIOWriter/Reader and do not leak, but
 * write() does not catch faiss exceptions (an unwritable path would abort the process), so the
 * target is checked from JS first.
 */

/** Throws a clear Error unless `file` can be created: its folder exists and is writable, and it is not a folder. */
export function checkWritableTarget(file: string): void {
  const dir = path.dirname(path.resolve(file));
  try {
    if (!fs.statSync(dir).isDirectory()) throw new Error('not a directory');
    fs.accessSync(dir, fs.constants.W_OK);
  } catch (err) {
    throw new Error(`Cannot write index file ${file}: folder ${dir} is not a writable directory (${(err as Error).message})`, { cause: err });
  }
  if (fs.existsSync(file) && fs.statSync(file).isDirectory()) throw new Error(`Cannot write index file ${file}: it is a directory`);
}

/** Writes a faiss index to `file` with faiss's own writer, after checkWritableTarget. */
export function writeNativeIndex(native: FaissIndex, file: string): void {
  checkWritableTarget(file);
  native.write(file);
}

/** Reads a faiss index file with faiss's own reader; faiss errors are rethrown naming the file. */
export function readNativeIndex(file: string): FaissIndex {
  const faiss = loadFaiss();
  try {
    return faiss.Index.read(file);
  } catch (err) {
    throw new Error(`faiss could not read index file ${file}: ${(err as Error).message}`, { cause: err });
  }
}
