/**
 * Eigenvalues of a real symmetric matrix: Householder reduction to tridiagonal form followed by
 * the implicit QL algorithm with Wilkinson shifts (as in EISPACK tred1/tql1, Numerical Recipes
 * tred2/tqli without eigenvectors). O(n³) with a small constant: ~(4/3)n³ flops.
 *
 * Why not ml-matrix's EigenvalueDecomposition (JAMA's tred2/tql2, which also builds the eigenvectors):
 * on the Gram matrices effective rank decomposes it takes 3.7–7× as long (`npm run bench:numeric`: 128×128
 * 4–16 ms here against 47–59 ms, 350×350 0.17–0.22 s against 0.8–1.2 s), on the training thread every
 * `effectiveRankEvery` steps. test/unit/diagnostics.test.ts checks both give the same spectrum.
 */

/** QL iterations allowed per eigenvalue before giving up (typically 1–3 are needed). */
const MAX_QL_ITERATIONS = 60;

/**
 * Reduces the symmetric n×n row-major matrix `a` (overwritten) to tridiagonal form by Householder
 * reflections; returns its diagonal `d` and off-diagonal `e` (e[i] couples rows i and i+1,
 * e[n-1] = 0). The tridiagonal matrix is orthogonally similar to `a`: same eigenvalues.
 */
function tridiagonalize(a: Float64Array, n: number): { d: Float64Array; e: Float64Array } {
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  const v = new Float64Array(n);
  const p = new Float64Array(n);
  for (let k = 0; k < n - 2; k++) {
    // Reflect x = a[k+1..n-1][k] onto alpha·e_1 with H = I − 2vvᵀ acting on rows/cols k+1..n-1.
    const x0 = a[(k + 1) * n + k];
    let tail2 = 0;
    for (let i = k + 2; i < n; i++) tail2 += a[i * n + k] * a[i * n + k];
    if (tail2 === 0) {
      e[k] = x0; // column already tridiagonal
      continue;
    }
    const norm = Math.sqrt(x0 * x0 + tail2);
    const alpha = x0 >= 0 ? -norm : norm;
    const v0 = x0 - alpha;
    const vNorm = Math.sqrt(v0 * v0 + tail2);
    const m0 = k + 1;
    v[m0] = v0 / vNorm;
    for (let i = k + 2; i < n; i++) v[i] = a[i * n + k] / vNorm;
    // p = S v, K = vᵀp, q = p − K v; S ← S − 2(v qᵀ + q vᵀ) = H S H for the trailing block S.
    let kDot = 0;
    for (let i = m0; i < n; i++) {
      let s = 0;
      const row = i * n;
      for (let j = m0; j < n; j++) s += a[row + j] * v[j];
      p[i] = s;
      kDot += v[i] * s;
    }
    for (let i = m0; i < n; i++) p[i] -= kDot * v[i];
    for (let i = m0; i < n; i++) {
      const row = i * n;
      const vi2 = 2 * v[i];
      const qi2 = 2 * p[i];
      for (let j = m0; j < n; j++) a[row + j] -= vi2 * p[j] + qi2 * v[j];
    }
    e[k] = alpha;
  }
  if (n >= 2) e[n - 2] = a[(n - 1) * n + (n - 2)];
  for (let i = 0; i < n; i++) d[i] = a[i * n + i];
  return { d, e };
}

/**
 * Eigenvalues of the symmetric tridiagonal matrix (d, e) by implicit QL with Wilkinson shifts;
 * overwrites `d` with the eigenvalues (unordered) and destroys `e`.
 */
function tridiagonalQL(d: Float64Array, e: Float64Array, n: number): void {
  // ‖T‖∞: an off-diagonal element below ε‖T‖ is negligible (the reduction's own rounding is of that size).
  // Relative to its neighbours alone, one between two zero eigenvalues (a rank-deficient Gram matrix: a
  // collapsed batch) would have to be exactly 0, and QL never converged there.
  let norm = 0;
  for (let i = 0; i < n; i++) norm = Math.max(norm, Math.abs(d[i]) + Math.abs(e[i]) + (i > 0 ? Math.abs(e[i - 1]) : 0));
  const negligible = Number.EPSILON * norm;
  for (let l = 0; l < n; l++) {
    let iterations = 0;
    for (;;) {
      // Find the first negligible off-diagonal element at or after l: the block l..m splits off.
      let m = l;
      for (; m < n - 1; m++) {
        const dd = Math.abs(d[m]) + Math.abs(d[m + 1]);
        if (Math.abs(e[m]) <= Number.EPSILON * dd || Math.abs(e[m]) <= negligible) break;
      }
      if (m === l) break;
      if (++iterations > MAX_QL_ITERATIONS) {
        throw new Error(`symmetricEigenvalues: QL did not converge for eigenvalue ${l}`);
      }
      let g = (d[l + 1] - d[l]) / (2 * e[l]);
      let r = Math.sqrt(g * g + 1);
      g = d[m] - d[l] + e[l] / (g + (g >= 0 ? r : -r));
      let s = 1;
      let c = 1;
      let p = 0;
      let deflated = false;
      for (let i = m - 1; i >= l; i--) {
        const f = s * e[i];
        const b = c * e[i];
        r = Math.sqrt(f * f + g * g);
        e[i + 1] = r;
        if (r === 0) {
          // Underflow: the matrix split at i+1; restart the search for this l.
          d[i + 1] -= p;
          e[m] = 0;
          deflated = true;
          break;
        }
        s = f / r;
        c = g / r;
        g = d[i + 1] - p;
        r = (d[i] - g) * s + 2 * c * b;
        p = s * r;
        d[i + 1] = g + p;
        g = c * r - b;
      }
      if (deflated) continue;
      d[l] -= p;
      e[l] = g;
      e[m] = 0;
    }
  }
}

/**
 * Eigenvalues, in descending order, of the symmetric n×n matrix `matrix` (row-major, length n²).
 * Only symmetry is assumed (the matrix is not checked); the input is not modified.
 */
export function symmetricEigenvalues(matrix: Float64Array, n: number): Float64Array {
  if (!Number.isInteger(n) || n < 0 || matrix.length !== n * n) {
    throw new RangeError(`symmetricEigenvalues: expected an n×n matrix with n=${n}, got length ${matrix.length}`);
  }
  const { d, e } = tridiagonalize(Float64Array.from(matrix), n);
  tridiagonalQL(d, e, n);
  return d.sort().reverse();
}
