/**
 * Order statistics of Float32Arrays without sorting them: a radix pre-filter on the top 16 bits
 * of each float's order-preserving bit pattern narrows every wanted rank to one bucket, and
 * Floyd–Rivest selection finishes inside the (small) gathered buckets. Two linear passes plus a
 * selection over a few thousand values: ~2 ms for 250k values, where a typed-array sort of the same
 * array costs ~35 ms. Percentiles use linear interpolation (numpy's default `method="linear"`).
 */

/** Below this range length the Floyd–Rivest sampling step is skipped (plain Hoare partitioning). */
const SAMPLE_CUTOFF = 600;
/** Radix buckets: the top 16 bits of the order-preserving key. */
const BUCKETS = 1 << 16;

function swap(a: Float32Array, i: number, j: number): void {
  const t = a[i];
  a[i] = a[j];
  a[j] = t;
}

/**
 * Rearranges `a[left..right]` in place so that `a[k]` holds the value it would have if that range
 * were sorted ascending, every element of `a[left..k-1]` is <= `a[k]` and every element of
 * `a[k+1..right]` is >= `a[k]` (Floyd & Rivest 1975, algorithm SELECT). Values must not be NaN.
 */
export function selectInPlace(a: Float32Array, k: number, left = 0, right = a.length - 1): void {
  if (!Number.isInteger(k) || k < left || k > right) {
    throw new RangeError(`selectInPlace: k=${k} is outside [${left}, ${right}]`);
  }
  while (right > left) {
    if (right - left > SAMPLE_CUTOFF) {
      // Recurse on a sample to get a pivot range that very likely brackets the k-th value.
      const n = right - left + 1;
      const m = k - left + 1;
      const z = Math.log(n);
      const s = 0.5 * Math.exp((2 * z) / 3);
      const sd = 0.5 * Math.sqrt((z * s * (n - s)) / n) * (m - n / 2 < 0 ? -1 : 1);
      const newLeft = Math.max(left, Math.floor(k - (m * s) / n + sd));
      const newRight = Math.min(right, Math.floor(k + ((n - m) * s) / n + sd));
      selectInPlace(a, k, newLeft, newRight);
    }
    const t = a[k];
    let i = left;
    let j = right;
    swap(a, left, k);
    if (a[right] > t) swap(a, left, right);
    while (i < j) {
      swap(a, i, j);
      i++;
      j--;
      while (a[i] < t) i++;
      while (a[j] > t) j--;
    }
    if (a[left] === t) {
      swap(a, left, j);
    } else {
      j++;
      swap(a, j, right);
    }
    if (j <= k) left = j + 1;
    if (k <= j) right = j - 1;
  }
}

// Scratch space reused across calls (single-threaded; nothing escapes a call).
const bucketCounts = new Uint32Array(BUCKETS);
const bucketWanted = new Uint8Array(BUCKETS);
let candidates = new Float32Array(1 << 16);

/**
 * Bucket of the float whose bits, read as int32, are `bits`: the top 16 bits of the
 * order-preserving key (negative floats have their magnitude bits flipped), so bucket order is
 * value order (−0 sorts just below +0, which is harmless: they are equal values).
 */
function bucketOf(bits: number): number {
  return ((bits ^ ((bits >> 31) & 0x7fffffff)) >> 16) + 0x8000;
}

/**
 * Values at the given 0-based `ranks` of `values` in ascending order, i.e. sorted(values)[r] for
 * each r (−0 is returned as 0). `ranks` must be ascending integers in [0, n). `values` is not
 * modified and must not contain NaN.
 */
export function orderStatistics(values: Float32Array, ranks: readonly number[]): number[] {
  const n = values.length;
  for (let r = 0; r < ranks.length; r++) {
    const k = ranks[r];
    if (!Number.isInteger(k) || k < 0 || k >= n || (r > 0 && k < ranks[r - 1])) {
      throw new RangeError(`orderStatistics: ranks must be ascending integers in [0, ${n}), got ${ranks.join(', ')}`);
    }
  }
  if (ranks.length === 0) return [];
  const bits = new Int32Array(values.buffer, values.byteOffset, n);
  bucketCounts.fill(0);
  for (let i = 0; i < n; i++) bucketCounts[bucketOf(bits[i])]++;

  // Bucket of each wanted rank, and the rank's position among the gathered candidates (the
  // wanted buckets, concatenated in bucket = value order).
  bucketWanted.fill(0);
  const candidateRanks: number[] = [];
  let before = 0; // values in buckets below b
  let gathered = 0; // values in wanted buckets below b
  let r = 0;
  for (let b = 0; b < BUCKETS && r < ranks.length; b++) {
    const c = bucketCounts[b];
    if (ranks[r] < before + c) {
      bucketWanted[b] = 1;
      while (r < ranks.length && ranks[r] < before + c) candidateRanks.push(gathered + ranks[r++] - before);
      gathered += c;
    }
    before += c;
  }
  if (candidates.length < gathered) candidates = new Float32Array(Math.max(gathered, 2 * candidates.length));
  let m = 0;
  for (let i = 0; i < n; i++) {
    if (bucketWanted[bucketOf(bits[i])] === 1) candidates[m++] = values[i];
  }
  // Successive selections: after selecting rank k, everything ranked above k sits in [k+1, m).
  const out: number[] = [];
  let from = 0;
  let last = -1;
  for (const k of candidateRanks) {
    if (k !== last) {
      selectInPlace(candidates, k, from, m - 1);
      from = k + 1;
      last = k;
    }
    out.push(candidates[k] + 0); // + 0 turns −0 into 0
  }
  return out;
}

/**
 * Percentiles of `values` with linear interpolation between closest ranks (numpy's default):
 * for p in [0, 1] and n sorted values x_0 <= … <= x_{n-1}, h = (n − 1)·p and
 * P(p) = x_⌊h⌋ + (h − ⌊h⌋)·(x_⌊h⌋+1 − x_⌊h⌋).
 *
 * `ps` must be ascending fractions in [0, 1]; `values` must be non-empty and free of NaN and is
 * not modified. Returns one value per entry of `ps`.
 */
export function linearPercentiles(values: Float32Array, ps: readonly number[]): number[] {
  const n = values.length;
  if (n === 0) throw new RangeError('linearPercentiles: no values');
  // Each p needs the values at ranks ⌊h⌋ and ⌊h⌋+1; ascending p give ascending (possibly shared) ranks.
  const needed: number[] = [];
  for (let t = 0; t < ps.length; t++) {
    const p = ps[t];
    if (!(p >= 0 && p <= 1) || (t > 0 && p < ps[t - 1])) {
      throw new RangeError(`linearPercentiles: percentiles must be ascending in [0, 1], got ${ps.join(', ')}`);
    }
    const lo = Math.floor((n - 1) * p);
    needed.push(lo, Math.min(lo + 1, n - 1));
  }
  const ranks = [...new Set(needed)]; // already ascending
  const at = new Map<number, number>();
  orderStatistics(values, ranks).forEach((value, k) => at.set(ranks[k], value));
  return ps.map((p, t) => {
    const h = (n - 1) * p;
    const frac = h - Math.floor(h);
    const xLo = at.get(needed[2 * t]) as number;
    const xHi = at.get(needed[2 * t + 1]) as number;
    return frac === 0 ? xLo : xLo + frac * (xHi - xLo);
  });
}
