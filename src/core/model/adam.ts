/**
 * Adam (Kingma & Ba 2015) over host Float32Arrays, with a lazy row-sparse variant for embedding tables
 * (as TensorFlow Addons' LazyAdam): only the rows a batch touched update their moments and values.
 *   m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²;  θ ← θ − lr·√(1−β₂ᵗ)/(1−β₁ᵗ) · m / (√v + ε)
 */
export interface AdamOptions {
  learningRate: number;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
}

/** Moments of one parameter array. */
export class AdamSlot {
  readonly m: Float32Array;
  readonly v: Float32Array;
  constructor(readonly size: number) {
    this.m = new Float32Array(size);
    this.v = new Float32Array(size);
  }
}

const ZERO_ROW = Int32Array.of(0);

export class Adam {
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  learningRate: number;
  /** Number of completed updates (t in the bias correction). */
  step = 0;

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

  private stepSize(): number {
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
}
