/**
 * A line chart over steps bound to decimated series of the store: each refresh hands Chart.js a copy
 * of the display points of the series that changed (≤ ~2k points each) and calls update('none').
 * Distribution bands are pairs of edge series filled between; threshold lines are
 * chartjs-plugin-annotation line annotations.
 */
import { Chart, type ChartDataset, type ChartOptions } from 'chart.js';
import annotationPlugin, { type AnnotationOptions } from 'chartjs-plugin-annotation';
import type { ChartPoint } from '../../shared/decimatedSeries';
import type { DisplaySeries } from '../data/displaySeries';
import type { SeriesId } from '../data/seriesCatalog';
import { axisTheme, baseLineOptions, labelledLine, lineWidth, listedLegend } from '../../shared/chartSetup';
import type { ColorResolver, Palette, PaletteColor } from '../../shared/theme';
import { ThemedChart } from '../../shared/themedChart';
export type AxisId = 'y' | 'y1';

export interface LineSpec {
  series: SeriesId;
  label: string;
  color: PaletteColor;
  /** Line opacity (default 1); 0 draws no line (a band edge). */
  alpha?: number;
  dash?: number[];
  /** Fill from this series to `to` (a band), with this opacity. */
  fill?: { to: SeriesId; alpha: number };
  /** Shown in the legend (default true). */
  legend?: boolean;
  axis?: AxisId;
}

export interface AxisSpec {
  id: AxisId;
  position: 'left' | 'right';
  title?: string;
  min?: number;
  max?: number;
  suggestedMin?: number;
  suggestedMax?: number;
}

/** A horizontal threshold line against one y axis (its label is the whole text shown). */
export interface ThresholdSpec {
  axis: AxisId;
  value: number;
  label: string;
  color: PaletteColor;
  /** The line starts at this step (default: the whole chart width). */
  from?: number;
}

/** A threshold line as drawn: its axis, value, label and where it landed (for tests and the debug hook). */
export interface DrawnThreshold {
  axis: string;
  /** Where that axis is drawn ("left" / "right"). */
  axisPosition: string;
  value: number;
  label: string;
  /** Pixel y of the drawn line, and the pixel its value has on its own axis and on the other axis. */
  y: number;
  yOnAxis: number;
  yOnOtherAxis: number | null;
  /** Pixel x where the line starts. */
  x: number;
}

export interface SeriesChartSpec {
  lines: LineSpec[];
  axes: AxisSpec[];
  thresholds?: ThresholdSpec[];
}

type LineDataset = ChartDataset<'line', ChartPoint[]>;

export class SeriesChart extends ThemedChart<'line', ChartPoint[]> {
  private readonly seen: number[];
  /** Legend swatch of each band (a stronger colour than its faint fill). */
  private swatches: (string | undefined)[] = [];
  private thresholds: readonly ThresholdSpec[];
  private thresholdsKey: string;

  constructor(
    canvas: HTMLCanvasElement,
    private readonly spec: SeriesChartSpec,
    private readonly display: DisplaySeries,
    palette: Palette,
    colors: ColorResolver,
  ) {
    super(palette, colors);
    this.thresholds = spec.thresholds ?? [];
    this.thresholdsKey = JSON.stringify(this.thresholds);
    this.seen = spec.lines.map(() => -1);
    const datasets: LineDataset[] = spec.lines.map((l) => ({ label: l.label, data: [], yAxisID: l.axis ?? 'y' }));
    this.mount(canvas, 'line', { datasets });
    this.chart.update();
  }

  /** Gives Chart.js the current display points of changed series and redraws (no animation). */
  refresh(xRange: { min: number; max: number } | null): void {
    this.spec.lines.forEach((l, k) => {
      const s = this.display.get(l.series);
      if (s.changeCount !== this.seen[k]) {
        this.chart.data.datasets[k].data = s.toArray();
        this.seen[k] = s.changeCount;
      }
    });
    this.setXRange(xRange, true);
    this.chart.update('none');
  }

  /**
   * Replaces the threshold lines (drawn at the next refresh); nothing happens when they are the
   * same as the ones drawn.
   */
  setThresholds(thresholds: readonly ThresholdSpec[]): void {
    const key = JSON.stringify(thresholds);
    if (key === this.thresholdsKey) return;
    this.thresholds = thresholds;
    this.thresholdsKey = key;
    (this.chart.config.options as ChartOptions<'line'>).plugins!.annotation = { annotations: this.annotations(this.palette) };
  }

