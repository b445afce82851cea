/**
 * Evaluation metrics over steps, one metric at a time (chosen with the panel's selector; recall@10 by
 * default): exact search, IVF-PQ (`ann/…`) and BM25 (`bm25/…`) as three lines told apart by colour, dash and
 * legend — exact solid blue with point markers, IVF-PQ dotted orange with markers, BM25 long-dashed green
 * without markers (on a live held-out evaluation it is the same sample's BM25, computed once: a flat
 * reference line) — and, when a full evaluation has it, the hybrid (RRF) column dash-dotted purple.
 * Evaluations are few: no decimation. On the wall-time axis each evaluation is drawn at its own time (the eval
 * event's), so the chart lines up with the step charts.
 */
import type { ChartDataset, ChartOptions } from 'chart.js';
import type { EvalPoint } from '../protocol';
import type { ColorResolver, Palette, PaletteColor } from '../../shared/theme';
import { baseLineOptions } from '../../shared/chartSetup';
import { ThemedChart } from '../../shared/themedChart';
import { formatElapsed } from '../data/xAxis';

interface Point {
  x: number;
  y: number;
}

/** The searches of an eval event's metrics: prefix, legend label, colour, dash and point marker radius. */
export const EVAL_SEARCHES = [
  { prefix: '', label: 'exact', color: 'blue' as PaletteColor, dash: [] as number[], radius: 3 },
  { prefix: 'ann/', label: 'IVF-PQ', color: 'orange' as PaletteColor, dash: [2, 3], radius: 3 },
  { prefix: 'bm25/', label: 'BM25', color: 'green' as PaletteColor, dash: [8, 4], radius: 0 },
  { prefix: 'hybrid/', label: 'hybrid (RRF)', color: 'purple' as PaletteColor, dash: [10, 3, 2, 3], radius: 2 },
] as const;
const METRIC = /^(?:(ann|bm25|hybrid)\/)?(recall@(\d+)|mrr@10|ndcg@10)$/;

/** The metric shown when the user chose none (or the chosen one is absent). */
export const DEFAULT_EVAL_METRIC = 'recall@10';

function metricOrder(metric: string): number {
  if (metric.startsWith('recall@')) return Number(metric.slice(7));
  return metric === 'mrr@10' ? 1e6 : 1e6 + 1;
}

/** The metrics (without search prefix) of the evaluations received, recall@k in k order, then MRR@10, nDCG@10. */
export function evalMetricNames(points: readonly EvalPoint[]): string[] {
  const names = new Set<string>();
  for (const p of points) for (const [k, v] of Object.entries(p.metrics)) if (typeof v === 'number' && METRIC.test(k)) names.add(METRIC.exec(k)![2]);
  return [...names].sort((a, b) => metricOrder(a) - metricOrder(b));
}

/** The metric to show: the chosen one when present, else recall@10, else the first. */
export function shownMetric(points: readonly EvalPoint[], chosen: string | null): string | null {
  const names = evalMetricNames(points);
  if (chosen !== null && names.includes(chosen)) return chosen;
  return names.includes(DEFAULT_EVAL_METRIC) ? DEFAULT_EVAL_METRIC : (names[0] ?? null);
}

export class EvalChart extends ThemedChart<'line', Point[]> {
  /** Index into EVAL_SEARCHES of each dataset. */
  private searches: number[] = [];

  constructor(canvas: HTMLCanvasElement, palette: Palette, colors: ColorResolver) {
    super(palette, colors);
    this.mount(canvas, 'line', { datasets: [] });
  }

  /** Whether x is wall time (seconds since the run's first logged step). */
  private wallTime = false;

  /** Shows `metric` of the evaluations (sorted by step): one line per search that has it; `toX`: their x (null: step). */
  setPoints(points: readonly EvalPoint[], metric: string | null, toX: ((p: EvalPoint) => number) | null = null): void {
    if ((toX !== null) !== this.wallTime) {
      this.wallTime = toX !== null;
      this.chart.options = this.options(this.palette);
    }
    this.searches = [];
    this.chart.data.datasets = [];
    if (metric === null) return;
    EVAL_SEARCHES.forEach((s, i) => {
      const key = `${s.prefix}${metric}`;
      const data = points.flatMap((p) => (typeof p.metrics[key] === 'number' ? [{ x: toX ? toX(p) : p.step, y: p.metrics[key] as number }] : []));
      if (data.length === 0) return;
      this.searches.push(i);
      this.chart.data.datasets.push({ label: `${s.label} ${metric}`, data });
    });
    this.style(this.palette);
  }

  /** Total points charted. */
  pointCount(): number {
    return this.chart.data.datasets.reduce((n, d) => n + d.data.length, 0);
  }

  /** The legend labels of the lines drawn, with their dash and colour (for tests and the debug hook). */
  lines(): { label: string; dash: number[]; color: string; points: number; xs: number[] }[] {
    return this.chart.data.datasets.map((d) => ({
      label: d.label ?? '',
      dash: [...((d.borderDash as number[]) ?? [])],
      color: String(d.borderColor),
      points: d.data.length,
      xs: d.data.map((p) => p.x),
    }));
  }

  refresh(xRange: { min: number; max: number } | null): void {
    this.setXRange(xRange);
    this.chart.update('none');
  }

  protected style(p: Palette): void {
    this.chart.data.datasets.forEach((ds: ChartDataset<'line', Point[]>, k) => {
      const s = EVAL_SEARCHES[this.searches[k]];
      const c = p[s.color];
      ds.borderDash = [...s.dash];
      ds.borderColor = c;
      ds.backgroundColor = c;
      ds.pointRadius = s.radius;
      ds.pointHoverRadius = 4;
      ds.pointBorderWidth = 0;
    });
  }

  protected options(p: Palette): ChartOptions<'line'> {
    const o = baseLineOptions(p);
    (o.scales!.y as { suggestedMin?: number; suggestedMax?: number }).suggestedMin = 0;
    (o.scales!.y as { suggestedMin?: number; suggestedMax?: number }).suggestedMax = 1;
    // Legend boxes as short lines in each search's dash (Chart.js draws a box with the dataset's border dash).
    o.plugins!.legend!.labels = { ...o.plugins!.legend!.labels, boxWidth: 24, boxHeight: 0 };
    o.interaction = { mode: 'nearest', axis: 'x', intersect: false };
    if (this.wallTime) {
      const x = o.scales!.x as { title?: unknown; ticks: { callback?: unknown } };
      x.title = { display: true, text: 'wall time', color: p.muted, font: { size: p.fontSize, family: p.fontFamily }, padding: 0 };
      x.ticks.callback = (v: number | string) => formatElapsed(Number(v));
      o.plugins!.tooltip!.callbacks!.title = (items) => (items.length ? `${formatElapsed(items[0].parsed.x ?? 0)} wall time` : '');
    }
    return o;
  }
}
