/**
 * Adam (Kingma & Ba 2015) over host Float32Arrays, with a lazy row-sparse variant for embedding tables
 * (as TensorFlow Addons' LazyAdam): only the rows a batch touched update their moments and values.
 *   m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²;  θ ← θ − lr·√(1−β₂ᵗ)/(1−β₁ᵗ) · m / (√v + ε)
 */
import type { RowIndex } from './embeddingBag';

export interface AdamOptions {
  learningRate: number;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
}

/**
 * Moments of one parameter array, zero-initialised. `m` / `v` place them in given (zeroed) arrays —
 * the trainer keeps a table's moments in the table's arena — and `shared` in SharedArrayBuffers.
 */
export class AdamSlot {
  readonly m: Float32Array;
  readonly v: Float32Array;
  constructor(
    readonly size: number,
    opts: { shared?: boolean; m?: Float32Array; v?: Float32Array } = {},
  ) {
    const alloc = () => (opts.shared ? new Float32Array(new SharedArrayBuffer(4 * size)) : new Float32Array(size));
    this.m = opts.m ?? alloc();
    this.v = opts.v ?? alloc();
    if (this.m.length !== size || this.v.length !== size) throw new Error(`AdamSlot: moments must have ${size} elements`);
  }
}

const ZERO_ROW = Int32Array.of(0);

/**
 * Fused embedding-bag backward and lazy Adam for the distinct rows u0 ≤ u < u1 of a RowIndex:
 *   g_t = Σ_{r : t ∈ bag r} gradBag[r] · invLen[r]      (float32 sums in bag order, as bagBackward)
 * then the Adam update of row t with g_t. Returns Σ g_t² over the rows (for the gradient norm).
 * Each row's gradient lives only in the scratch `g` ([4 × dim]): no [rows × dim] gradient buffer is
 * written or read back. Four rows per pass so that their cache misses in table, m and v overlap.
 */
export function lazyAdamFromBags(
  table: Float32Array,
  m: Float32Array,
  v: Float32Array,
  dim: number,
  rows: Int32Array,
  start: Int32Array,
  bagOf: Int32Array,
  u0: number,
  u1: number,
  gradBag: Float32Array,
  invLen: Float64Array,
  lr: number,
  b1: number,
  b2: number,
  eps: number,
  g: Float32Array,
): number {
  let ss = 0;
  let u = u0;
  const D2 = 2 * dim;
  const D3 = 3 * dim;
  for (; u < u1; u += 4) {
    const n = u1 - u < 4 ? u1 - u : 4;
    // Gradients of the (up to) four rows into g[0..dim), g[dim..2dim), ...
    for (let q = 0; q < n; q++) {
      const go = q * dim;
      const e0 = start[u + q];
      const e1 = start[u + q + 1];
      const r0 = bagOf[e0];
      const inv0 = invLen[r0];
      const o0 = r0 * dim;
      for (let d = 0; d < dim; d++) g[go + d] = gradBag[o0 + d] * inv0;
      for (let e = e0 + 1; e < e1; e++) {
        const r = bagOf[e];
        const inv = invLen[r];
        const o = r * dim;
        for (let d = 0; d < dim; d++) g[go + d] += gradBag[o + d] * inv;
      }
    }
    if (n === 4) {
      const p0 = rows[u] * dim;
      const p1 = rows[u + 1] * dim;
      const p2 = rows[u + 2] * dim;
      const p3 = rows[u + 3] * dim;
      for (let d = 0; d < dim; d++) {
        const ga = g[d];
        const gb = g[dim + d];
        const gc = g[D2 + d];
        const gd = g[D3 + d];
        ss += ga * ga + gb * gb + gc * gc + gd * gd;
        const i = p0 + d;
        const j = p1 + d;
        const k = p2 + d;
        const l = p3 + d;
        const ma = b1 * m[i] + (1 - b1) * ga;
        const mb = b1 * m[j] + (1 - b1) * gb;
        const mc = b1 * m[k] + (1 - b1) * gc;
        const md = b1 * m[l] + (1 - b1) * gd;
        const va = b2 * v[i] + (1 - b2) * ga * ga;
        const vb = b2 * v[j] + (1 - b2) * gb * gb;
        const vc = b2 * v[k] + (1 - b2) * gc * gc;
        const vd = b2 * v[l] + (1 - b2) * gd * gd;
        m[i] = ma;
        m[j] = mb;
        m[k] = mc;
        m[l] = md;
        v[i] = va;
        v[j] = vb;
        v[k] = vc;
        v[l] = vd;
        table[i] -= (lr * ma) / (Math.sqrt(va) + eps);
        table[j] -= (lr * mb) / (Math.sqrt(vb) + eps);
        table[k] -= (lr * mc) / (Math.sqrt(vc) + eps);
        table[l] -= (lr * md) / (Math.sqrt(vd) + eps);
      }
    } else {
      for (let q = 0; q < n; q++) {
        const p = rows[u + q] * dim;
        const go = q * dim;
        for (let d = 0; d < dim; d++) {
          const ga = g[go + d];
          ss += ga * ga;
          const i = p + d;
          const ma = b1 * m[i] + (1 - b1) * ga;
          const va = b2 * v[i] + (1 - b2) * ga * ga;
          m[i] = ma;
          v[i] = va;
          table[i] -= (lr * ma) / (Math.sqrt(va) + eps);
        }
      }
    }
  }
  return ss;
}

