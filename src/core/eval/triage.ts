import { normaliseText } from '../data/itemId';
import type { TermStats } from '../lexical/termStats';
import { words } from '../model/featurize';
import type { MatchingTerm, TriageEvidence, TriageLabel } from './types';

export interface TriageThresholds {
  /** s(v, v̂) at or above this (and close relative to the neighbourhood): near-duplicate; pairwise s among the top-k at or above it: collapsed. */
  nearDuplicate: number;
  /** Kept for older configs; the collapsed-neighbourhood rule no longer uses the score spread alone (it is shown as evidence). */
  collapsedSpread: number;
}

/** A retrieved item of the top-k, as triage sees it. */
export interface TriageItem {
  id: string;
  text: string;
  /** s(v, item): exact cosine to the best-ranked positive. */
  simToPositive: number;
  relevant: boolean;
}

export interface TriageInput {
  query: string;
  positiveText: string;
  /** Name of the failure's search ("exact", "IVF-PQ, nprobe 16") and the best rank of a relevant item in it (null: beyond cutoff). */
  search: string;
  rank: number | null;
  rankCutoff: number;
  k: number;
  /** The top-k, best first. */
  retrieved: TriageItem[];
  /** s(q, item) of the top-k, best first. */
  topScores: number[];
  /** Pairwise s(item_i, item_j) of the top-k (i < j). */
  pairwise: number[];
  /** Best rank of a relevant item in BM25 (null: beyond cutoff) and its score; undefined when BM25 is off. */
  bm25?: { rank: number | null; score?: number };
  /** Best rank of a relevant item in the hybrid (RRF) ranking (null: beyond cutoff); undefined without BM25. */
  hybrid?: { rank: number | null };
  terms: TermStats;
  limits: TowerLimits;
}

/** The towers' feature limits (model.maxQueryTokens, maxItemTokens, charTrigrams). */
export interface TowerLimits {
  maxQueryTokens: number;
  maxItemTokens: number;
  charTrigrams: boolean;
}

/** A near-duplicate v̂ is at most this fraction of the typical (median) cosine distance 1 − s(v, item) of the top-k from v. */
export const NEAR_DUPLICATE_RELATIVE = 0.5;
/** A collapsed neighbourhood's texts share less than this median word overlap (Jaccard): different texts, one point. */
export const COLLAPSED_MAX_WORD_OVERLAP = 0.5;

function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function jaccard(a: Set<string>, b: Set<string>): number {
  let inter = 0;
  for (const w of a) if (b.has(w)) inter++;
  const union = a.size + b.size - inter;
  return union === 0 ? 1 : inter / union;
}

/**
 * Whether a tower saw the word at 0-based position `at` of `ws` under `maxTokens` features: features are
 * the words in order, then each word's trigrams (a word of length L has L trigrams of "#word#"), cut at
 * maxTokens (featurize.ts). Seen = its word feature or its first trigram is within the limit.
 */
export function wordSeen(ws: readonly string[], at: number, maxTokens: number, charTrigrams = true): boolean {
  if (at < maxTokens) return true;
  if (!charTrigrams) return false;
  let pos = Math.min(ws.length, maxTokens);
  for (let i = 0; i < at; i++) pos += ws[i].length;
  return pos < maxTokens;
}

/** Query words found among the positive's words, rarest (highest idf) first, with where each tower saw them. */
export function matchingTerms(query: string, positive: string, terms: TermStats, limits: TowerLimits): MatchingTerm[] {
  const qw = words(query);
  const pw = words(positive);
  const out: MatchingTerm[] = [];
  const seen = new Set<string>();
  qw.forEach((term, qi) => {
    if (seen.has(term)) return;
    seen.add(term);
    const pi = pw.indexOf(term);
    if (pi < 0) return;
    out.push({
      term,
      df: terms.df.get(term) ?? 0,
      idf: terms.idf(term),
      queryWord: qi + 1,
      positiveWord: pi + 1,
      querySeen: wordSeen(qw, qi, limits.maxQueryTokens, limits.charTrigrams),
      positiveSeen: wordSeen(pw, pi, limits.maxItemTokens, limits.charTrigrams),
    });
  });
  return out.sort((a, b) => b.idf - a.idf || a.queryWord - b.queryWord);
}

