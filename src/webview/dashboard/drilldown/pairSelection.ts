/**
 * The drill-down's data side (no DOM): the step samples of the logged steps (src/core/metrics/stepSamples.ts; step
 * events themselves are not kept by the dashboard, so the samples are kept here, the newest MAX_STEPS steps), and
 * which of a step's sampled pairs a chart click selects: a histogram bin (δ/τ in [lo, hi)), a band of the
 * distribution-over-steps chart (δ/τ between two of the step's percentiles), or a point of the R / violation-rate
 * chart (every sampled pair, violations first).
 */
import { textWords, type StepSampleRow, type StepSamples, type SuspectedFalseNegatives } from '../../../core/metrics/stepSamples';
import type { StepEvent } from '../protocol';
import { hyperOf } from '../data/seriesCatalog';

/** Logged steps whose samples are kept (≤ 4 KB each). */
export const MAX_STEPS = 2000;

/** One step's sample, with the step's δ/τ percentiles (for band clicks). */
export interface SampledStep {
  step: number;
  samples: StepSamples;
  suspected: SuspectedFalseNegatives | null;
  hyperKind: 'delta' | 'tau' | null;
  percentiles: { p05: number; p25: number; p50: number; p75: number; p95: number } | null;
  /** The step's δ/τ histogram range and bins (for bin clicks). */
  hist: { lo: number; hi: number; bins: number } | null;
}

/** What a click selected: a step, a title, and the rows (with the files they refer to). */
export interface PairSelection {
  step: number;
  title: string;
  files: string[];
  rows: StepSampleRow[];
  /** Sampled pairs at the step outside the selection (shown as "other sampled pairs" when the selection is empty). */
  others: StepSampleRow[];
}

const num = (x: number | null | undefined) => (typeof x === 'number' ? x : NaN);

export class SampleStore {
  private readonly steps: SampledStep[] = [];

  clear(): void {
    this.steps.length = 0;
  }

  /** Keeps the samples of the given step events (in step order; a step not above the last one kept is skipped). */
  append(events: readonly StepEvent[]): void {
    for (const e of events) {
      if (!e.samples) continue;
      const last = this.steps[this.steps.length - 1];
      if (last && e.step <= last.step) continue;
      const h = hyperOf(e);
      const d = h?.dist;
      this.steps.push({
        step: e.step,
        samples: e.samples,
        suspected: e.suspectedFalseNegatives ?? null,
        hyperKind: h?.kind ?? null,
        percentiles: d ? { p05: num(d.p05), p25: num(d.p25), p50: num(d.p50), p75: num(d.p75), p95: num(d.p95) } : null,
        hist: d ? { lo: d.hist.lo, hi: d.hist.hi, bins: d.hist.counts.length } : null,
      });
    }
    if (this.steps.length > MAX_STEPS) this.steps.splice(0, this.steps.length - MAX_STEPS);
  }

  get length(): number {
    return this.steps.length;
  }

  get latest(): SampledStep | null {
    return this.steps[this.steps.length - 1] ?? null;
  }

  /** The kept step nearest to `step` (ties: the later one); null when none is kept. */
  nearest(step: number): SampledStep | null {
    let best: SampledStep | null = null;
    for (const s of this.steps) if (best === null || Math.abs(s.step - step) <= Math.abs(best.step - step)) best = s;
    return best;
  }
}

/** The symbol of a step's hyper-parameter. */
const symbolOf = (s: SampledStep) => (s.hyperKind === 'delta' ? 'δ' : 'τ');

function split(s: SampledStep, title: string, keep: (r: StepSampleRow) => boolean): PairSelection {
  const rows = s.samples.rows.filter(keep);
  return { step: s.step, title, files: s.samples.files, rows, others: s.samples.rows.filter((r) => !keep(r)) };
}

const fmt = (x: number) => (Number.isFinite(x) ? (Math.abs(x) >= 0.01 ? x.toFixed(3) : x.toPrecision(2)) : '–');

/** The histogram bin of δ/τ value `x` at step `s` (clamped to the bins), as a selection. */
export function binAt(s: SampledStep, x: number): PairSelection {
  if (!s.hist) return split(s, `pairs at step ${s.step}`, () => true);
  const { lo, hi, bins } = s.hist;
  const w = (hi - lo) / bins;
  const k = Math.min(bins - 1, Math.max(0, Math.floor((x - lo) / w)));
  return binSelection(s, lo + k * w, lo + (k + 1) * w, k === bins - 1);
}

/** A histogram bin [lo, hi) of δ/τ at step `s` (the last bin includes hi). */
export function binSelection(s: SampledStep, lo: number, hi: number, last: boolean): PairSelection {
  return split(
    s,
    `${symbolOf(s)} ∈ [${fmt(lo)}, ${fmt(hi)}${last ? ']' : ')'} at step ${s.step}`,
    (r) => r.hyper !== null && r.hyper >= lo && (r.hyper < hi || (last && r.hyper <= hi)),
  );
}

/** The band of the distribution-over-steps chart that value `y` falls in at step `s`. */
export function bandSelection(s: SampledStep, y: number): PairSelection {
  const p = s.percentiles;
  if (!p) return split(s, `pairs at step ${s.step}`, () => true);
  const edges: [string, number, number][] = [
    ['below p05', -Infinity, p.p05],
    ['p05–p25', p.p05, p.p25],
    ['p25–p75', p.p25, p.p75],
    ['p75–p95', p.p75, p.p95],
    ['above p95', p.p95, Infinity],
  ];
  const [name, lo, hi] = edges.find(([, a, b]) => y >= a && y < b) ?? edges[edges.length - 1];
  return split(s, `${symbolOf(s)} ${name} at step ${s.step}`, (r) => r.hyper !== null && r.hyper >= lo && r.hyper < hi);
}

/** A point of the R / violation-rate chart: every sampled pair at step `s`, violations first. */
export function stepSelection(s: SampledStep): PairSelection {
  const v = (r: StepSampleRow) => (r.why.includes('violation') ? 0 : 1);
  const rows = [...s.samples.rows].sort((a, b) => v(a) - v(b));
  return { step: s.step, title: `sampled pairs at step ${s.step} (violations first)`, files: s.samples.files, rows, others: [] };
}

/** The suspected false negatives sampled at step `s`. */
export function falseNegativeSelection(s: SampledStep): PairSelection {
  const share = s.suspected ? ` (${s.suspected.count}, ${(100 * s.suspected.share).toFixed(1)}% of the negatives)` : '';
  return split(s, `suspected false negatives at step ${s.step}${share}`, (r) => r.fn !== undefined);
}

/** Lower-cased words of a text (letters and digits, as the towers split it). */
export const wordsOf = (text: string): Set<string> => new Set(textWords(text));

/** `text` cut into runs, each marked when its word is in `shared`. */
export function highlightRuns(text: string, shared: ReadonlySet<string>): { text: string; shared: boolean }[] {
  const out: { text: string; shared: boolean }[] = [];
  let last = 0;
  for (const m of text.matchAll(/[\p{L}\p{N}]+/gu)) {
    const at = m.index ?? 0;
    if (at > last) out.push({ text: text.slice(last, at), shared: false });
    out.push({ text: m[0], shared: shared.has(m[0].normalize('NFKC').toLowerCase()) });
    last = at + m[0].length;
  }
  if (last < text.length) out.push({ text: text.slice(last), shared: false });
  return out;
}
