import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readFaissHeader } from './faissHeader';
import { readNativeIndex, writeNativeIndex } from './nativeFileIo';
import type { VectorIndex } from './types';

/** Bytes read to locate nprobe: the common header (≤ 41 bytes) plus nlist and nprobe. */
const HEADER_PROBE_BYTES = 64;

/**
 * Sets how many inverted lists an IVF index visits per query. faiss-node 0.5.1 exposes no setter
 * (and no ParameterSpace), so the index is written to a temporary file, the nprobe field of faiss's
 * IVF header (uint64 at byte 45 for inner-product indexes, see faissHeader.ts) is patched in place,
 * and the file is read back; `index.native` and `index.spec.nprobe` are replaced.
 * nprobe is clamped to [1, nlist]; the value in effect is returned. Throws for Flat indexes.
 */
export function setNprobe(index: VectorIndex, nprobe: number): number {
  const spec = index.spec;
  if (spec.type !== 'IVF-PQ') throw new Error(`setNprobe: nprobe applies to IVF indexes only, this index is ${spec.type}`);
  if (!Number.isInteger(nprobe) || nprobe < 1) throw new Error(`setNprobe: nprobe must be an integer >= 1, got ${nprobe}`);
  const effective = Math.min(nprobe, spec.nlist);

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rlens-nprobe-'));
  const file = path.join(dir, 'index.faiss');
  try {
    writeNativeIndex(index.native, file);
    const fd = fs.openSync(file, 'r+');
    try {
      const head = Buffer.alloc(HEADER_PROBE_BYTES);
      const got = fs.readSync(fd, head, 0, head.length, 0);
      const header = readFaissHeader(head.subarray(0, got), 'setNprobe');
      if (!header.ivf) throw new Error(`setNprobe: serialised index has type ${header.fourcc}, not an IVF index`);
      if (header.ivf.nlist !== spec.nlist) {
        throw new Error(`setNprobe: serialised nlist ${header.ivf.nlist} differs from the spec's ${spec.nlist}`);
      }
      const field = Buffer.alloc(8);
      field.writeBigUInt64LE(BigInt(effective));
      fs.writeSync(fd, field, 0, 8, header.ivf.nprobeOffset);
    } finally {
      fs.closeSync(fd);
    }
    index.native = readNativeIndex(file);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  index.spec = { ...spec, nprobe: effective };
  return effective;
}
