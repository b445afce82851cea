import seedrandom from 'seedrandom';
import type { FeaturizedExample } from './featurizedData';

/**
 * One training batch. Candidate items: rows 0..B−1 are the pairs' positives, rows B..N−1 the
 * explicit negatives. negMask[j·N + i] = 1 when item i is a negative of pair j:
 *   i < B: i ≠ j and item_id(v_i) ≠ item_id(v_j)   (same id = accidental hit, masked out)
 *   i ≥ B: item i is one of example j's own explicit negatives and its id ≠ item_id(v_j)
 */
export interface Batch {
  B: number;
  N: number;
  queryFeats: Int32Array[];
  itemFeats: Int32Array[];
  itemIds: string[];
  negMask: Float32Array;
  /** Indices of the examples in the training set. */
  exampleIndices: number[];
  epoch: number;
}

/** Endless, seeded batches: a new shuffle every epoch, full batches only (wrapping into the next epoch). */
export class Batcher {
  private order: number[] = [];
  private pos = 0;
  private rng: seedrandom.PRNG;
  epoch = 0;

  constructor(
    private readonly data: FeaturizedExample[],
    private readonly batchSize: number,
    private readonly maxNegatives: number,
    seed: number,
  ) {
    if (data.length < 2) throw new Error(`training needs at least 2 examples, got ${data.length}`);
    if (batchSize > data.length) throw new Error(`training.batchSize ${batchSize} is larger than the ${data.length} training examples`);
    this.rng = seedrandom.alea(`retrieval-lens-batches-${seed}`);
    this.reshuffle();
  }

  private reshuffle(): void {
    this.order = this.data.map((_, i) => i);
    for (let i = this.order.length - 1; i > 0; i--) {
      const k = Math.floor(this.rng() * (i + 1));
      [this.order[i], this.order[k]] = [this.order[k], this.order[i]];
    }
    this.pos = 0;
  }

  /** Steps per pass over the data. */
  get stepsPerEpoch(): number {
    return Math.ceil(this.data.length / this.batchSize);
  }

  next(): Batch {
    const idx: number[] = [];
    const epoch = this.epoch;
    while (idx.length < this.batchSize) {
      if (this.pos >= this.order.length) {
        this.epoch++;
        this.reshuffle();
      }
      idx.push(this.order[this.pos++]);
    }
    return buildBatch(this.data, idx, this.maxNegatives, epoch);
  }
}

/** Assembles candidates and the negative mask for the given examples. */
export function buildBatch(data: FeaturizedExample[], idx: number[], maxNegatives: number, epoch = 0): Batch {
  const B = idx.length;
  const queryFeats = idx.map((i) => data[i].query);
  const itemFeats = idx.map((i) => data[i].positive);
  const itemIds = idx.map((i) => data[i].example.positive.id);
  const owner: number[] = [];
  idx.forEach((i, j) => {
    for (const n of data[i].negatives.slice(0, maxNegatives)) {
      itemFeats.push(n.feats);
      itemIds.push(n.id);
      owner.push(j);
    }
  });
  const N = itemFeats.length;
  const negMask = new Float32Array(B * N);
  for (let j = 0; j < B; j++) {
    const pid = itemIds[j];
    const row = j * N;
    for (let i = 0; i < B; i++) if (i !== j && itemIds[i] !== pid) negMask[row + i] = 1;
    for (let i = B; i < N; i++) if (owner[i - B] === j && itemIds[i] !== pid) negMask[row + i] = 1;
  }
  return { B, N, queryFeats, itemFeats, itemIds, negMask, exampleIndices: idx, epoch };
}
