import { normaliseText } from '../data/itemId';
import type { Example, Item } from '../data/types';
import type { PairRef } from '../metrics/stepSamples';
import type { ExampleSource } from '../data/exampleStream';
import type { FeaturizedExample } from './featurizedData';

/**
 * One training batch. Candidate items: rows 0..B−1 are the pairs' positives, rows B..E−1 the
 * explicit negatives, rows E..N−1 the mined hard negatives of the batch's queries (data.hardNegatives;
 * each item once, none that is one of the batch's positives). negMask[j·N + i] = 1 when item i is a
 * negative of pair j:
 *   i < B:      i ≠ j and item_id(v_i) ≠ item_id(v_j)   (same id = accidental hit, masked out)
 *   B ≤ i < E:  item i is one of example j's own explicit negatives and its id ≠ item_id(v_j)
 *   i ≥ E:      item_id(i) ≠ item_id(v_j) and norm(text_i) ≠ norm(text of v_j)   (mined negatives join the
 *               in-batch ones: every pair sees them, an accidental hit on its positive masked out)
 * With data.maskDuplicateNegatives every i < E is also masked when norm(text_i) = norm(text of v_j): the same
 * text under another id is no negative (python/retrieval_lens/losses.py negative_mask does the same).
 */
export interface Batch {
  B: number;
  N: number;
  queryFeats: Int32Array[];
  itemFeats: Int32Array[];
  itemIds: string[];
  negMask: Float32Array;
  /** Indices of the batch's examples in the featurised array it was built from. */
  exampleIndices: number[];
  epoch: number;
  /** The B queries and the N candidates as data references, and the candidates' texts (step samples, src/core/metrics/stepSamples.ts). */
  queries: PairRef[];
  items: PairRef[];
  itemTexts: string[];
}

/** What the batcher needs of the model config: how to featurise. */
type Featurize = (examples: Example[]) => FeaturizedExample[];

/**
 * Endless batches drawn from an {@link ExampleSource}: epoch after epoch (each in the source's new
 * seeded order), full batches only, wrapping into the next epoch; examples are featurised batch by
 * batch. A batch's `epoch` is the epoch of its first example.
 */
export class Batcher {
  /** The epoch being read. */
  epoch = 0;
  private iter: AsyncIterator<Example>;
  private readInEpoch = 0;

  constructor(
    private readonly source: ExampleSource,
    private readonly batchSize: number,
    private readonly maxNegatives: number,
    private readonly featurize: Featurize,
    private readonly maskDuplicates = false,
  ) {
    this.iter = source.epoch(0)[Symbol.asyncIterator]();
  }

  /** Steps per pass over the data (an estimate until the first epoch was read). */
  get stepsPerEpoch(): number {
    return Math.ceil(this.source.examples / this.batchSize);
  }

  /** The next example, starting the next epoch when one ends; checks the data's size after the first. */
  private async nextExample(): Promise<{ example: Example; epoch: number }> {
    for (;;) {
      const r = await this.iter.next();
      if (!r.done) {
        this.readInEpoch += 1;
        return { example: r.value, epoch: this.epoch };
      }
      const n = this.readInEpoch;
      if (n < 2) throw new Error(`training needs at least 2 examples, got ${n}`);
      if (this.batchSize > n) throw new Error(`training.batchSize ${this.batchSize} is larger than the ${n} training examples`);
      this.epoch += 1;
      this.readInEpoch = 0;
      this.iter = this.source.epoch(this.epoch)[Symbol.asyncIterator]();
    }
  }

  async next(): Promise<Batch> {
    const examples: Example[] = [];
    let epoch = this.epoch;
    while (examples.length < this.batchSize) {
      const { example, epoch: e } = await this.nextExample();
      if (examples.length === 0) epoch = e;
      examples.push(example);
    }
    const data = this.featurize(examples);
    return buildBatch(
      data,
      data.map((_, i) => i),
      this.maxNegatives,
      epoch,
      this.maskDuplicates,
    );
  }
}

const refOf = (it: Item): PairRef => ({ id: it.id, file: it.source.file, line: it.source.line });

/** Assembles candidates and the negative mask for the given examples (`maskDuplicates`: data.maskDuplicateNegatives). */
export function buildBatch(data: FeaturizedExample[], idx: number[], maxNegatives: number, epoch = 0, maskDuplicates = false): Batch {
  const B = idx.length;
  const queryFeats = idx.map((i) => data[i].query);
  const itemFeats = idx.map((i) => data[i].positive);
  const itemIds = idx.map((i) => data[i].example.positive.id);
  const items = idx.map((i) => data[i].example.positive);
  const owner: number[] = [];
  idx.forEach((i, j) => {
    const own = data[i].example.negatives;
    data[i].negatives.slice(0, maxNegatives).forEach((n, k) => {
      itemFeats.push(n.feats);
      itemIds.push(n.id);
      items.push(own[k]);
      owner.push(j);
    });
  });
  const E = itemFeats.length;
  const positiveIds = new Set(itemIds.slice(0, B));
  const minedNorms: string[] = [];
  const minedIds = new Set<string>();
  for (const i of idx)
    for (const m of data[i].mined ?? []) {
      if (positiveIds.has(m.id) || minedIds.has(m.id)) continue;
      minedIds.add(m.id);
      itemFeats.push(m.feats);
      itemIds.push(m.id);
      items.push(m.item);
      minedNorms.push(m.norm);
    }
  const N = itemFeats.length;
  const positiveNorms = N > E || maskDuplicates ? idx.map((i) => normaliseText(data[i].example.positive.text)) : [];
  const norms = maskDuplicates ? items.slice(0, E).map((it) => normaliseText(it.text)) : null;
  const negMask = new Float32Array(B * N);
  for (let j = 0; j < B; j++) {
    const pid = itemIds[j];
    const row = j * N;
    for (let i = 0; i < B; i++) if (i !== j && itemIds[i] !== pid) negMask[row + i] = 1;
    for (let i = B; i < E; i++) if (owner[i - B] === j && itemIds[i] !== pid) negMask[row + i] = 1;
    for (let i = E; i < N; i++) if (itemIds[i] !== pid && minedNorms[i - E] !== positiveNorms[j]) negMask[row + i] = 1;
    if (norms) for (let i = 0; i < E; i++) if (norms[i] === positiveNorms[j]) negMask[row + i] = 0;
  }
  const queries = idx.map((i) => ({ id: data[i].example.queryId, file: data[i].example.source.file, line: data[i].example.source.line }));
  return {
    B,
    N,
    queryFeats,
    itemFeats,
    itemIds,
    negMask,
    exampleIndices: idx,
    epoch,
    queries,
    items: items.map(refOf),
    itemTexts: items.map((it) => it.text),
  };
}
