/**
 * Evaluation recall@k over steps: one line with point markers per recall@k metric found in the
 * evaluations received (few points, no decimation).
 */
import { Chart, type ChartDataset, type ChartOptions } from 'chart.js';
import type { EvalPoint } from '../protocol';
import type { Palette } from '../theme';
import { baseLineOptions } from './chartSetup';
import type { PaletteColor } from './seriesChart';

interface Point {
  x: number;
  y: number;
}

const COLORS: PaletteColor[] = ['blue', 'green', 'orange', 'purple', 'red', 'yellow'];

/** recall@k metric names in k order. */
export function recallMetricNames(points: readonly EvalPoint[]): string[] {
  const names = new Set<string>();
  for (const p of points) for (const [k, v] of Object.entries(p.metrics)) if (/^recall@\d+$/.test(k) && typeof v === 'number') names.add(k);
  return [...names].sort((a, b) => Number(a.slice(7)) - Number(b.slice(7)));
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
    this.names = recallMetricNames(points);
    this.chart.data.datasets = this.names.map((name) => ({
      label: name,
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

  private style(p: Palette): void {
    this.chart.data.datasets.forEach((ds: ChartDataset<'line', Point[]>, k) => {
      const c = p[COLORS[k % COLORS.length]];
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
