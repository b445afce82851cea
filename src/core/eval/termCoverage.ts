/**
 * Term coverage as evidence for `lexical-miss` failures: BM25 found the positive by its words, the dense
 * model did not. Whether the model could have learnt the decisive term — the rarest query word found in the
 * positive (evidence.matchingTerms[0]) — depends on whether training ever showed it: the number of training
 * pairs whose query or positive contains the term (as a word of `words`, the towers' tokenisation).
 *   0        → "term never seen in training"  (more or other training data is the fix)
 *   1 … 9    → "term seen 1–9 times in training" (rare: more data, or hard negatives that contrast it)
 *   ≥ 10     → "term seen ≥ 10 times in training" (seen often: the model, not the data, misses it)
 * One pass over the training pairs counts every decisive term at once.
 */
import type { Example } from '../data/types';
import { words } from '../model/featurize';
import type { FailureRecord, FailureSummary } from './types';

/** A term seen at least this often is "seen often": the split's upper group. */
export const COVERAGE_OFTEN = 10;

/** The coverage groups, in order: never, rarely, often seen. */
export const COVERAGE_GROUPS = [
  'term never seen in training',
  `term seen 1–${COVERAGE_OFTEN - 1} times in training`,
  `term seen ≥ ${COVERAGE_OFTEN} times in training`,
] as const;

/** The coverage group of a term seen in `n` training pairs. */
export function coverageGroup(n: number): (typeof COVERAGE_GROUPS)[number] {
  return COVERAGE_GROUPS[n === 0 ? 0 : n < COVERAGE_OFTEN ? 1 : 2];
}

/** The decisive term of a lexical-miss failure (its rarest query word in the positive); null for other labels. */
export function decisiveTerm(f: FailureRecord): string | null {
  if (f.label !== 'lexical-miss') return null;
  return f.evidence?.matchingTerms[0]?.term ?? null;
}

/** Training pairs whose query or positive contains each term (one pass over `examples`). */
export async function countTrainingPairs(examples: AsyncIterable<Example>, terms: ReadonlySet<string>): Promise<Map<string, number>> {
  const counts = new Map<string, number>([...terms].map((t) => [t, 0]));
  if (terms.size === 0) return counts;
  for await (const ex of examples) {
    const seen = new Set<string>();
    for (const w of words(ex.query)) if (terms.has(w)) seen.add(w);
    for (const w of words(ex.positive.text)) if (terms.has(w)) seen.add(w);
    for (const w of seen) counts.set(w, counts.get(w)! + 1);
  }
  return counts;
}

/**
 * Adds the coverage of each lexical-miss failure's decisive term: evidence.termCoverage, the reason's tail
 * ("; the decisive term "x" is in 3 training pairs: term seen 1–9 times in training") and the summary's
 * byCoverage counts. Records are changed in place.
 */
export function addTermCoverage(failures: FailureRecord[], counts: ReadonlyMap<string, number>, summary: FailureSummary): void {
  const by: Record<string, number> = {};
  for (const f of failures) {
    const term = decisiveTerm(f);
    if (term === null || !f.evidence) continue;
    const n = counts.get(term);
    if (n === undefined) continue;
    f.evidence.termCoverage = { term, trainingPairs: n };
    const group = coverageGroup(n);
    f.labelReason += `; the decisive term "${term}" is in ${n} training pair${n === 1 ? '' : 's'}: ${group}`;
    by[group] = (by[group] ?? 0) + 1;
  }
  summary.byCoverage = by;
}

/** The coverage group of a stored failure (null: not a lexical-miss, or no coverage recorded). */
export function failureCoverageGroup(f: FailureRecord): string | null {
  const c = f.evidence?.termCoverage;
  return f.label === 'lexical-miss' && c ? coverageGroup(c.trainingPairs) : null;
}
