/**
 * A reader of NumPy `.npy` files holding a 2-D little-endian float32 matrix (`np.save(path, a.astype(np.float32))`),
 * the embeddings of `retrieval-lens eval --embeddings` (docs/run-format.md §8.1). Format versions 1, 2 and 3:
 * the magic `\x93NUMPY`, a version, a header length (2 bytes in v1, 4 in v2/v3), a Python dict literal header
 * `{'descr': '<f4', 'fortran_order': False, 'shape': (rows, cols), }` and the C-order data. Anything else (another
 * dtype, Fortran order, not 2-D, a data size that is not rows × cols × 4) is refused with a message naming the
 * file and what to change. (npyjs, the npm parser, accepts any dtype and shape and says less; this is 60 lines.)
 */
import * as fs from 'fs';

export interface NpyMatrix {
  rows: number;
  cols: number;
  /** Row-major rows × cols values. */
  data: Float32Array;
}

const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]); // \x93NUMPY

/** A Python dict literal's value of `key` (a quoted string, True/False, or a tuple), or null when absent. */
function headerField(header: string, key: string): string | null {
  const m = new RegExp(`['"]${key}['"]\\s*:\\s*('[^']*'|"[^"]*"|True|False|\\([^)]*\\))`).exec(header);
  return m ? m[1] : null;
}

/** What numpy calls a dtype string, in words. */
function dtypeName(descr: string): string {
  const names: Record<string, string> = { f8: 'float64', f2: 'float16', f4: 'float32', i8: 'int64', i4: 'int32', u1: 'uint8', b1: 'bool' };
  return names[descr.slice(1)] ?? descr;
}

/** Reads `file` as a 2-D float32 matrix (see the module comment); throws with the file's path on anything else. */
export function readNpyFloat32(file: string): NpyMatrix {
  const buf = fs.readFileSync(file);
  const fail = (why: string): never => {
    throw new Error(`${file}: ${why}`);
  };
  if (buf.length < 10 || !buf.subarray(0, 6).equals(MAGIC)) fail('not a .npy file (no \\x93NUMPY magic at the start); write it with numpy.save');
  const major = buf[6];
  if (major < 1 || major > 3) fail(`.npy format version ${major}.${buf[7]} is not supported (1, 2 or 3)`);
  const lenBytes = major === 1 ? 2 : 4;
  const headerLen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = 8 + lenBytes + headerLen;
  if (start > buf.length) fail(`the header says ${headerLen} bytes but the file has ${buf.length}`);
  const header = buf.subarray(8 + lenBytes, start).toString(major === 3 ? 'utf8' : 'latin1');
  const descr = headerField(header, 'descr');
  const fortran = headerField(header, 'fortran_order');
  const shape = headerField(header, 'shape');
  if (descr === null || fortran === null || shape === null) fail(`the header lacks descr, fortran_order or shape: ${header.trim()}`);
  const dtype = descr!.slice(1, -1);
  if (dtype !== '<f4' && dtype !== '|f4') {
    fail(`dtype is ${dtype} (${dtypeName(dtype)}); expected little-endian float32 ('<f4'): save a.astype(numpy.float32)`);
  }
  if (fortran !== 'False') fail('the array is in Fortran order; save numpy.ascontiguousarray(a)');
  const dims = shape!
    .slice(1, -1)
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map(Number);
  if (dims.length !== 2 || !dims.every((d) => Number.isInteger(d) && d >= 0)) fail(`shape is ${shape}; expected 2-D (rows, dim)`);
  const [rows, cols] = dims;
  const bytes = rows * cols * 4;
  if (buf.length - start !== bytes) fail(`shape ${shape} needs ${bytes} data bytes but the file has ${buf.length - start} after the header (cut short?)`);
  const data = new Float32Array(rows * cols);
  const view = new DataView(buf.buffer, buf.byteOffset + start, bytes);
  for (let i = 0; i < data.length; i++) data[i] = view.getFloat32(i * 4, true);
  return { rows, cols, data };
}