const f3 = (x: number) => x.toFixed(3);
const rankText = (r: number | null | undefined, cutoff: number) => (r === null || r === undefined ? `>${cutoff}` : String(r));
const termList = (ts: readonly MatchingTerm[], n = 5) =>
  ts
    .slice(0, n)
    .map((t) => `${t.term} (idf ${t.idf.toFixed(2)}, df ${t.df})`)
    .join(', ') + (ts.length > n ? `, +${ts.length - n} more` : '');

/**
 * Why a query failed, first matching rule wins; every label carries the evidence it rests on:
 * 1. collapsed-neighbourhood — the top-k are mutually near-identical in the embedding (median pairwise
 *    s(v̂ᵢ, v̂ⱼ) ≥ nearDuplicate) although their texts differ (median word overlap < 0.5);
 * 2. near-duplicate — a retrieved, non-relevant item v̂ has the positive's normalised text, or is close to it
 *    relative to the neighbourhood (s(v, v̂) ≥ nearDuplicate and 1 − s(v, v̂) ≤ ½ · (1 − median s(v, top-k)))
 *    and contains every query word the positive contains (the query cannot tell them apart). "Likely a
 *    missing label" only when the words do not contradict it: not when BM25 ranks the labelled positive
 *    first (the words do tell them apart) or the positive shares no word with the query (a vocabulary mismatch);
 * 3. truncated — the decisive term (the rarest query word found in the positive) lies beyond the towers'
 *    features (maxQueryTokens / maxItemTokens): one tower never saw it. A common word such as "for" cut off
 *    while the decisive one was seen is not a truncation;
 * 4. lexical-miss — BM25 ranks a relevant item in the top k, the dense search does not; the matching
 *    terms with their IDF are named (term coverage in training is added by termCoverage.ts);
 * 5. hard-for-both — BM25 does not rank one in the top k either (both ranks shown): a label or data problem,
 *    unless the positive shares no word with the query (a vocabulary mismatch, said instead);
 * 6. ranked-low — none of these (only without the BM25 baseline).
 * Whatever the label, a top-k collapsed in the embedding (median pairwise s ≥ nearDuplicate) is said too
 * (evidence.collapsed), and "fixed by hybrid" when the RRF ranking has a relevant item in the top k.
 */
