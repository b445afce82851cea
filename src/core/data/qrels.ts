import type { Example } from './types';

/**
 * Relevance judgements of a set of examples: for every query id, the ids of its positive items
 * (several examples with one query id give several relevant items). Map order follows first
 * appearance.
 */
export function collectQrels(examples: Example[]): Map<string, Set<string>> {
  const qrels = new Map<string, Set<string>>();
  for (const example of examples) {
    let relevant = qrels.get(example.queryId);
    if (relevant === undefined) {
      relevant = new Set<string>();
      qrels.set(example.queryId, relevant);
    }
    relevant.add(example.positive.id);
  }
  return qrels;
}
