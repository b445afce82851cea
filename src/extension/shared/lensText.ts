/**
 * Texts of the config CodeLenses and the status bar item: the live δ/τ/collapse summary above
 * `loss`, the data-path counts, and the run status line. Pure, unit-tested without VS Code.
 */
import { formatBytes } from '../../core/bytes';
import type { DistributionSummary } from '../../core/metrics/types';
import type { StepEvent } from '../../core/runs/eventSchema';

/**
 * A number for a lens: two decimals from 0.1 up (0.11, 1.80), two significant digits below
 * (0.034, 0.0061) so small temperatures stay readable; "–" for null / non-finite.
 */
export function formatStat(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '–';
  if (x === 0) return '0';
  const a = Math.abs(x);
  if (a >= 0.1) return x.toFixed(2);
  return x.toPrecision(2);
}

/** Decimals that show `x` like {@link formatStat} does: 2 from 0.1 up, else two significant digits. */
export function decimalsFor(x: number | null | undefined): number {
  if (x === null || x === undefined || !Number.isFinite(x) || x === 0) return 2;
  const a = Math.abs(x);
  return a >= 0.1 ? 2 : Math.min(10, 1 - Math.floor(Math.log10(a)));
}

/** `x` with a fixed number of decimals; "–" for null / non-finite. */
function fixed(x: number | null | undefined, decimals: number): string {
  return x === null || x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(decimals);
}

/**
 * "δ p50 0.11 [p05 0.06 – p95 0.19]": the three percentiles with the decimals the median needs, so
 * they line up (τ ≈ 1/30 reads "τ p50 0.049 [p05 0.038 – p95 0.059]"); null when absent or empty.
 */
export function formatDistribution(symbol: string, d: DistributionSummary | null | undefined): string | null {
  if (!d) return null;
  if (d.count === null) return `${symbol} n/a (count not finite)`;
  if (!(d.count > 0)) return null;
  const k = decimalsFor(d.p50);
  return `${symbol} p50 ${fixed(d.p50, k)} [p05 ${fixed(d.p05, k)} – p95 ${fixed(d.p95, k)}]`;
}

/**
 * A measured number for a tooltip: as {@link formatStat}, but a null (a value that was not finite,
 * written as null in events.jsonl) reads "n/a (not finite)" rather than a bare dash.
 */
export function formatMeasured(x: number | null | undefined): string {
  return x === null || (x !== undefined && !Number.isFinite(x)) ? 'n/a (not finite)' : formatStat(x);
}

/**
 * "R 1.84": R = (1 − mean s(v,v⁻)) / (1 − mean s(q,v)) with two decimals (R = 1 is the boundary);
 * "R n/a" only in the degenerate case where it is undefined (1 − mean s(q,v) ≈ 0, no negatives).
 */
export function formatRatio(r: number | null | undefined): string {
  return r === null || r === undefined || !Number.isFinite(r) ? 'R n/a' : `R ${r.toFixed(2)}`;
}

/** "collapse: healthy (R 1.84)". */
export function formatCollapse(e: StepEvent): string {
  return `collapse: ${e.verdict.state} (${formatRatio(e.diagnostics.collapse.ratio)})`;
}

/** Where the values of the loss lens come from. */
export type LossLensSource =
  /** `stalled`: the run's statusLabel when its heartbeat is stale ("stalled (no heartbeat for 62 s)"). */
  { kind: 'live'; totalSteps: number | null; stalled?: string } | { kind: 'last-run'; status: string };

/**
 * The lens above `loss`: "δ p50 0.11 [p05 0.06 – p95 0.19] · τ p50 … · collapse: healthy (R 1.8)",
 * followed by where it comes from: "· step 120/300" for a live run ("· step 120/300 (stalled (no heartbeat for 62 s))"
 * when it stopped writing its heartbeat), "· last run, step 300 (completed)" otherwise.
 */