export function triage(x: TriageInput, t: TriageThresholds): { label: TriageLabel; reason: string; evidence: TriageEvidence } {
  const qw = words(x.query);
  const pw = words(x.positiveText);
  const matching = matchingTerms(x.query, x.positiveText, x.terms, x.limits);
  const others = x.retrieved.filter((r) => !r.relevant);
  const wordSets = x.retrieved.map((r) => new Set(words(r.text)));
  const overlaps: number[] = [];
  for (let i = 0; i < wordSets.length; i++) for (let j = i + 1; j < wordSets.length; j++) overlaps.push(jaccard(wordSets[i], wordSets[j]));
  const neighbourhood = {
    simToPositiveMedian: median(x.retrieved.map((r) => r.simToPositive)),
    pairwiseMedian: median(x.pairwise),
    pairwiseMin: x.pairwise.length ? Math.min(...x.pairwise) : NaN,
    wordOverlapMedian: median(overlaps),
    scoreSpread: x.topScores.length ? Math.max(...x.topScores) - Math.min(...x.topScores) : 0,
  };
  const posNorm = normaliseText(x.positiveText);
  const sameText = others.find((r) => normaliseText(r.text) === posNorm);
  const closestItem = sameText ?? [...others].sort((a, b) => b.simToPositive - a.simToPositive)[0];
  const evidence: TriageEvidence = {
    rank: x.rank,
    ...(x.bm25 ? { bm25Rank: x.bm25.rank, ...(x.bm25.score !== undefined ? { bm25Score: x.bm25.score } : {}) } : {}),
    matchingTerms: matching,
    corpusSize: x.terms.n,
    limits: { maxQueryTokens: x.limits.maxQueryTokens, maxItemTokens: x.limits.maxItemTokens, queryWords: qw.length, positiveWords: pw.length },
    neighbourhood,
    ...(closestItem ? { closest: { itemId: closestItem.id, sim: closestItem.simToPositive, sameText: !!sameText } } : {}),
  };
  const ranks = `${x.search} rank ${rankText(x.rank, x.rankCutoff)}${x.bm25 ? `, BM25 rank ${rankText(x.bm25.rank, x.rankCutoff)}` : ''}`;
  if (x.hybrid) evidence.hybridRank = x.hybrid.rank;
  const collapsedTop = x.retrieved.length > 1 && neighbourhood.pairwiseMedian >= t.nearDuplicate;
  const done = (label: TriageLabel, reason: string) => {
    let why = reason;
    if (collapsedTop && label !== 'collapsed-neighbourhood') {
      evidence.collapsed = true;
      why += `; the top ${x.retrieved.length} are also collapsed in the embedding (median s(v̂ᵢ, v̂ⱼ) ${f3(neighbourhood.pairwiseMedian)} ≥ ${t.nearDuplicate})`;
    }
    if (x.hybrid && x.hybrid.rank !== null && x.hybrid.rank <= x.k) why += `; fixed by hybrid (RRF rank ${x.hybrid.rank})`;
    return { label, reason: why, evidence };
  };
  /** Why the words speak against a missing label, or null: BM25 ranks the labelled positive first, or no query word is in it. */
  const wordsDisagree =
    x.bm25?.rank === 1
      ? 'BM25 ranks the labelled positive first: the words tell them apart, the dense model does not'
      : matching.length === 0
        ? 'no query word appears in the positive: a vocabulary mismatch the dense model did not bridge'
        : null;

  const n = x.retrieved.length;
  if (n > 1 && neighbourhood.pairwiseMedian >= t.nearDuplicate && neighbourhood.wordOverlapMedian < COLLAPSED_MAX_WORD_OVERLAP) {
    return done(
      'collapsed-neighbourhood',
      `the top ${n} are mutually near-identical in the embedding (median s(v̂ᵢ, v̂ⱼ) ${f3(neighbourhood.pairwiseMedian)}, min ${f3(neighbourhood.pairwiseMin)}; ≥ ${t.nearDuplicate}) ` +
        `although their texts share a median ${(100 * neighbourhood.wordOverlapMedian).toFixed(0)}% of words; scores spread ${neighbourhood.scoreSpread.toFixed(4)}; ${ranks}`,
    );
  }
  if (sameText) return done('near-duplicate', `${sameText.id} has the same normalised text as the positive (likely a missing label); ${ranks}`);
  if (
    closestItem &&
    closestItem.simToPositive >= t.nearDuplicate &&
    1 - closestItem.simToPositive <= NEAR_DUPLICATE_RELATIVE * (1 - neighbourhood.simToPositiveMedian)
  ) {
    const vw = new Set(words(closestItem.text));
    const queryInPositive = [...new Set(qw)].filter((w) => pw.includes(w));
    if (queryInPositive.every((w) => vw.has(w))) {
      const pset = new Set(pw);
      const diff = [...[...pset].filter((w) => !vw.has(w)), ...[...vw].filter((w) => !pset.has(w)).map((w) => `+${w}`)].slice(0, 6);
      return done(
        'near-duplicate',
        `${closestItem.id} is s(v, v̂) ${f3(closestItem.simToPositive)} from the positive vs a median ${f3(neighbourhood.simToPositiveMedian)} for the top ${n}, ` +
          `and contains every query word the positive does (${queryInPositive.join(', ') || 'none'}): ` +
          `${wordsDisagree ?? 'the query cannot tell them apart (likely a missing label)'}` +
          `${diff.length ? `; they differ in ${diff.join(' ')}` : ''}; ${ranks}`,
      );
    }
  }
  const decisive = matching[0] as MatchingTerm | undefined;
  if (decisive && (!decisive.querySeen || !decisive.positiveSeen)) {
    const where = !decisive.positiveSeen
      ? `${decisive.term} is word ${decisive.positiveWord} of ${pw.length} of the positive (the item tower keeps ${x.limits.maxItemTokens} features)`
      : `${decisive.term} is word ${decisive.queryWord} of ${qw.length} of the query (the query tower keeps ${x.limits.maxQueryTokens} features)`;
    return done(
      'truncated',
      `the decisive term (the rarest query word in the positive, idf ${decisive.idf.toFixed(2)}) lies beyond the towers' features: ${where}; ${ranks}`,
    );
  }
  if (x.bm25 && x.bm25.rank !== null && x.bm25.rank <= x.k && matching.length > 0) {
    return done(
      'lexical-miss',
      `BM25 ranks the positive ${x.bm25.rank}, the ${x.search} search ${rankText(x.rank, x.rankCutoff)}; query terms in the positive: ${termList(matching)}`,
    );
  }
  if (x.bm25 && (x.bm25.rank === null || x.bm25.rank > x.k)) {
    return done(
      'hard-for-both',
      `neither finds it in the top ${x.k}: ${ranks}; ${matching.length ? `query terms in the positive: ${termList(matching)} — check the label or the data` : wordsDisagree}`,
    );
  }
  return done('ranked-low', `${ranks}; no BM25 baseline (evaluation.lexicalBaseline false), no collapsed or near-duplicate neighbourhood, nothing truncated`);
}

