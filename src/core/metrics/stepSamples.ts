/**
 * Step samples and suspected false negatives (docs/diagnostics.md "Step samples", docs/run-format.md §4.2):
 * on a logged step, a small bounded sample of the batch's (query, positive, negative) pairs chosen to explain
 * the charts — the hardest negatives, the violations, the suspected false negatives, the lowest and highest
 * δ/τ and a few pseudo-random pairs as a baseline — with ids, data-file + line references and scores, never
 * texts (the dashboard reads texts from the lines on demand). python/retrieval_lens/step_samples.py is the
 * same algorithm; test/fixtures/parity/stepSamples.json holds its inputs and the output of this module, and
 * both languages are tested against it.
 *
 * Shapes: B pairs, N candidates (rows 0..B−1 the batch positives); sQV, sVV, hyper and negMask are [B×N]
 * row-major; a valid negative (j, i) has negMask[j·N+i] > 0.5 and i ≠ j.
 */
import { Type, type Static } from '@sinclair/typebox';
import { normaliseText } from '../data/normaliseText';

/** A data reference: [id, index into `files`, 1-based line]. */
const RefSchema = Type.Tuple([Type.String(), Type.Integer({ minimum: 0 }), Type.Integer({ minimum: 0 })]);

/** Why a pair is in the sample (a pair chosen for several reasons lists each once). */
export const SAMPLE_REASONS = ['hard', 'violation', 'falseNegative', 'lowHyper', 'highHyper', 'random'] as const;
export type SampleReason = (typeof SAMPLE_REASONS)[number];

export const StepSampleRowSchema = Type.Object({
  why: Type.Array(Type.Unsafe<SampleReason>(Type.Union(SAMPLE_REASONS.map((r) => Type.Literal(r)))), { minItems: 1 }),
  /** The query: [query id, file, line] (the line of the query record: the pair's line, or queries.jsonl's for BEIR). */
  q: RefSchema,
  /** The positive v: [item id, file, line]. */
  v: RefSchema,
  /** The negative v⁻: [item id, file, line] (line 0: not known, e.g. a mined negative without a source). */
  n: RefSchema,
  /** s(q,v), s(q,v⁻), s(v,v⁻) rounded to 4 decimals; null when non-finite. */
  sQV: Type.Union([Type.Number(), Type.Null()]),
  sQNeg: Type.Union([Type.Number(), Type.Null()]),
  sVNeg: Type.Union([Type.Number(), Type.Null()]),
  /** δ or τ of the pair (the step's loss), rounded to 5 decimals. */
  hyper: Type.Union([Type.Number(), Type.Null()]),
  /** Set on suspected false negatives: which rule matched ("sameText", "overlap" or "scoredAbove") and the word overlap. */
  fn: Type.Optional(Type.Object({ rule: Type.String(), overlap: Type.Number() })),
});
export type StepSampleRow = Static<typeof StepSampleRowSchema>;

/** `samples` of a step event: the data files the rows refer to, and the rows. */
export const StepSamplesSchema = Type.Object({
  files: Type.Array(Type.String()),
  rows: Type.Array(StepSampleRowSchema),
});
export type StepSamples = Static<typeof StepSamplesSchema>;

/** `suspectedFalseNegatives` of a step event: valid negatives that look like positives, and their share of all valid negatives. */
export const SuspectedFalseNegativesSchema = Type.Object({
  count: Type.Integer({ minimum: 0 }),
  share: Type.Number({ minimum: 0, maximum: 1 }),
});
export type SuspectedFalseNegatives = Static<typeof SuspectedFalseNegativesSchema>;

/** Rows per reason, and the size bound of a step's sample (docs/run-format.md). */
export const SAMPLE_LIMITS = { hard: 4, violation: 4, falseNegative: 4, lowHyper: 3, highHyper: 3, random: 3, maxBytes: 4096 } as const;
/** Word overlap (Jaccard) at or above which a negative is a suspected false negative on its own. */
export const FN_OVERLAP = 0.8;
/** Word overlap at or above which a negative scored at or above the positive (s(q,v⁻) ≥ s(q,v)) is suspected. */
export const FN_SCORED_OVERLAP = 0.5;

/** A data reference of a query or item: id, file (absolute path) and 1-based line (0: unknown). */
export interface PairRef {
  id: string;
  file: string;
  line: number;
}

/** What the sampler reads of one step. */
export interface StepSampleInput {
  step: number;
  B: number;
  N: number;
  sQV: Float32Array | Float64Array;
  sVV: Float32Array | Float64Array;
  negMask: Float32Array | Float64Array;
  hyper: Float32Array | Float64Array;
  /** The B queries. */
  queries: PairRef[];
  /** The N candidate items (0..B−1: the positives). */
  items: PairRef[];
  /** The N candidates' texts (for the false-negative rules). */
  itemTexts: string[];
}

