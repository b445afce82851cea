/**
 * Geometry of the batch's positive items v (a B×D row-major matrix): mean off-diagonal cosine,
 * uniformity (Wang & Isola 2020) and mean per-dimension std. Definitions: docs/diagnostics.md.
 */

/**
 * Mean over ordered pairs i ≠ j of cos(v_i, v_j) = G_ij / (‖v_i‖‖v_j‖), from the B×B Gram matrix
 * `gram` (G = V Vᵀ). A zero row has cosine 0 with every other row. Needs B >= 2.
 */
export function meanOffDiagonalCosine(gram: Float64Array, b: number): number {
  checkGram(gram, b);
  const invNorm = new Float64Array(b);
  for (let i = 0; i < b; i++) {
    const n2 = gram[i * b + i];
    invNorm[i] = n2 > 0 ? 1 / Math.sqrt(n2) : 0;
  }
  let sum = 0;
  for (let i = 0; i < b; i++) {
    const row = i * b;
    let rowSum = 0;
    for (let j = i + 1; j < b; j++) rowSum += gram[row + j] * invNorm[j];
    sum += rowSum * invNorm[i];
  }
  return (2 * sum) / (b * (b - 1));
}

/**
 * Uniformity log( mean over ordered pairs i ≠ j of exp(−2‖v_i − v_j‖²) ) (Wang & Isola 2020, t = 2),
 * from the B×B Gram matrix: ‖v_i − v_j‖² = G_ii + G_jj − 2G_ij (= 2 − 2v_iᵀv_j for unit vectors),
 * clamped at 0 against rounding. Lies in [−8, 0] for unit vectors; 0 means all items coincide.
 * Needs B >= 2.
 */
export function uniformity(gram: Float64Array, b: number): number {
  checkGram(gram, b);
  let sum = 0;
  for (let i = 0; i < b; i++) {
    const row = i * b;
    const gii = gram[row + i];
    for (let j = i + 1; j < b; j++) {
      const d2 = gii + gram[j * b + j] - 2 * gram[row + j];
      sum += Math.exp(-2 * (d2 > 0 ? d2 : 0));
    }
  }
  return Math.log((2 * sum) / (b * (b - 1)));
}

/**
 * Mean over the D dimensions of the population standard deviation (divide by B) of that
 * dimension across the B rows of the row-major B×D matrix `v`.
 */
export function meanDimensionStd(v: ArrayLike<number>, b: number, d: number): number {
  if (b < 1 || v.length !== b * d) {
    throw new RangeError(`meanDimensionStd: expected ${b}×${d} values, got ${v.length}`);
  }
  const mean = new Float64Array(d);
  for (let i = 0; i < b; i++) {
    const row = i * d;
    for (let k = 0; k < d; k++) mean[k] += v[row + k];
  }
  for (let k = 0; k < d; k++) mean[k] /= b;
  const sq = new Float64Array(d);
  for (let i = 0; i < b; i++) {
    const row = i * d;
    for (let k = 0; k < d; k++) {
      const dev = v[row + k] - mean[k];
      sq[k] += dev * dev;
    }
  }
  let total = 0;
  for (let k = 0; k < d; k++) total += Math.sqrt(sq[k] / b);
  return total / d;
}

function checkGram(gram: Float64Array, b: number): void {
  if (b < 2 || gram.length !== b * b) {
    throw new RangeError(`item geometry needs a B×B Gram matrix with B >= 2, got B=${b}, length ${gram.length}`);
  }
}
