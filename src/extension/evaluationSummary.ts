/**
 * One line about a finished evaluation for the toast, every number with the search it comes from:
 * "exact: recall@10 0.307, 812 failing queries · IVF-PQ, nprobe 16: recall@10 0.236, 1100 failing queries · BM25: recall@10 0.612".
 * Pure, unit-tested without VS Code.
 */
import type { EvalEntry, MetricValues } from '../core/eval/types';

export function evaluationSummary(e: EvalEntry): string {
  const r = (m: MetricValues | null | undefined) => (m?.['recall@10'] === undefined ? '–' : m['recall@10'].toFixed(3));
  const parts = [`${e.failures.search ?? 'exact'}: recall@10 ${r(e.exact)}, ${e.failures.count} failing queries`];
  if (e.ann && e.annFailures) parts.push(`${e.annFailures.search ?? 'IVF-PQ'}: recall@10 ${r(e.ann)}, ${e.annFailures.count} failing queries`);
  if (e.bm25) parts.push(`BM25: recall@10 ${r(e.bm25)}`);
  return parts.join(' · ');
}