/** The words of a text as the towers split it: NFKC, lower-cased letter/digit runs. */
export function textWords(text: string): string[] {
  return normaliseText(text).match(/[\p{L}\p{N}]+/gu) ?? [];
}

/** A suspected false negative: valid negative (j, i), the rule that matched and the overlap. */
export interface SuspectedPair {
  k: number;
  rule: 'sameText' | 'overlap' | 'scoredAbove';
  overlap: number;
}

/**
 * The valid negatives (j, i) that look like false negatives: the same normalised text as the positive v_j
 * ("sameText"), word overlap ≥ FN_OVERLAP with it ("overlap"), or s(q_j,v⁻) ≥ s(q_j,v_j) with overlap ≥
 * FN_SCORED_OVERLAP ("scoredAbove"); in row-major order of k = j·N + i. `valid` is the number of valid negatives.
 */
export function suspectFalseNegatives(x: Pick<StepSampleInput, 'B' | 'N' | 'sQV' | 'negMask' | 'itemTexts'>): { pairs: SuspectedPair[]; valid: number } {
  const { B, N, sQV, negMask } = x;
  const norms = x.itemTexts.map(normaliseText);
  // Each text's distinct words as sorted integer ids: an overlap is one merge, not string lookups.
  const ids = new Map<string, number>();
  const words = norms.map((t) => {
    const w = [...new Set(t.match(/[\p{L}\p{N}]+/gu) ?? [])].map((word) => {
      let id = ids.get(word);
      if (id === undefined) ids.set(word, (id = ids.size));
      return id;
    });
    return Int32Array.from(w).sort();
  });
  const shared = (a: Int32Array, b: Int32Array) => {
    let n = 0;
    for (let p = 0, q = 0; p < a.length && q < b.length;) {
      if (a[p] === b[q]) {
        n++;
        p++;
        q++;
      } else if (a[p] < b[q]) p++;
      else q++;
    }
    return n;
  };
  // In-batch overlaps are symmetric: (j, i) and (i, j) are computed once (−1: not yet).
  const cache = new Float64Array(B * B).fill(-1);
  const pairs: SuspectedPair[] = [];
  let valid = 0;
  for (let j = 0; j < B; j++) {
    const pos = sQV[j * N + j];
    const pw = words[j];
    for (let i = 0; i < N; i++) {
      const k = j * N + i;
      if (!(negMask[k] > 0.5) || i === j) continue;
      valid++;
      if (norms[i] === norms[j]) {
        pairs.push({ k, rule: 'sameText', overlap: 1 });
        continue;
      }
      const nw = words[i];
      const bound = Math.min(pw.length, nw.length) / Math.max(1, pw.length, nw.length); // Jaccard ≤ min/max
      const above = sQV[k] >= pos;
      if (bound < (above ? FN_SCORED_OVERLAP : FN_OVERLAP)) continue;
      let o = i < B ? cache[j * B + i] : -1;
      if (o < 0) {
        const n = shared(pw, nw);
        o = pw.length + nw.length === 0 ? 0 : n / (pw.length + nw.length - n);
        if (i < B) cache[i * B + j] = o;
      }
      if (o >= FN_OVERLAP) pairs.push({ k, rule: 'overlap', overlap: o });
      else if (above && o >= FN_SCORED_OVERLAP) pairs.push({ k, rule: 'scoredAbove', overlap: o });
    }
  }
  return { pairs, valid };
}

/** x rounded to `d` decimals the same way in both languages (floor(x·10^d + 0.5) / 10^d); null when non-finite. */
function round(x: number, d: number): number | null {
  if (!Number.isFinite(x)) return null;
  const f = 10 ** d;
  return Math.floor(x * f + 0.5) / f;
}

/** 32-bit hash of (step, k) (murmur3's finaliser): the pseudo-random picks, the same in Python. */
export function pickHash(step: number, k: number): number {
  let h = (Math.imul(step, 0x9e3779b1) + Math.imul(k + 1, 0x85ebca6b)) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}

const utf8 = new TextEncoder();
const bytes = (s: string) => utf8.encode(s).length;

/** Upper bound of a row's JSON bytes (docs/run-format.md): 150 + its ids' bytes + its reasons. */
function rowBound(row: StepSampleRow): number {
  return 150 + bytes(row.q[0]) + bytes(row.v[0]) + bytes(row.n[0]) + row.why.reduce((s, r) => s + r.length + 3, 0) + (row.fn ? 40 : 0);
}

/**
 * The `count` best of the pairs `ks` by `key` descending, ties by k ascending, at most one per query row
 * (k div N): one query with many hard negatives would otherwise fill the sample. One pass keeps each row's best;
 * the rows' bests are then ranked (the same result as ranking every pair).
 */
