/** Seeded synthetic vectors shared by the index tests and the evaluation benchmark. */

/** One standard-normal draw (Box–Muller) from a uniform generator. */
export function gaussian(rng: () => number): number {
  let u = 0;
  while (u === 0) u = rng();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
}

/** Scales every row of a row-major matrix to unit L2 norm, in place. */
export function normaliseRows(m: Float32Array, dim: number): void {
  for (let o = 0; o < m.length; o += dim) {
    let s = 0;
    for (let c = 0; c < dim; c++) s += m[o + c] ** 2;
    const inv = 1 / Math.sqrt(s);
    for (let c = 0; c < dim; c++) m[o + c] *= inv;
  }
}
