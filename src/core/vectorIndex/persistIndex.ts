import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import { faissNodeVersion } from './faissModule';
import { FOURCC_FLAT_IP, FOURCC_IVF_PQ, readFaissHeader } from './faissHeader';
import { readBoundedSync, readJsonSync } from '../io/safeRead';
import { checkWritableTarget, readNativeIndex, writeNativeIndex } from './nativeFileIo';
import type { IndexSpec, VectorIndex } from './types';

export const SIDECAR_FORMAT = 'retrieval-lens/faiss-index';
export const SIDECAR_VERSION = 1;

/** The JSON written next to every saved index (`<file>.json`). */
export interface IndexSidecar {
  format: typeof SIDECAR_FORMAT;
  version: typeof SIDECAR_VERSION;
  spec: IndexSpec;
  dim: number;
  n: number;
  /** nprobe in effect (IVF) or null (Flat). */
  nprobe: number | null;
  faissNode: string;
  /** Size and SHA-256 of the index file: checked before faiss parses a byte of it. */
  bytes: number;
  sha256: string;
  notes: string[];
  savedAt: string;
}

/** Path of the JSON sidecar of an index file. */
export function sidecarPath(file: string): string {
  return `${file}.json`;
}

function sha256(bytes: Uint8Array): string {
  return crypto.createHash('sha256').update(bytes).digest('hex');
}

/** Size of an IndexFlatIP file: fourcc + header (37 bytes) + float-vector length (8) + n·d floats. */
function flatFileBytes(n: number, dim: number): number {
  return 45 + 4 * n * dim;
}

/**
 * Saves an index as `file` (faiss's own format) plus `<file>.json` (spec, dim, n, nprobe,
 * faiss-node version, byte size and SHA-256). Both are written to temporary names and renamed.
 */
export function saveIndex(index: VectorIndex, file: string): void {
  checkWritableTarget(file);
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    writeNativeIndex(index.native, tmp);
    const bytes = fs.readFileSync(tmp);
    const sidecar: IndexSidecar = {
      format: SIDECAR_FORMAT,
      version: SIDECAR_VERSION,
      spec: index.spec,
      dim: index.dim,
      n: index.native.ntotal(),
      nprobe: index.spec.type === 'IVF-PQ' ? index.spec.nprobe : null,
      faissNode: faissNodeVersion(),
      bytes: bytes.length,
      sha256: sha256(bytes),
      notes: [...index.notes],
      savedAt: new Date().toISOString(),
    };
    fs.writeFileSync(`${tmp}.json`, JSON.stringify(sidecar, null, 2) + '\n');
    fs.renameSync(tmp, file);
    fs.renameSync(`${tmp}.json`, sidecarPath(file));
  } finally {
    fs.rmSync(tmp, { force: true });
    fs.rmSync(`${tmp}.json`, { force: true });
  }
}

/**
 * Loads an index saved by saveIndex. Everything is validated before faiss sees the bytes, so a
 * missing, truncated or corrupt file gives an Error naming the file instead of a native crash:
 * sidecar present and well-formed → file size and SHA-256 match → faiss header agrees with the
 * sidecar (type, dim, ntotal, nlist, nprobe) → faiss reads it (errors rethrown with the file name).
 */
export function loadIndex(file: string): VectorIndex {
  if (!fs.existsSync(file)) throw new Error(`Index file not found: ${file}`);
  if (!fs.statSync(file).isFile()) throw new Error(`Index path is not a file: ${file}`);
  const sidecar = readSidecar(file);

  let bytes: Buffer;
  try {
    bytes = readBoundedSync(file, 'binary cache', { maxBytes: sidecar.bytes });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EFBIG') throw err;
    throw new Error(`Index file ${file} is larger than the ${sidecar.bytes} bytes of ${sidecarPath(file)}: not the file that was saved`, { cause: err });
  }
  if (bytes.length < sidecar.bytes) {
    throw new Error(`Index file ${file} is truncated: ${bytes.length} bytes, expected ${sidecar.bytes} (per ${sidecarPath(file)})`);
  }
  if (bytes.length !== sidecar.bytes) {
    throw new Error(`Index file ${file} has ${bytes.length} bytes, expected ${sidecar.bytes} (per ${sidecarPath(file)}): not the file that was saved`);
  }
  if (sha256(bytes) !== sidecar.sha256) {
    throw new Error(`Index file ${file} is corrupt: its SHA-256 does not match ${sidecarPath(file)}`);
  }
  checkHeaderAgainstSidecar(bytes, sidecar, file);

  const native = readNativeIndex(file);
  if (native.ntotal() !== sidecar.n || native.getDimension() !== sidecar.dim) {
    throw new Error(`Index file ${file}: faiss read ${native.ntotal()} × ${native.getDimension()}, sidecar says ${sidecar.n} × ${sidecar.dim}`);
  }
  return { spec: sidecar.spec, dim: sidecar.dim, ntotal: sidecar.n, notes: sidecar.notes, native };
}