function topBy(ks: ArrayLike<number>, key: (k: number) => number, count: number, N: number, B: number): number[] {
  const bestK = new Int32Array(B).fill(-1);
  const bestV = new Float64Array(B);
  for (let t = 0; t < ks.length; t++) {
    const k = ks[t];
    const j = Math.floor(k / N);
    const v = key(k);
    if (bestK[j] < 0 || v > bestV[j]) {
      bestK[j] = k;
      bestV[j] = v;
    }
  }
  const rows: { k: number; v: number }[] = [];
  for (let j = 0; j < B; j++) if (bestK[j] >= 0) rows.push({ k: bestK[j], v: bestV[j] });
  return rows
    .sort((a, b) => b.v - a.v || a.k - b.k)
    .slice(0, count)
    .map((r) => r.k);
}

/**
 * The sample of one logged step and its suspected false negatives. Rows are ordered by reason (hard,
 * violation, falseNegative, lowHyper, highHyper, random), each pair once with all its reasons; rows are
 * dropped from the end while the size bound of the sample exceeds SAMPLE_LIMITS.maxBytes.
 */
export function sampleStep(x: StepSampleInput): { samples: StepSamples; suspected: SuspectedFalseNegatives } {
  const { B, N, sQV, sVV, negMask, hyper } = x;
  const fn = suspectFalseNegatives(x);
  const validKs = new Int32Array(fn.valid);
  let nValid = 0;
  for (let j = 0; j < B; j++) for (let i = 0; i < N; i++) if (negMask[j * N + i] > 0.5 && i !== j) validKs[nValid++] = j * N + i;
  const pos = (k: number) => sQV[Math.floor(k / N) * N + Math.floor(k / N)];
  const L = SAMPLE_LIMITS;
  const picks: [SampleReason, number[]][] = [
    ['hard', topBy(validKs, (k) => sQV[k] - pos(k), L.hard, N, B)],
    [
      'violation',
      topBy(
        validKs.filter((k) => sVV[k] >= pos(k)),
        (k) => sVV[k] - pos(k),
        L.violation,
        N,
        B,
      ),
    ],
    [
      'falseNegative',
      topBy(
        fn.pairs.map((p) => p.k),
        (k) => sQV[k] - pos(k),
        L.falseNegative,
        N,
        B,
      ),
    ],
    ['lowHyper', topBy(validKs, (k) => -hyper[k], L.lowHyper, N, B)],
    ['highHyper', topBy(validKs, (k) => hyper[k], L.highHyper, N, B)],
  ];
  const random: number[] = [];
  for (let a = 0; a < 4 * L.random && random.length < Math.min(L.random, validKs.length); a++) {
    const k = validKs[pickHash(x.step, a) % validKs.length];
    if (!random.includes(k)) random.push(k);
  }
  picks.push(['random', random]);
  const fnOf = new Map(fn.pairs.map((p) => [p.k, p]));
  const files: string[] = [];
  const fileIndex = (f: string) => {
    let at = files.indexOf(f);
    if (at < 0) at = files.push(f) - 1;
    return at;
  };
  const ref = (r: PairRef): [string, number, number] => [r.id, fileIndex(r.file), r.line];
  const byK = new Map<number, StepSampleRow>();
  for (const [why, ks] of picks)
    for (const k of ks) {
      const had = byK.get(k);
      if (had) {
        if (!had.why.includes(why)) had.why.push(why);
        continue;
      }
      const j = Math.floor(k / N);
      const i = k - j * N;
      const s = fnOf.get(k);
      byK.set(k, {
        why: [why],
        q: ref(x.queries[j]),
        v: ref(x.items[j]),
        n: ref(x.items[i]),
        sQV: round(pos(k), 4),
        sQNeg: round(sQV[k], 4),
        sVNeg: round(sVV[k], 4),
        hyper: round(hyper[k], 5),
        ...(s ? { fn: { rule: s.rule, overlap: round(s.overlap, 3) ?? 0 } } : {}),
      });
    }
  let rows = [...byK.values()];
  const filesBound = () => 30 + files.reduce((s, f) => s + bytes(f) + 3, 0);
  let total = filesBound() + rows.reduce((s, r) => s + rowBound(r), 0);
  while (rows.length > 0 && total > L.maxBytes) {
    total -= rowBound(rows[rows.length - 1]);
    rows = rows.slice(0, -1);
  }
  // Files no kept row refers to are dropped (indexes renumbered).
  const used = [...new Set(rows.flatMap((r) => [r.q[1], r.v[1], r.n[1]]))].sort((a, b) => a - b);
  const renumber = new Map(used.map((f, at) => [f, at]));
  const re = (r: [string, number, number]): [string, number, number] => [r[0], renumber.get(r[1])!, r[2]];
  rows = rows.map((r) => ({ ...r, q: re(r.q), v: re(r.v), n: re(r.n) }));
  return {
    samples: { files: used.map((f) => files[f]), rows },
    suspected: { count: fn.pairs.length, share: fn.valid > 0 ? fn.pairs.length / fn.valid : 0 },
  };
}
