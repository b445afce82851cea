/**
 * How exact a count of training examples is, and how the messages say it. Streamed training data is
 * counted before its first epoch by the line indexes of its files: their data lines are exact (non-blank
 * lines of plain and gzip files, minus TSV headers), the pairs are not yet — bad lines are counted when the
 * first epoch is read, and a BGE line (or a data.fields list of positives) gives one pair per positive.
 *   exact     the pairs were read (in-memory data, data that fits the shuffle buffer, a read epoch)
 *   at most   one pair per line: the data lines minus the bad lines still to be counted
 *   estimate  a line may hold several pairs: the data lines, a lower estimate until the epoch is read
 */
import type { LoadReport } from './types';

export type ExampleCountKind = 'exact' | 'at most' | 'estimate';

/** How exact `report.examples` is. */
export function exampleCountKind(report: Pick<LoadReport, 'estimated' | 'onePairPerLine'>): ExampleCountKind {
  if (!report.estimated) return 'exact';
  return report.onePairPerLine ? 'at most' : 'estimate';
}

/** The count of training examples at the start of a run, in the run log: "25110 training examples", "at most 1000000 …", "~300 …". */
export function describeExampleCount(report: Pick<LoadReport, 'estimated' | 'onePairPerLine' | 'examples' | 'dataLines'>): string {
  const kind = exampleCountKind(report);
  if (kind === 'exact') return `${report.examples} training examples`;
  const lines = report.dataLines ?? report.examples;
  return kind === 'at most'
    ? `at most ${lines} training examples (${lines} data lines by the line index, one pair each; bad lines are counted when the first epoch is read)`
    : `~${lines} training examples (estimate: ${lines} data lines by the line index, and a line may hold several pairs; counted when the first epoch is read)`;
}

/** The counts of a trainer's 'started' message for people (CLI, extension log): "25,110 examples (0 bad lines)", "≤ 1,000,000 examples (…)". */
export function describeStartedCounts(m: {
  examples: number;
  badLines: number;
  count?: ExampleCountKind;
  dataLines?: number;
  hardNegatives?: { mined: number; queries: number; ms: number; fromCache: boolean };
}): string {
  const n = (x: number) => x.toLocaleString('en-US');
  const lines = m.dataLines ?? m.examples;
  const h = m.hardNegatives;
  const mined = h
    ? ` · ${n(h.mined)} hard negatives for ${n(h.queries)} queries (${h.fromCache ? 'cached; mined' : 'mined'} in ${(h.ms / 1000).toFixed(1)} s)`
    : '';
  if (m.count === 'at most') return `≤ ${n(lines)} examples (${n(lines)} data lines; bad lines counted when epoch 1 is read)${mined}`;
  if (m.count === 'estimate') return `≈ ${n(lines)} examples (estimate from ${n(lines)} data lines; counted when epoch 1 is read)${mined}`;
  return `${n(m.examples)} examples (${n(m.badLines)} bad lines)${mined}`;
}
