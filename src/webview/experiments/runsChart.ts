/**
 * A step chart of several runs: one colour per run (runColors.ts), on the shared chart setup (Chart.js
 * registration, line options, axis theme, threshold style) and the dashboard's min/max decimation (runs
 * longer than ~500 logged steps are drawn from ≤ ~1k points per line, extremes and gaps kept).
 */
import type { ChartDataset, ChartOptions } from 'chart.js';
import type { AnnotationOptions } from 'chartjs-plugin-annotation';
import { axisTheme, baseLineOptions, formatTick, labelledLine, lineWidth, listedLegend } from '../shared/chartSetup';
import { decimatedPoints, exactPoints, type ChartPoint } from '../shared/decimatedSeries';
import type { ColorResolver, Palette, PaletteColor } from '../shared/theme';
import type { RunSeriesView } from './protocol';
import { runStyle } from './runColors';
import { ThemedChart } from '../shared/themedChart';

/** One line per run: how to read it from a run's series, its legend suffix and opacity. */
export interface RunLine {
  /** x and y of the line (y null: a gap). */
  read: (s: RunSeriesView) => { x: readonly number[]; y: readonly (number | null)[] };
  suffix?: string;
  alpha?: number;
  /** Listed in the legend (default true). */
  legend?: boolean;
  /** Point markers (few points, e.g. evaluations). */
  points?: boolean;
  /** A dash pattern of its own (default: the run's). */
  dash?: number[];
}

export interface RunsChartSpec {
  lines: RunLine[];
  axis?: { min?: number; max?: number; suggestedMin?: number; suggestedMax?: number };
  /** Horizontal lines, labelled "<label> <value>" at the chart's start or end (default end). */
  thresholds?: { value: number; label: string; color: PaletteColor; at?: 'start' | 'end' }[];
}

/** What the chart draws, as plain data (for the debug hook). */
export interface ChartedLine {
  label: string;
  run: number;
  color: string;
  points: ChartPoint[];
}

type LineDataset = ChartDataset<'line', ChartPoint[]> & { runIndex: number; lineIndex: number };

export class RunsChart extends ThemedChart<'line', ChartPoint[]> {
  constructor(
    canvas: HTMLCanvasElement,
    private readonly spec: RunsChartSpec,
    palette: Palette,
    colors: ColorResolver,
  ) {
    super(palette, colors);
    this.mount(canvas, 'line', { datasets: [] });
  }

  /** Draws the runs (labels[i] names run i in the legend). */
  setRuns(series: readonly RunSeriesView[], labels: readonly string[], xRange: { min: number; max: number } | null): void {
    const datasets: LineDataset[] = [];
    series.forEach((s, r) =>
      this.spec.lines.forEach((l, k) => {
        const { x, y } = l.read(s);
        datasets.push({
          label: `${labels[r]}${l.suffix ? ` ${l.suffix}` : ''}`,
          data: l.points ? exactPoints(x, y) : decimatedPoints(x, y),
          runIndex: r,
          lineIndex: k,
        });
      }),
    );
    this.chart.data.datasets = datasets;
    this.setXRange(xRange);
    this.style(this.palette);
    this.chart.update('none');
  }

  /** The horizontal threshold lines (y values) drawn. */
  thresholds(): number[] {
    return (this.spec.thresholds ?? []).map((t) => t.value);
  }

  /** The lines drawn, as plain data. */
  charted(): ChartedLine[] {
    return (this.chart.data.datasets as LineDataset[]).map((d) => ({
      label: d.label ?? '',
      run: d.runIndex,
      color: String(d.borderColor),
      points: d.data.map((p) => ({ x: p.x, y: p.y })),
    }));
  }

  protected override style(p: Palette): void {
    for (const ds of this.chart.data.datasets as LineDataset[]) {
      const l = this.spec.lines[ds.lineIndex];
      const st = runStyle(p, ds.runIndex);
      const alpha = l.alpha ?? 1;
      ds.borderColor = alpha === 1 ? st.color : this.colors.withAlpha(st.color, alpha);
      ds.backgroundColor = ds.borderColor;
      ds.borderWidth = lineWidth(p);
      ds.borderDash = l.dash ?? st.dash;
      ds.fill = false;
      ds.pointRadius = l.points ? 3 : 0;
      ds.pointHoverRadius = l.points ? 4 : 3;
      ds.pointBorderWidth = 0;
      // Point markers at the first or last step stay whole.
      ds.clip = l.points ? false : undefined;
    }
  }

  protected override options(p: Palette): ChartOptions<'line'> {
    const o = baseLineOptions(p);
    const a = this.spec.axis ?? {};
    o.scales!.y = { type: 'linear', ...axisTheme(p), min: a.min, max: a.max, suggestedMin: a.suggestedMin, suggestedMax: a.suggestedMax } as never;
    const lines = this.spec.lines;
    o.plugins!.legend = listedLegend(o.plugins!.legend!, (k, datasets) => lines[(datasets[k] as LineDataset).lineIndex].legend !== false);
    const annotations: Record<string, AnnotationOptions> = {};
    (this.spec.thresholds ?? []).forEach((t, k) => {
      const text = `${t.label} ${formatTick(t.value)}`;
      annotations[`threshold${k}`] = { ...labelledLine(p, this.colors, { color: t.color, text, position: t.at ?? 'end' }), scaleID: 'y', value: t.value };
    });
    o.plugins!.annotation = { annotations };
    return o;
  }
}