/**
 * Why a record's label is not backed by its evidence (null when it is): the check that no label is
 * assigned without its evidence (tests run it over whole evaluations).
 */
export function evidenceProblem(label: TriageLabel, e: TriageEvidence | undefined, k: number, t: TriageThresholds): string | null {
  if (!e) return 'no evidence';
  const nb = e.neighbourhood;
  switch (label) {
    case 'collapsed-neighbourhood':
      return nb.pairwiseMedian >= t.nearDuplicate && nb.wordOverlapMedian < COLLAPSED_MAX_WORD_OVERLAP
        ? null
        : `pairwise median ${nb.pairwiseMedian}, word overlap ${nb.wordOverlapMedian}`;
    case 'near-duplicate':
      if (!e.closest) return 'no closest item';
      if (e.closest.sameText) return null;
      return e.closest.sim >= t.nearDuplicate && 1 - e.closest.sim <= NEAR_DUPLICATE_RELATIVE * (1 - nb.simToPositiveMedian)
        ? null
        : `closest ${e.closest.sim} vs median ${nb.simToPositiveMedian}`;
    case 'truncated':
      return e.matchingTerms.length > 0 && (!e.matchingTerms[0].querySeen || !e.matchingTerms[0].positiveSeen)
        ? null
        : 'the decisive (rarest) matching term was seen by both towers';
    case 'lexical-miss':
      return e.bm25Rank !== undefined && e.bm25Rank !== null && e.bm25Rank <= k && e.matchingTerms.length > 0 && (e.rank === null || e.rank > k)
        ? null
        : `BM25 rank ${e.bm25Rank}, ${e.matchingTerms.length} matching terms`;
    case 'hard-for-both':
      return e.bm25Rank !== undefined && (e.bm25Rank === null || e.bm25Rank > k) && (e.rank === null || e.rank > k)
        ? null
        : `ranks ${e.rank} / BM25 ${e.bm25Rank}`;
    case 'ranked-low':
      return e.bm25Rank === undefined ? null : 'BM25 ran: a more specific label applies';
    default:
      return `${label} is no longer assigned`;
  }
}
