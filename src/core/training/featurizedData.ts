import type { ModelConfig } from '../config/types';
import type { Example, Item } from '../data/types';
import { normaliseText } from '../data/itemId';
import { featurize, featurizeOptions } from '../model/featurize';
import { queryFeaturizer } from '../model/towers';

/** An example with its query and items already hashed into feature ids (the query's as its tower wants them: model/towers). */
export interface FeaturizedExample {
  example: Example;
  query: Int32Array;
  positive: Int32Array;
  negatives: { id: string; feats: Int32Array }[];
  /** Mined hard negatives of its query (data.hardNegatives), with their normalised texts (for masking); empty without. */
  mined?: { id: string; norm: string; feats: Int32Array; item: Item }[];
}

/**
 * Featurises examples (a batch: training featurises batch by batch, never the whole data); within
 * one call, items are featurised once per item id.
 */
export function featurizeExamples(examples: Example[], model: ModelConfig, minedFor?: (example: Example) => readonly Item[]): FeaturizedExample[] {
  const queryFeats = queryFeaturizer(model);
  const iOpts = featurizeOptions(model, 'item');
  const itemCache = new Map<string, Int32Array>();
  const item = (id: string, text: string): Int32Array => {
    let f = itemCache.get(id);
    if (!f) itemCache.set(id, (f = featurize(text, iOpts)));
    return f;
  };
  return examples.map((example) => ({
    example,
    query: queryFeats(example.query),
    positive: item(example.positive.id, example.positive.text),
    negatives: example.negatives.map((n) => ({ id: n.id, feats: item(n.id, n.text) })),
    mined: (minedFor?.(example) ?? []).map((n) => ({ id: n.id, norm: normaliseText(n.text), feats: item(n.id, n.text), item: n })),
  }));
}
