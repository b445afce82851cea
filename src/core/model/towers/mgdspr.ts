import { featurize, fnv1a, words, type FeaturizeOptions } from '../featurize';

/**
 * Multi-granular query tower in the spirit of MGDSPR (Li et al., "Embedding-based Product Retrieval in Taobao
 * Search", KDD 2021, arXiv 2106.09297, §3.2 "Multi-Granular Semantic Unit"). The paper segments a query into
 * words w_1..w_n and each word into characters c_1..c_m, and builds six representations of it:
 *   q_1_gram   = mean_pooling(c_1, …, c_m)                 characters
 *   q_2_gram   = mean_pooling(c_1c_2, …, c_{m−1}c_m)       adjacent character pairs
 *   q_seq      = mean_pooling(w_1, …, w_n)                 words
 *   q_seq_seq  = mean_pooling(Trm(w_1, …, w_n))            a transformer over the words
 *   q_his      = softmax(q_seq · q_hisᵀ) · q_his            attention over the user's past queries
 *   q_mix      = q_1_gram + q_2_gram + q_seq + q_seq_seq + q_his
 *   q_mgs      = concat(q_1_gram, q_2_gram, q_seq, q_seq_seq, q_his, q_mix)      ∈ R^{6d}
 *
 * Here (our texts are English / code, hashed into one table of `vocabBuckets` rows, like the DSSM tower):
 *   u   = mean of the word unigrams' rows          ("w:" + word, the DSSM tower's word ids)       ~ q_1_gram
 *   b   = mean of the adjacent word pairs' rows    ("b:" + word + " " + next word)               ~ q_2_gram
 *   s   = mean of the whole query's DSSM features  (words, then character trigrams; featurize.ts) ~ q_seq
 *   m   = u + b + s                                                                               ~ q_mix
 *   x   = concat(u, b, s, m)  [4E]  →  the tower's MLP normalize(relu(x·W1 + b1)·W2 + b2), W1 [4E × H].
 * A Chinese character is the smallest unit that carries meaning and a Taobao query has fewer than 3 words, so
 * the paper's character unigrams / bigrams map to our word unigrams / bigrams, and its word-level q_seq to the
 * whole query's features (words + trigrams, the DSSM bag). Left out: q_his (our data has no users and no query
 * history) and q_seq_seq (no transformer in either trainer: the built-in one has a hand-written backward over
 * mean bags and dense layers only); q_mix sums the three that remain. Every granule is capped at the query's
 * maxQueryTokens ids; an empty granule (a one-word query has no bigram) is a zero vector, as an empty bag is.
 * The item tower stays the DSSM tower.
 *
 * Features of one query are packed into one Int32Array so that batches, caches and the trainer's lanes carry
 * them as they carry a DSSM query: [n_u, n_b, u ids…, b ids…, s ids…]. `granules` unpacks it (views, no copy).
 */

/** Bags per query: unigrams, bigrams, the whole query. */
export const MGDSPR_GRANULES = 3;
/** Vectors concatenated into the MLP's input: the three granules and their mix. */
export const MGDSPR_PARTS = MGDSPR_GRANULES + 1;

/** The packed multi-granular features of a query (layout above). */
export function mgdsprQueryFeatures(text: string, opts: FeaturizeOptions): Int32Array {
  const ws = words(text);
  const uni = ws.slice(0, opts.maxTokens).map((w) => fnv1a('w:' + w) % opts.buckets);
  const bi: number[] = [];
  for (let i = 0; i + 1 < ws.length && bi.length < opts.maxTokens; i++) bi.push(fnv1a('b:' + ws[i] + ' ' + ws[i + 1]) % opts.buckets);
  const seq = featurize(text, opts);
  const out = new Int32Array(2 + uni.length + bi.length + seq.length);
  out[0] = uni.length;
  out[1] = bi.length;
  out.set(uni, 2);
  out.set(bi, 2 + uni.length);
  out.set(seq, 2 + uni.length + bi.length);
  return out;
}

/** The three bags (unigrams, bigrams, whole query) of packed features, as views. */
export function granules(packed: Int32Array): [Int32Array, Int32Array, Int32Array] {
  const nu = packed[0];
  const nb = packed[1];
  if (!(packed.length >= 2 && nu >= 0 && nb >= 0 && 2 + nu + nb <= packed.length))
    throw new Error(`mgdspr query features: header [${packed[0]}, ${packed[1]}] does not fit ${packed.length} values (not packed by mgdsprQueryFeatures)`);
  return [packed.subarray(2, 2 + nu), packed.subarray(2 + nu, 2 + nu + nb), packed.subarray(2 + nu + nb)];
}

/**
 * x = concat(u, b, s, u + b + s) per row: `bags` is [rows × 3E] (the three granule bags of a query, in order,
 * as the bag kernels lay out 3 consecutive bags of E); returns [rows × 4E].
 */
export function mgdsprMix(bags: Float32Array, rows: number, E: number): Float32Array {
  const x = new Float32Array(rows * MGDSPR_PARTS * E);
  for (let r = 0; r < rows; r++) {
    const i = r * MGDSPR_GRANULES * E;
    const o = r * MGDSPR_PARTS * E;
    x.set(bags.subarray(i, i + MGDSPR_GRANULES * E), o);
    for (let k = 0; k < E; k++) x[o + 3 * E + k] = bags[i + k] + bags[i + E + k] + bags[i + 2 * E + k];
  }
  return x;
}

/** Backward of mgdsprMix: ∂L/∂(u, b, s) = ∂L/∂x[part] + ∂L/∂x[mix]; `dx` [rows × 4E] → [rows × 3E]. */
export function mgdsprMixBackward(dx: Float32Array, rows: number, E: number): Float32Array {
  const d = new Float32Array(rows * MGDSPR_GRANULES * E);
  for (let r = 0; r < rows; r++) {
    const i = r * MGDSPR_PARTS * E;
    const o = r * MGDSPR_GRANULES * E;
    for (let p = 0; p < MGDSPR_GRANULES; p++) for (let k = 0; k < E; k++) d[o + p * E + k] = dx[i + p * E + k] + dx[i + 3 * E + k];
  }
  return d;
}
