/** s(a_i, b_j) = a_i · b_j of two row-major matrices with `dim` columns. */
export function rowDot(a: Float32Array, i: number, b: Float32Array, j: number, dim: number): number {
  let s = 0;
  const ai = i * dim;
  const bj = j * dim;
  for (let c = 0; c < dim; c++) s += a[ai + c] * b[bj + c];
  return s;
}
