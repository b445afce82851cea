/**
 * Evaluation metrics over steps: one line with point markers per metric (recall@k, MRR@10, nDCG@10) and
 * search found in the evaluations received (few points, no decimation). A metric keeps its colour across
 * searches; the search is the line style: exact solid, IVF-PQ (`ann/…`) dotted, BM25 (`bm25/…`) dashed.
 */
import { Chart, type ChartDataset, type ChartOptions } from 'chart.js';
import type { EvalPoint } from '../protocol';
import type { Palette, PaletteColor } from '../../shared/theme';
import { baseLineOptions } from '../../shared/chartSetup';

interface Point {
  x: number;
  y: number;
}

const COLORS: PaletteColor[] = ['blue', 'green', 'orange', 'purple', 'red', 'yellow'];

/** The searches of an eval event's metrics: prefix, legend prefix and line dash. */
const SEARCHES = [
  { prefix: '', label: '', dash: [] as number[] },
  { prefix: 'ann/', label: 'IVF-PQ ', dash: [2, 3] },
  { prefix: 'bm25/', label: 'BM25 ', dash: [7, 4] },
];
const METRIC = /^(?:(ann|bm25)\/)?(recall@(\d+)|mrr@10|ndcg@10)$/;

function metricOrder(metric: string): number {
  if (metric.startsWith('recall@')) return Number(metric.slice(7));
  return metric === 'mrr@10' ? 1e6 : 1e6 + 1;
}

/** recall@k metric names (exact search) in k order. */
export function recallMetricNames(points: readonly EvalPoint[]): string[] {
  return chartedMetricNames(points).filter((n) => /^recall@\d+$/.test(n));
}

/** Every charted metric name (exact, then `ann/…`, then `bm25/…`; recall@k in k order, then MRR@10, nDCG@10). */
export function chartedMetricNames(points: readonly EvalPoint[]): string[] {
  const names = new Set<string>();
  for (const p of points) for (const [k, v] of Object.entries(p.metrics)) if (METRIC.test(k) && typeof v === 'number') names.add(k);
  const parts = (n: string) => {
    const m = METRIC.exec(n)!;
    return { search: SEARCHES.findIndex((s) => s.prefix === (m[1] ? `${m[1]}/` : '')), metric: m[2] };
  };
  return [...names].sort((a, b) => {
    const pa = parts(a);
    const pb = parts(b);
    return pa.search - pb.search || metricOrder(pa.metric) - metricOrder(pb.metric);
  });
}

/** Legend label, colour slot and dash of a charted metric name. */
function seriesStyle(name: string, allMetrics: string[]): { label: string; slot: number; dash: number[] } {
  const m = METRIC.exec(name)!;
  const search = SEARCHES.find((s) => s.prefix === (m[1] ? `${m[1]}/` : ''))!;
  return { label: `${search.label}${m[2]}`, slot: Math.max(0, allMetrics.indexOf(m[2])), dash: search.dash };
}

export class EvalChart {
  readonly chart: Chart<'line', Point[]>;
  private palette: Palette;
  private names: string[] = [];

  constructor(canvas: HTMLCanvasElement, palette: Palette) {
    this.palette = palette;
    this.chart = new Chart(canvas, { type: 'line', data: { datasets: [] }, options: this.options(palette) });
  }

  /** Replaces the evaluations shown (sorted by step). */
  setPoints(points: readonly EvalPoint[]): void {
    this.names = chartedMetricNames(points);
    this.chart.data.datasets = this.names.map((name) => ({
      label: seriesStyle(name, this.metrics()).label,
      data: points.flatMap((p) => (typeof p.metrics[name] === 'number' ? [{ x: p.step, y: p.metrics[name] as number }] : [])),
    }));
    this.style(this.palette);
  }

  /** Total points charted. */
  pointCount(): number {
    return this.chart.data.datasets.reduce((n, d) => n + d.data.length, 0);
  }

  refresh(xRange: { min: number; max: number } | null): void {
    // In place in the chart's own options object (not through Chart.js' option resolver proxies).
    const x = (this.chart.config.options as ChartOptions<'line'>).scales!.x!;
    x.min = xRange?.min;
    x.max = xRange && xRange.max > xRange.min ? xRange.max : undefined;
    this.chart.update('none');
  }

  applyTheme(palette: Palette): void {
    this.palette = palette;
    this.chart.options = this.options(palette);
    this.style(palette);
    // A full (non-'none') update: only it refreshes the options Chart.js shares between elements.
    this.chart.update();
  }

  /** The distinct metrics charted (without search prefix), in chart order: they pick the colours. */
  private metrics(): string[] {
    return [...new Set(this.names.map((n) => METRIC.exec(n)![2]))].sort((a, b) => metricOrder(a) - metricOrder(b));
  }

  private style(p: Palette): void {
    const metrics = this.metrics();
    this.chart.data.datasets.forEach((ds: ChartDataset<'line', Point[]>, k) => {
      const st = seriesStyle(this.names[k], metrics);
      const c = p[COLORS[st.slot % COLORS.length]];
      ds.borderDash = st.dash;
      ds.borderColor = c;
      ds.backgroundColor = c;
      ds.pointRadius = 3;
      ds.pointHoverRadius = 4;
      ds.pointBorderWidth = 0;
    });
  }

  private options(p: Palette): ChartOptions<'line'> {
    const o = baseLineOptions(p);
    (o.scales!.y as { suggestedMin?: number; suggestedMax?: number }).suggestedMin = 0;
    (o.scales!.y as { suggestedMin?: number; suggestedMax?: number }).suggestedMax = 1;
    o.plugins!.legend!.labels = { ...o.plugins!.legend!.labels, boxHeight: 8 };
    o.interaction = { mode: 'nearest', axis: 'x', intersect: false };
    return o;
  }
}
