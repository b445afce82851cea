/**
 * Gram matrices G = X Xᵀ of row-major matrices in float64, computed with 4×4 register blocking
 * (about 4–5× faster than a naive triple loop in V8; ~6 ms for 350×128 rows).
 */

/** Rows per register block. */
const BLOCK = 4;

/**
 * G = X Xᵀ (rows × rows, row-major, float64) of the row-major `rows × cols` matrix `x`:
 * G[i·rows + j] = Σ_k x[i·cols + k]·x[j·cols + k].
 */
export function rowGram(x: ArrayLike<number>, rows: number, cols: number): Float64Array {
  if (x.length !== rows * cols) {
    throw new RangeError(`rowGram: expected ${rows}×${cols} = ${rows * cols} values, got ${x.length}`);
  }
  // Pad to a multiple of BLOCK rows with zero rows so the blocked kernel needs no edge cases.
  const padded = Math.ceil(rows / BLOCK) * BLOCK;
  const xp = new Float64Array(padded * cols);
  for (let i = 0; i < rows * cols; i++) xp[i] = x[i];
  const g = new Float64Array(padded * padded);
  for (let i = 0; i < padded; i += BLOCK) {
    const a0 = i * cols;
    const a1 = a0 + cols;
    const a2 = a1 + cols;
    const a3 = a2 + cols;
    for (let j = i; j < padded; j += BLOCK) {
      const b0 = j * cols;
      const b1 = b0 + cols;
      const b2 = b1 + cols;
      const b3 = b2 + cols;
      let s00 = 0,
        s01 = 0,
        s02 = 0,
        s03 = 0,
        s10 = 0,
        s11 = 0,
        s12 = 0,
        s13 = 0;
      let s20 = 0,
        s21 = 0,
        s22 = 0,
        s23 = 0,
        s30 = 0,
        s31 = 0,
        s32 = 0,
        s33 = 0;
      for (let k = 0; k < cols; k++) {
        const x0 = xp[a0 + k],
          x1 = xp[a1 + k],
          x2 = xp[a2 + k],
          x3 = xp[a3 + k];
        const y0 = xp[b0 + k],
          y1 = xp[b1 + k],
          y2 = xp[b2 + k],
          y3 = xp[b3 + k];
        s00 += x0 * y0;
        s01 += x0 * y1;
        s02 += x0 * y2;
        s03 += x0 * y3;
        s10 += x1 * y0;
        s11 += x1 * y1;
        s12 += x1 * y2;
        s13 += x1 * y3;
        s20 += x2 * y0;
        s21 += x2 * y1;
        s22 += x2 * y2;
        s23 += x2 * y3;
        s30 += x3 * y0;
        s31 += x3 * y1;
        s32 += x3 * y2;
        s33 += x3 * y3;
      }
      let r = i * padded + j;
      g[r] = s00;
      g[r + 1] = s01;
      g[r + 2] = s02;
      g[r + 3] = s03;
      r += padded;
      g[r] = s10;
      g[r + 1] = s11;
      g[r + 2] = s12;
      g[r + 3] = s13;
      r += padded;
      g[r] = s20;
      g[r + 1] = s21;
      g[r + 2] = s22;
      g[r + 3] = s23;
      r += padded;
      g[r] = s30;
      g[r + 1] = s31;
      g[r + 2] = s32;
      g[r + 3] = s33;
    }
  }
  // Copy the upper triangle into an unpadded rows×rows result and mirror it.
  const out = new Float64Array(rows * rows);
  for (let i = 0; i < rows; i++) {
    for (let j = i; j < rows; j++) {
      const v = g[i * padded + j];
      out[i * rows + j] = v;
      out[j * rows + i] = v;
    }
  }
  return out;
}

/** G = Xᵀ X (cols × cols, row-major, float64) of the row-major `rows × cols` matrix `x`. */
export function columnGram(x: ArrayLike<number>, rows: number, cols: number): Float64Array {
  if (x.length !== rows * cols) {
    throw new RangeError(`columnGram: expected ${rows}×${cols} = ${rows * cols} values, got ${x.length}`);
  }
  const xt = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    for (let k = 0; k < cols; k++) xt[k * rows + i] = x[i * cols + k];
  }
  return rowGram(xt, cols, rows);
}