export function formatLossLens(e: StepEvent, source: LossLensSource): string {
  const parts = [formatDistribution('δ', e.diagnostics.dist.delta), formatDistribution('τ', e.diagnostics.dist.tau), formatCollapse(e)];
  const tail =
    source.kind === 'live'
      ? `step ${e.step}${source.totalSteps ? `/${source.totalSteps}` : ''}${source.stalled ? ` (${source.stalled})` : ''}`
      : `last run, step ${e.step} (${source.status})`;
  return [...parts.filter((p): p is string => p !== null), tail].join(' · ');
}

/** Tooltip of the loss lens: the verdict's reason and the loss. */
export function formatLossLensTooltip(e: StepEvent): string {
  const c = e.diagnostics.collapse;
  const r = c.ratio === null && c.ratioNote ? `R n/a (${c.ratioNote})` : formatRatio(c.ratio);
  return (
    `${e.verdict.state}: ${e.verdict.reason}\nloss ${formatMeasured(e.loss)} · in-batch recall@10 ${formatMeasured(e.diagnostics.recall.at10)}\n` +
    `${r} · gap ${formatMeasured(c.gap)} · violation rate ${formatMeasured(c.violationRate)}`
  );
}

/** Integer with thousands separators, locale-independent ("25,110"). */
export function formatCount(n: number): string {
  return String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** What is known about one data path of a config. */
export type DataLensState =
  | { kind: 'loading' }
  /** `files`: a glob's matched files, counted together. */
  | { kind: 'loaded'; examples: number; badLines: number; what: 'examples' | 'items'; from: 'run' | 'load'; shape?: string; files?: number }
  | { kind: 'error'; message: string }
  /**
   * A file too large to parse in the editor's process, counted by its line index (the one training
   * uses): its data lines; bad lines are counted when training reads it.
   */
  | { kind: 'indexed'; lines: number; bytes: number; what: 'examples' | 'items'; files?: number }
  /** Not counted in the background (e.g. too large for the editor's process); says where counts will come from. */
  | { kind: 'note'; message: string };

/**
 * The lens above a data path: "25,110 examples · 0 bad lines" (or "loading…", or the error); a record shape
 * other than plain query/positive pairs is named at the end ("… · FlagEmbedding/BGE query+pos+neg"), and a
 * glob's lens starts with its number of files ("3 files · 25,110 examples · 0 bad lines").
 */
export function formatDataLens(s: DataLensState): string {
  if (s.kind === 'loading') return '$(loading~spin) counting examples…';
  if (s.kind === 'error') return `$(error) ${s.message}`;
  if (s.kind === 'note') return `$(info) ${s.message}`;
  const files = s.files === undefined ? '' : `${formatCount(s.files)} file${s.files === 1 ? '' : 's'} · `;
  if (s.kind === 'indexed')
    return `${files}≈${formatCount(s.lines)} ${s.what} (data lines of ${formatBytes(s.bytes)}) · bad lines counted when training reads it`;
  const bad = s.badLines === 1 ? '1 bad line' : `${formatCount(s.badLines)} bad lines`;
  return `${files}${formatCount(s.examples)} ${s.what} · ${s.badLines > 0 ? `$(warning) ${bad}` : bad}${s.shape ? ` · ${s.shape}` : ''}`;
}

export { formatBytes };

/** The status bar text of a run: "$(pulse) shop 120/300 · loss 0.41 · healthy". */
export function formatStatusBar(run: { name: string; running: boolean; step: number; totalSteps: number | null }, last: StepEvent | null): string {
  const icon = run.running ? '$(pulse)' : '$(graph-line)';
  const steps = `${run.step}${run.totalSteps ? `/${run.totalSteps}` : ''}`;
  const parts = [`${icon} ${run.name} ${steps}`];
  if (last) parts.push(`loss ${formatStat(last.loss)}`, last.verdict.state);
  return parts.join(' · ');
}