  /** The threshold lines as the annotation plugin drew them. */
  drawnThresholds(): DrawnThreshold[] {
    return annotationPlugin.getAnnotations(this.chart).map((el) => {
      const o = el.options as { yScaleID?: string; yMin?: number; label?: { content?: unknown } };
      const axis = o.yScaleID ?? 'y';
      const value = Number(o.yMin);
      const other = Object.keys(this.chart.scales).find((id) => id !== axis && id !== 'x');
      return {
        axis,
        axisPosition: String(this.chart.scales[axis].position),
        value,
        label: String(o.label?.content ?? ''),
        y: el.y,
        yOnAxis: this.chart.scales[axis].getPixelForValue(value),
        yOnOtherAxis: other ? this.chart.scales[other].getPixelForValue(value) : null,
        x: el.x,
      };
    });
  }

  /** Points Chart.js currently holds for a series of this chart; null when not charted here. */
  chartedCount(id: SeriesId): number | null {
    const k = this.spec.lines.findIndex((l) => l.series === id);
    return k < 0 ? null : this.chart.data.datasets[k].data.length;
  }

  protected override style(p: Palette): void {
    this.swatches = this.spec.lines.map((l) => (l.fill ? this.colors.withAlpha(p[l.color], Math.min(1, l.fill.alpha * 2.2)) : undefined));
    this.spec.lines.forEach((l, k) => {
      const ds = this.chart.data.datasets[k];
      const base = p[l.color];
      const alpha = l.alpha ?? 1;
      ds.borderColor = alpha === 1 ? base : this.colors.withAlpha(base, alpha);
      ds.borderWidth = alpha === 0 ? 0 : lineWidth(p);
      ds.borderDash = l.dash ?? [];
      if (l.fill) {
        const target = this.spec.lines.findIndex((m) => m.series === l.fill!.to);
        const fillColor = this.colors.withAlpha(base, l.fill.alpha);
        ds.fill = { target, above: fillColor, below: fillColor };
        ds.backgroundColor = fillColor;
      } else {
        ds.fill = false;
        ds.backgroundColor = ds.borderColor;
      }
    });
  }

  protected override options(p: Palette): ChartOptions<'line'> {
    const o = baseLineOptions(p);
    const scales: Record<string, unknown> = { x: o.scales!.x };
    for (const a of this.spec.axes) {
      const theme = axisTheme(p);
      scales[a.id] = {
        type: 'linear',
        position: a.position,
        min: a.min,
        max: a.max,
        suggestedMin: a.suggestedMin,
        suggestedMax: a.suggestedMax,
        ...theme,
        grid: a.id === 'y' ? theme.grid : { ...theme.grid, drawOnChartArea: false },
        title: a.title ? { display: true, text: a.title, color: p.muted, font: { size: p.fontSize, family: p.fontFamily }, padding: 0 } : { display: false },
      };
    }
    o.scales = scales as ChartOptions<'line'>['scales'];
    const lines = this.spec.lines;
    const legend = listedLegend(o.plugins!.legend!, (k) => lines[k].legend !== false);
    // Bands: a stronger swatch than the faint fill, outlined in the series colour.
    // (colours computed once per theme: resolving one here would force a style recalculation per update)
    legend.labels!.generateLabels = (chart) =>
      Chart.defaults.plugins.legend.labels.generateLabels(chart).map((item) => {
        const k = item.datasetIndex ?? -1;
        const swatch = this.swatches[k];
        return swatch ? { ...item, fillStyle: swatch, strokeStyle: p[lines[k].color], lineWidth: 1 } : item;
      });
    o.plugins!.legend = legend;
    o.plugins!.annotation = { annotations: this.annotations(p) };
    return o;
  }

  private annotations(p: Palette): Record<string, AnnotationOptions> {
    const out: Record<string, AnnotationOptions> = {};
    this.thresholds.forEach((t, k) => {
      // Against its own y axis (yScaleID), from `from` (or the left edge) to the right edge; labelled next to
      // its axis: left-axis lines at the left, right-axis lines at the right.
      const position = t.axis === 'y1' || this.spec.axes.length === 1 ? 'end' : 'start';
      out[`threshold${k}`] = {
        ...labelledLine(p, this.colors, { color: t.color, text: t.label, position }),
        xScaleID: 'x',
        yScaleID: t.axis,
        yMin: t.value,
        yMax: t.value,
        xMin: t.from,
      };
    });
    return out;
  }
}
