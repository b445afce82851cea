/**
 * The ANN gap as a lever: IVF-PQ recall@10 against nprobe (the inverted lists visited per query), beside the
 * exact search's, with the search time per query, and the smallest nprobe whose gap to exact stays within a
 * bound:
 *   gap(nprobe) = recall@10(exact) − recall@10(IVF-PQ at nprobe),   suggested = min { nprobe : gap ≤ bound }
 *   plateau = min { nprobe : recall@10(nlist) − recall@10(nprobe) ≤ bound }   (more lists buy no recall)
 * nprobe runs over NPROBE_STEPS up to nlist (nprobe = nlist visits every list: only PQ's quantisation error
 * is left, so a gap above the bound there is the codes' (m, nbits), not nprobe's). The index's nprobe is
 * restored to the configured value afterwards. Times are wall-clock of one faiss search of all queries: noisy
 * on a shared machine, comparable within one curve.
 */
import { evaluateRetrieval } from './retrievalMetrics';
import { resultToRankings, search, setNprobe, type VectorIndex } from '../vectorIndex';
import type { NprobeCurve } from './types';

/** The nprobe values measured (those ≤ nlist). */
export const NPROBE_STEPS = [1, 2, 4, 8, 16, 32, 64, 128] as const;
/** Default bound on the gap to exact recall@10: 1 point. */
export const NPROBE_GAP_BOUND = 0.01;

export interface NprobeCurveInput {
  index: VectorIndex;
  queryEmb: Float32Array;
  queryIds: readonly string[];
  itemIds: readonly string[];
  qrels: Map<string, Set<string>>;
  /** Exact recall@10 of the same queries. */
  exactRecall: number;
  bound?: number;
}

/** Measures the curve (IVF-PQ indexes only; the index is left at its configured nprobe). */
export function nprobeCurve(x: NprobeCurveInput): NprobeCurve {
  const spec = x.index.spec;
  if (spec.type !== 'IVF-PQ') throw new Error('nprobeCurve: an IVF-PQ index is needed');
  const configured = spec.nprobe;
  const bound = x.bound ?? NPROBE_GAP_BOUND;
  const nq = x.queryIds.length;
  const steps = [...new Set([...NPROBE_STEPS.filter((p) => p < spec.nlist), spec.nlist])];
  const points: NprobeCurve['points'] = [];
  try {
    for (const p of steps) {
      setNprobe(x.index, p);
      const t0 = performance.now();
      const r = search(x.index, x.queryEmb, nq, 10);
      const ms = performance.now() - t0;
      const recall = evaluateRetrieval(x.qrels, resultToRankings(r, x.queryIds, x.itemIds)).recall[10];
      points.push({ nprobe: p, recall, gap: x.exactRecall - recall, msPerQuery: nq > 0 ? ms / nq : 0 });
    }
  } finally {
    setNprobe(x.index, configured);
  }
  const ok = points.find((pt) => pt.gap <= bound);
  const full = points[points.length - 1].recall;
  const plateau = points.find((pt) => full - pt.recall <= bound)!.nprobe;
  return { k: 10, bound, exact: x.exactRecall, points, suggested: ok ? ok.nprobe : null, plateau, configured };
}

/** The curve as lines for the CLI: one per nprobe, then the suggestion. */
export function formatNprobeCurve(c: NprobeCurve): string[] {
  const lines = [`IVF-PQ recall@${c.k} against nprobe (exact ${(100 * c.exact).toFixed(1)}):`];
  for (const p of c.points) {
    lines.push(
      `  nprobe ${String(p.nprobe).padStart(4)}  recall@${c.k} ${(100 * p.recall).toFixed(1).padStart(5)}  gap ${(100 * p.gap).toFixed(1).padStart(5)}  ${p.msPerQuery.toFixed(3)} ms/query${p.nprobe === c.configured ? '  (configured)' : ''}`,
    );
  }
  lines.push(nprobeAdvice(c));
  return lines;
}

/** The suggestion in words: the smallest nprobe within the bound, compared with the configured one. */
export function nprobeAdvice(c: NprobeCurve): string {
  const bound = `${(100 * c.bound).toFixed(1)} point${c.bound === 0.01 ? '' : 's'}`;
  if (c.suggested === null) {
    const last = c.points[c.points.length - 1];
    return (
      `no nprobe keeps the gap within ${bound} (at nprobe ${last.nprobe}, every list, the gap is ${(100 * last.gap).toFixed(1)}): the PQ codes lose it — raise evaluation.index.m or nbits; ` +
      `nprobe ${c.plateau} is within ${bound} of visiting every list (configured ${c.configured})`
    );
  }
  if (c.suggested === c.configured) return `evaluation.index.nprobe ${c.configured} is the smallest that keeps the gap within ${bound}`;
  return `suggested evaluation.index.nprobe: ${c.suggested} (the smallest that keeps the gap within ${bound}; configured ${c.configured})`;
}
