/**
 * Effective rank (Roy & Vetterli 2007) of a B×D matrix: exp of the Shannon entropy of its
 * L1-normalised singular values. Singular values are the square roots of the eigenvalues of the
 * smaller Gram matrix (VᵀV, D×D, or V Vᵀ, B×B: both have the same non-zero eigenvalues).
 */
import { columnGram, rowGram } from '../numeric/gramMatrix';
import { symmetricEigenvalues } from '../numeric/symmetricEigenvalues';

/**
 * exp(−Σ_k p_k ln p_k) with p_k = σ_k / Σ_l σ_l over the given non-negative singular values
 * (terms with p_k = 0 contribute 0). All-zero input gives 0.
 */
export function effectiveRankFromSingularValues(sigma: ArrayLike<number>): number {
  let total = 0;
  for (let k = 0; k < sigma.length; k++) {
    if (!(sigma[k] >= 0)) throw new RangeError(`effectiveRank: singular value ${sigma[k]} at ${k} is not >= 0`);
    total += sigma[k];
  }
  if (total === 0) return 0;
  let entropy = 0;
  for (let k = 0; k < sigma.length; k++) {
    const p = sigma[k] / total;
    if (p > 0) entropy -= p * Math.log(p);
  }
  return Math.exp(entropy);
}

/**
 * Singular values (descending) of a Gram matrix's source, from the eigenvalues λ of the n×n Gram
 * matrix: σ = sqrt(λ). Eigenvalues at or below λ_max · n · 64ε (float64 rounding noise of the
 * eigen-solver, which would otherwise add spurious tiny singular values) are set to 0.
 */
export function singularValuesFromGram(gram: Float64Array, n: number): Float64Array {
  const lambda = symmetricEigenvalues(gram, n);
  const lambdaMax = n > 0 ? Math.max(lambda[0], 0) : 0;
  const cutoff = lambdaMax * n * 64 * Number.EPSILON;
  const sigma = new Float64Array(lambda.length);
  for (let k = 0; k < lambda.length; k++) sigma[k] = lambda[k] > cutoff ? Math.sqrt(lambda[k]) : 0;
  return sigma;
}

/**
 * Effective rank of the row-major `rows × cols` matrix `x` (float64 Gram of the smaller side:
 * x xᵀ when rows <= cols, else xᵀx).
 */
export function effectiveRank(x: ArrayLike<number>, rows: number, cols: number): number {
  const gram = rows <= cols ? rowGram(x, rows, cols) : columnGram(x, rows, cols);
  return effectiveRankFromSingularValues(singularValuesFromGram(gram, Math.min(rows, cols)));
}
