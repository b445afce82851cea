/**
 * Reader for the fixed-layout start of a serialised faiss 1.7.x index (faiss/impl/index_write.cpp):
 *
 *   fourcc          4 bytes  e.g. "IxFI" (IndexFlatIP), "IwPQ" (IndexIVFPQ)
 *   write_index_header:
 *     d             int32
 *     ntotal        int64
 *     dummy, dummy  int64 × 2 (both 1 << 20)
 *     is_trained    uint8 (bool)
 *     metric_type   int32
 *     metric_arg    float32, only when metric_type > 1
 *   write_ivf_header (IVF indexes only), right after:
 *     nlist         uint64 (size_t)
 *     nprobe        uint64 (size_t)
 *
 * So for an inner-product (metric 0) IVF index nprobe sits at byte 45. The offsets were checked
 * against bytes written by faiss 1.7.3 (nlist/nprobe values read back as set) and by behaviour:
 * patching nprobe changes recall (see test/index.test.ts).
 */

/**
 * fourcc codes of IVF index types whose header is followed by nlist/nprobe (checked with faiss
 * 1.7.3: IVF,Flat → IwFl; IVF,SQ8 → IwSq; IVF,PQ → IwPQ).
 */
export const IVF_FOURCCS: readonly string[] = ['IwFl', 'IwSq', 'IwPQ'];
/** fourcc faiss writes for IndexFlatIP / IndexIVFPQ (non-polysemous). */
export const FOURCC_FLAT_IP = 'IxFI';
export const FOURCC_IVF_PQ = 'IwPQ';

/** dummy value faiss writes twice in every index header. */
const HEADER_DUMMY = BigInt(1 << 20);

export interface FaissIndexHeader {
  fourcc: string;
  d: number;
  ntotal: number;
  isTrained: boolean;
  metricType: number;
  /** Byte offset just after the common index header. */
  headerEnd: number;
  /** Present for IVF fourccs. */
  ivf?: { nlist: number; nprobe: number; nprobeOffset: number };
}

/**
 * Parses the header of a serialised faiss index. Throws an Error (prefixed with `what`, e.g. the
 * file name) when the bytes are too short or the fixed fields are not what faiss writes.
 */
export function readFaissHeader(buf: Uint8Array, what = 'faiss index'): FaissIndexHeader {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const need = (end: number): void => {
    if (buf.byteLength < end) throw new Error(`${what}: too short for a faiss index header (${buf.byteLength} bytes)`);
  };
  need(37);
  const fourcc = String.fromCharCode(buf[0], buf[1], buf[2], buf[3]);
  if (!/^[A-Za-z]{4}$/.test(fourcc)) throw new Error(`${what}: not a faiss index (bad type code ${JSON.stringify(fourcc)})`);
  const d = view.getInt32(4, true);
  const ntotal = view.getBigInt64(8, true);
  const dummy1 = view.getBigInt64(16, true);
  const dummy2 = view.getBigInt64(24, true);
  const trainedByte = buf[32];
  const metricType = view.getInt32(33, true);
  if (dummy1 !== HEADER_DUMMY || dummy2 !== HEADER_DUMMY || trainedByte > 1 || d <= 0 || ntotal < 0n || metricType < 0) {
    throw new Error(`${what}: corrupt faiss index header (fourcc ${fourcc})`);
  }
  let offset = 37;
  if (metricType > 1) offset += 4; // metric_arg
  const header: FaissIndexHeader = {
    fourcc,
    d,
    ntotal: Number(ntotal),
    isTrained: trainedByte === 1,
    metricType,
    headerEnd: offset,
  };
  if (IVF_FOURCCS.includes(fourcc)) {
    need(offset + 16);
    const nlist = view.getBigUint64(offset, true);
    const nprobe = view.getBigUint64(offset + 8, true);
    if (nlist < 1n || nprobe < 1n || nlist > BigInt(Number.MAX_SAFE_INTEGER) || nprobe > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new Error(`${what}: corrupt IVF header (nlist ${nlist}, nprobe ${nprobe})`);
    }
    header.ivf = { nlist: Number(nlist), nprobe: Number(nprobe), nprobeOffset: offset + 8 };
  }
  return header;
}
