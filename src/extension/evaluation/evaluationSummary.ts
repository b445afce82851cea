/**
 * One line about a finished evaluation for the toast, every number with the search it comes from:
 * "exact: recall@10 0.307, 812 failing queries · IVF-PQ, nprobe 16: recall@10 0.236, 1100 failing queries · BM25: recall@10 0.612
 * · hybrid (RRF k=60): recall@10 0.655, fixes 301 failing queries"
 * (without the exact search: "IVF-PQ, nprobe 16: recall@10 0.236, 1100 failing queries · exact search skipped (…): ANN gap n/a · …").
 * Pure, unit-tested without VS Code.
 */
import type { EvalEntry, MetricValues } from '../../core/eval/types';

export function evaluationSummary(e: EvalEntry): string {
  const r = (m: MetricValues | null | undefined) => (m?.['recall@10'] === undefined ? '–' : m['recall@10'].toFixed(3));
  // Without the exact search (exactSkipped) the failures summary is the ANN search's.
  const parts = [`${e.failures.search ?? 'exact'}: recall@10 ${r(e.exactSkipped ? e.ann : e.exact)}, ${e.failures.count} failing queries`];
  if (e.exactSkipped) parts.push('exact search skipped (corpus too large or evaluation.exact false): ANN gap n/a');
  if (e.ann && e.annFailures) parts.push(`${e.annFailures.search ?? 'IVF-PQ'}: recall@10 ${r(e.ann)}, ${e.annFailures.count} failing queries`);
  if (e.bm25) parts.push(`BM25: recall@10 ${r(e.bm25)}`);
  if (e.hybrid)
    parts.push(
      `hybrid (RRF k=${e.fusion?.k ?? 60}): recall@10 ${r(e.hybrid)}${e.failures.fixedByHybrid !== undefined ? `, fixes ${e.failures.fixedByHybrid} failing queries` : ''}`,
    );
  return parts.join(' · ');
}
