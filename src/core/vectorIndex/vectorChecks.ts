/**
 * Checks that `vectors` holds exactly `rows` × `dim` finite floats. faiss cannot report bad input
 * through faiss-node safely (a C++ exception escaping add/train/search aborts the process), so every
 * call is validated here first. `what` names the matrix in error messages ("corpus", "queries").
 */
export function checkMatrix(vectors: Float32Array, rows: number, dim: number, what: string): void {
  if (!(vectors instanceof Float32Array)) throw new Error(`${what} must be a Float32Array`);
  if (!Number.isInteger(rows) || rows < 0) throw new Error(`${what}: row count must be a non-negative integer, got ${rows}`);
  if (!Number.isInteger(dim) || dim < 1) throw new Error(`${what}: dim must be a positive integer, got ${dim}`);
  if (vectors.length !== rows * dim) {
    throw new Error(`${what}: expected ${rows} × ${dim} = ${rows * dim} floats, got ${vectors.length}`);
  }
  for (let i = 0; i < vectors.length; i++) {
    if (!Number.isFinite(vectors[i])) {
      throw new Error(`${what}: row ${Math.floor(i / dim)} has a non-finite value (${vectors[i]}) at component ${i % dim}`);
    }
  }
}

/** faiss-node only accepts plain number arrays: copy rows [from, to) of a row-major matrix. */
export function rowsAsArray(vectors: Float32Array, dim: number, from: number, to: number): number[] {
  return Array.from(vectors.subarray(from * dim, to * dim));
}