function readSidecar(file: string): IndexSidecar {
  const side = sidecarPath(file);
  if (!fs.existsSync(side)) {
    throw new Error(`Index sidecar not found: ${side} (saveIndex writes it next to ${file}; without it the index cannot be validated)`);
  }
  let raw: unknown;
  try {
    raw = readJsonSync(side, 'cache key');
  } catch (err) {
    throw new Error(`Index sidecar ${side} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  const problem = sidecarProblem(raw);
  if (problem) throw new Error(`Index sidecar ${side} is invalid: ${problem}`);
  return raw as IndexSidecar;
}

const isCount = (v: unknown, min: number): v is number => typeof v === 'number' && Number.isInteger(v) && v >= min;

/** Describes the first thing wrong with a parsed sidecar, or returns null when it is well-formed. */
function sidecarProblem(raw: unknown): string | null {
  if (typeof raw !== 'object' || raw === null) return 'not a JSON object';
  const s = raw as Record<string, unknown>;
  if (s.format !== SIDECAR_FORMAT) return `format is ${JSON.stringify(s.format)}, expected "${SIDECAR_FORMAT}"`;
  if (s.version !== SIDECAR_VERSION) return `version ${JSON.stringify(s.version)} is not supported (expected ${SIDECAR_VERSION})`;
  if (!isCount(s.dim, 1)) return 'dim must be a positive integer';
  if (!isCount(s.n, 0)) return 'n must be a non-negative integer';
  if (!isCount(s.bytes, 1)) return 'bytes must be a positive integer';
  if (typeof s.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(s.sha256)) return 'sha256 must be 64 hex digits';
  if (!Array.isArray(s.notes) || !s.notes.every((x) => typeof x === 'string')) return 'notes must be an array of strings';
  const spec = s.spec as Record<string, unknown> | null;
  if (typeof spec !== 'object' || spec === null) return 'spec is missing';
  if (spec.type === 'Flat') {
    if (s.nprobe !== null) return 'nprobe must be null for a Flat index';
    return null;
  }
  if (spec.type !== 'IVF-PQ') return `spec.type ${JSON.stringify(spec.type)} is not "Flat" or "IVF-PQ"`;
  for (const key of ['nlist', 'm', 'nbits', 'nprobe'] as const) {
    if (!isCount(spec[key], 1)) return `spec.${key} must be a positive integer`;
  }
  if (s.nprobe !== spec.nprobe) return `nprobe ${JSON.stringify(s.nprobe)} differs from spec.nprobe ${spec.nprobe}`;
  return null;
}

function checkHeaderAgainstSidecar(bytes: Uint8Array, sidecar: IndexSidecar, file: string): void {
  const header = readFaissHeader(bytes, `Index file ${file}`);
  const mismatch = (what: string, got: unknown, want: unknown): Error =>
    new Error(`Index file ${file} does not match ${sidecarPath(file)}: ${what} is ${got} in the file, ${want} in the sidecar`);
  const wantFourcc = sidecar.spec.type === 'Flat' ? FOURCC_FLAT_IP : FOURCC_IVF_PQ;
  if (header.fourcc !== wantFourcc) throw mismatch('index type', header.fourcc, wantFourcc);
  if (header.d !== sidecar.dim) throw mismatch('dim', header.d, sidecar.dim);
  if (header.ntotal !== sidecar.n) throw mismatch('ntotal', header.ntotal, sidecar.n);
  if (sidecar.spec.type === 'Flat') {
    if (bytes.length !== flatFileBytes(sidecar.n, sidecar.dim)) throw mismatch('size', bytes.length, flatFileBytes(sidecar.n, sidecar.dim));
  } else {
    if (header.ivf?.nlist !== sidecar.spec.nlist) throw mismatch('nlist', header.ivf?.nlist, sidecar.spec.nlist);
    if (header.ivf?.nprobe !== sidecar.spec.nprobe) throw mismatch('nprobe', header.ivf?.nprobe, sidecar.spec.nprobe);
  }
}
