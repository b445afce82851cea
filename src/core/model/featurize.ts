import type { ModelConfig } from '../config/types';

/**
 * DSSM-style text features: lower-cased words, then character trigrams of each word (with '#'
 * boundary marks), hashed into `buckets` ids. Words come first so truncation to `maxTokens` keeps
 * whole-word evidence before sub-word evidence.
 */
export interface FeaturizeOptions {
  buckets: number;
  maxTokens: number;
  charTrigrams: boolean;
}

/** The featurisation of one tower's texts under a model config (its own token limit). */
export function featurizeOptions(model: ModelConfig, tower: 'query' | 'item'): FeaturizeOptions {
  return {
    buckets: model.vocabBuckets,
    maxTokens: tower === 'query' ? model.maxQueryTokens : model.maxItemTokens,
    charTrigrams: model.charTrigrams,
  };
}

/** Lower-cased alphanumeric words of a text (Unicode letters and digits). */
export function words(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
}

/** 32-bit FNV-1a hash of a string's UTF-16 code units. */
export function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Hashed feature ids of a text: at most `maxTokens`, words first, then trigrams in word order. */
export function featurize(text: string, opts: FeaturizeOptions): Int32Array {
  const ws = words(text);
  const ids: number[] = [];
  for (const w of ws) {
    if (ids.length >= opts.maxTokens) break;
    ids.push(fnv1a('w:' + w) % opts.buckets);
  }
  if (opts.charTrigrams) {
    outer: for (const w of ws) {
      const marked = `#${w}#`;
      for (let i = 0; i + 3 <= marked.length; i++) {
        if (ids.length >= opts.maxTokens) break outer;
        ids.push(fnv1a('t:' + marked.slice(i, i + 3)) % opts.buckets);
      }
    }
  }
  return Int32Array.from(ids);
}
