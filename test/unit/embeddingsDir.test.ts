/**
 * The .npy reader (src/core/eval/npy.ts) and the embeddings folder checks (embeddingsDir.ts) on files written
 * byte by byte as numpy.save writes them: format versions 1 and 2 read; every other dtype, Fortran order, a
 * shape that is not 2-D, a file cut short, a NaN, ids that do not match the rows are refused naming file and row.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { readNpyFloat32 } from '../../src/core/eval/npy';
import { loadEmbeddingsDir } from '../../src/core/eval/embeddingsDir';

/** A .npy file as numpy.save writes it: magic, version, header padded with spaces to a multiple of 64 bytes, data. */
function npy(values: number[], shape: number[], o: { descr?: string; fortran?: boolean; version?: 1 | 2; cut?: number } = {}): Buffer {
  const descr = o.descr ?? '<f4';
  const dims = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  const dict = `{'descr': '${descr}', 'fortran_order': ${o.fortran ? 'True' : 'False'}, 'shape': ${dims}, }`;
  const version = o.version ?? 1;
  const pre = version === 1 ? 10 : 12;
  const pad = 64 - ((pre + dict.length + 1) % 64);
  const header = Buffer.from(dict + ' '.repeat(pad % 64) + '\n', 'latin1');
  const len = Buffer.alloc(version === 1 ? 2 : 4);
  if (version === 1) len.writeUInt16LE(header.length);
  else len.writeUInt32LE(header.length);
  const data = descr.endsWith('f8') ? Buffer.from(new Float64Array(values).buffer) : Buffer.from(new Float32Array(values).buffer);
  const all = Buffer.concat([Buffer.from([0x93]), Buffer.from('NUMPY', 'latin1'), Buffer.from([version, 0]), len, header, data]);
  return o.cut ? all.subarray(0, all.length - o.cut) : all;
}

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'rlens-npy-'));

test('a float32 matrix is read in format versions 1 and 2', () => {
  const dir = tmp();
  for (const version of [1, 2] as const) {
    const f = path.join(dir, `m${version}.npy`);
    fs.writeFileSync(f, npy([1, 2, 3, 4.5, -5, 6], [2, 3], { version }));
    const m = readNpyFloat32(f);
    assert.deepEqual([m.rows, m.cols, [...m.data]], [2, 3, [1, 2, 3, 4.5, -5, 6]]);
  }
});

test('another dtype, Fortran order, a 1-D shape or a file cut short are refused with the file and what to do', () => {
  const dir = tmp();
  const cases: [Buffer, RegExp][] = [
    [npy([1, 2], [1, 2], { descr: '<f8' }), /m\.npy: dtype is <f8 \(float64\); expected little-endian float32 \('<f4'\): save a\.astype\(numpy\.float32\)/],
    [npy([1, 2], [1, 2], { descr: '>f4' }), /dtype is >f4/],
    [npy([1, 2, 3, 4], [2, 2], { fortran: true }), /Fortran order; save numpy\.ascontiguousarray\(a\)/],
    [npy([1, 2], [2]), /shape is \(2,\); expected 2-D \(rows, dim\)/],
    [npy([1, 2, 3, 4], [2, 2], { cut: 4 }), /shape \(2, 2\) needs 16 data bytes but the file has 12 after the header \(cut short\?\)/],
    [Buffer.from('not numpy at all'), /not a \.npy file/],
  ];
  for (const [bytes, message] of cases) {
    const f = path.join(dir, 'm.npy');
    fs.writeFileSync(f, bytes);
    assert.throws(() => readNpyFloat32(f), message);
  }
});

function folder(o: { queries?: Buffer; queryIds?: unknown; items?: Buffer; itemIds?: unknown; manifest?: string } = {}): string {
  const dir = tmp();
  fs.writeFileSync(path.join(dir, 'queries.npy'), o.queries ?? npy([1, 0, 0, 1], [2, 2]));
  fs.writeFileSync(path.join(dir, 'queries.ids.json'), JSON.stringify(o.queryIds ?? ['q1', 'q2']));
  fs.writeFileSync(path.join(dir, 'items.npy'), o.items ?? npy([1, 0, 0, 1, 0.6, 0.8], [3, 2]));
  fs.writeFileSync(path.join(dir, 'items.ids.json'), JSON.stringify(o.itemIds ?? ['a', 'b', 'c']));
  if (o.manifest !== undefined) fs.writeFileSync(path.join(dir, 'embeddings.json'), o.manifest);
  return dir;
}

test('a folder of embeddings is read with its ids and step', () => {
  const set = loadEmbeddingsDir(folder({ manifest: '{"step": 40}' }));
  assert.equal(set.step, 40);
  assert.equal(set.items.dim, 2);
  assert.equal(set.items.rowOf.get('c'), 2);
  assert.deepEqual(set.queries.ids, ['q1', 'q2']);
  assert.equal(loadEmbeddingsDir(folder()).step, null);
});

test('ids that do not match the rows, a repeated id, a NaN, differing dimensions and a bad manifest are located', () => {
  const cases: [Parameters<typeof folder>[0], RegExp][] = [
    [{ itemIds: ['a', 'b'] }, /items\.ids\.json has 2 ids but .*items\.npy has 3 rows/],
    [{ itemIds: ['a', 'b', 'a'] }, /items\.ids\.json: id "a" at row 2 repeats row 0/],
    [{ queryIds: ['q1', 7] }, /queries\.ids\.json: entry 1 is 7; every id must be a non-empty string/],
    [{ queryIds: { q1: 0 } }, /queries\.ids\.json: expected a JSON array of id strings, got object/],
    [{ items: npy([1, 0, 0, 1, NaN, 0.8], [3, 2]) }, /items\.npy: row 2 \(id "c"\) has a non-finite value \(NaN\) in column 0/],
    [{ queries: npy([1, 0, 0, 0, 1, 0], [2, 3]) }, /queries\.npy has dimension 3 but .*items\.npy has 2/],
    [{ manifest: '{"step": -1}' }, /embeddings\.json: step: must be an integer >= 0, got -1/],
  ];
  for (const [o, message] of cases) assert.throws(() => loadEmbeddingsDir(folder(o)), message);
  assert.throws(() => loadEmbeddingsDir(path.join(tmp(), 'nowhere')), /nowhere: not a folder of embeddings/);
});