export class Adam {
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  learningRate: number;
  /** Number of completed updates (t in the bias correction). */
  step = 0;
  private scratch = new Float32Array(0);

  constructor(opts: AdamOptions) {
    this.learningRate = opts.learningRate;
    this.beta1 = opts.beta1 ?? 0.9;
    this.beta2 = opts.beta2 ?? 0.999;
    this.epsilon = opts.epsilon ?? 1e-7;
  }

  /** Advances t; call once per training step before the updates of that step. */
  beginStep(): void {
    this.step++;
  }

  /** lr·√(1−β₂ᵗ)/(1−β₁ᵗ) for the current t. */
  stepSize(): number {
    const t = this.step;
    return (this.learningRate * Math.sqrt(1 - Math.pow(this.beta2, t))) / (1 - Math.pow(this.beta1, t));
  }

  /** Dense update of every element of `param`. */
  updateDense(param: Float32Array, grad: Float32Array, slot: AdamSlot): void {
    this.updateRows(param, param.length, ZERO_ROW, grad, slot);
  }

  /** Lazy update of the rows `rows` of a [rows × dim] table; grads is [rows.length × dim]. */
  updateRows(table: Float32Array, dim: number, rows: Int32Array, grads: Float32Array, slot: AdamSlot): void {
    const { beta1: b1, beta2: b2, epsilon: eps } = this;
    const lr = this.stepSize();
    const m = slot.m;
    const v = slot.v;
    for (let r = 0; r < rows.length; r++) {
      const p = rows[r] * dim;
      const q = r * dim;
      for (let k = 0; k < dim; k++) {
        const g = grads[q + k];
        const i = p + k;
        const mi = b1 * m[i] + (1 - b1) * g;
        const vi = b2 * v[i] + (1 - b2) * g * g;
        m[i] = mi;
        v[i] = vi;
        table[i] -= (lr * mi) / (Math.sqrt(vi) + eps);
      }
    }
  }

  /**
   * Lazy update of the rows u0 ≤ u < u1 (default: all) of `index` straight from the bag gradients:
   * the same result as `bagBackward` followed by `updateRows`, without the intermediate gradients.
   * `invLen[r]` = 1/|bag r| (0 for an empty bag). Returns Σ g² of those rows' gradients.
   */
  updateRowsFromBags(
    table: Float32Array,
    dim: number,
    index: RowIndex,
    gradBag: Float32Array,
    invLen: Float64Array,
    slot: AdamSlot,
    u0 = 0,
    u1 = index.count,
  ): number {
    if (this.scratch.length < 4 * dim) this.scratch = new Float32Array(4 * dim);
    return lazyAdamFromBags(
      table,
      slot.m,
      slot.v,
      dim,
      index.rows,
      index.start,
      index.bagOf,
      u0,
      u1,
      gradBag,
      invLen,
      this.stepSize(),
      this.beta1,
      this.beta2,
      this.epsilon,
      this.scratch,
    );
  }
}
