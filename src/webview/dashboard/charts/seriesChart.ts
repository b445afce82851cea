/**
 * A line chart over steps bound to decimated series of the store: each refresh hands Chart.js a copy
 * of the display points of the series that changed (≤ ~2k points each) and calls update('none').
 * Distribution bands are pairs of edge series filled between; threshold lines are
 * chartjs-plugin-annotation line annotations.
 */
import { Chart, type ChartDataset, type ChartOptions } from 'chart.js';
import annotationPlugin, { type AnnotationOptions } from 'chartjs-plugin-annotation';
import type { ChartPoint, DecimatedSeries } from '../../shared/decimatedSeries';
import type { SeriesId } from '../data/seriesCatalog';
import { axisTheme, baseLineOptions, labelledLine, lineWidth, listedLegend } from '../../shared/chartSetup';
import type { ColorResolver, Palette, PaletteColor } from '../../shared/theme';
import { ThemedChart } from '../../shared/themedChart';
import { placeLabels, type LabelBox } from '../../shared/labelLayout';
import { formatElapsed, type XMap } from '../data/xAxis';
import { runStyle } from '../../experiments/runColors';
export type AxisId = 'y' | 'y1';

/** A line of the user's own scalars (`scalars` events), e.g. "scalars/selected" (charts/scalarsPanel.ts). */
export type ScalarLineId = `scalars/${string}`;

/** Where a chart's lines come from: the run's step series and the user's scalars. */
export interface SeriesSource {
  get(id: SeriesId | ScalarLineId): DecimatedSeries;
}

export interface LineSpec {
  series: SeriesId | ScalarLineId;
  label: string;
  color: PaletteColor;
  /** Line opacity (default 1); 0 draws no line (a band edge). */
  alpha?: number;
  dash?: number[];
  /** Fill from this series to `to` (a band), with this opacity. */
  fill?: { to: SeriesId | ScalarLineId; alpha: number };
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
  /** The series drawn for each overlaid run (one line per run, in the run's colour); none: not overlaid. */
  overlay?: SeriesId;
  axes: AxisSpec[];
  thresholds?: ThresholdSpec[];
}

type LineDataset = ChartDataset<'line', ChartPoint[]>;

/** An overlaid run's line: its key (run folder), legend label, display series and, for wall time, its step → x. */
export interface OverlayLine {
  key: string;
  label: string;
  series: DecimatedSeries;
  toX?: (step: number) => number;
}

/** Overlaid run i: the Experiments view's colour of run i + 1 (the run shown is run 0, blue), dashed. */
function overlayStyle(p: Palette, i: number): { color: string; dash: number[] } {
  const st = runStyle(p, i + 1);
  return { color: st.color, dash: st.dash.length ? st.dash : [5, 2] };
}

/** A threshold label's offset from its line (px, above it): labelledLine's for thresholds. */
const BASE_LABEL_ADJUST = -7;

export class SeriesChart extends ThemedChart<'line', ChartPoint[]> {
  /** What each line's dataset was copied from: the series' changeCount (all of it), or its zoomed range's points. */
  private readonly seen: (number | ChartPoint[])[];
  /** Legend swatch of each band (a stronger colour than its faint fill). */
  private swatches: (string | undefined)[] = [];
  private thresholds: readonly ThresholdSpec[];
  private thresholdsKey: string;
  /** Vertical label offsets (px) the label layout rule chose, per threshold line. */
  private labelShift: number[] = [];
  private logScale = false;
  /** The x mapping of the drawn points (null: steps). */
  private xMap: XMap | null = null;
  /** Overlaid runs' lines, after the spec's lines in the datasets. */
  private overlays: OverlayLine[] = [];
  private overlaySeen: (number | ChartPoint[])[] = [];

  constructor(
    canvas: HTMLCanvasElement,
    private readonly spec: SeriesChartSpec,
    private readonly display: SeriesSource,
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

  /**
   * Gives Chart.js the current display points of changed series and redraws (no animation). With `xMap`
   * the points' x (steps) are mapped (wall time); `xRange` is in the mapped unit.
   */
  refresh(xRange: { min: number; max: number } | null, xMap: XMap | null = null): void {
    if (xMap !== this.xMap) {
      this.xMap = xMap;
      this.seen.fill(-1);
      this.chart.options = this.options(this.palette);
    }
    // Zoomed: the points in the range decimated afresh (detail appears); else the series' own display points.
    const source = (s: DecimatedSeries, toX: ((step: number) => number) | undefined): number | ChartPoint[] =>
      (xRange ? s.rangePoints(xRange.min, xRange.max, toX) : null) ?? s.changeCount;
    const copy = (s: DecimatedSeries, from: number | ChartPoint[], toX: ((step: number) => number) | undefined) => {
      const pts = typeof from === 'number' ? s.toArray() : from;
      return toX ? pts.map((p) => ({ x: toX(p.x), y: p.y })) : typeof from === 'number' ? pts : pts.slice();
    };
    const stepToX = xMap ? (step: number) => xMap.toX(step) : undefined;
    this.spec.lines.forEach((l, k) => {
      const s = this.display.get(l.series);
      const from = source(s, stepToX);
      if (from !== this.seen[k]) {
        this.chart.data.datasets[k].data = copy(s, from, stepToX);
        this.seen[k] = from;
      }
    });
    this.overlays.forEach((o, i) => {
      // an overlaid run's own steps map to wall time by its own clock
      const toX = xMap ? o.toX : undefined;
      const from = source(o.series, toX);
      if (from !== this.overlaySeen[i]) {
        this.chart.data.datasets[this.spec.lines.length + i].data = copy(o.series, from, toX);
        this.overlaySeen[i] = from;
      }
    });
    this.setXRange(xRange, true);
    this.chart.update('none');
    this.layoutLabels();
  }

  /**
   * The overlaid runs' lines (of `spec.overlay`; none when the spec has none). The datasets are rebuilt when the
   * runs change, the points copied at the next refresh.
   */
  setOverlays(lines: readonly OverlayLine[]): void {
    if (!this.spec.overlay) return;
    const same = lines.length === this.overlays.length && lines.every((l, i) => l.key === this.overlays[i].key && l.label === this.overlays[i].label);
    this.overlays = [...lines];
    if (same) return;
    const axis = this.spec.lines.find((l) => l.series === this.spec.overlay)?.axis ?? 'y';
    const datasets = this.chart.data.datasets;
    datasets.length = this.spec.lines.length;
    for (const l of lines) datasets.push({ label: l.label, data: [], yAxisID: axis });
    this.overlaySeen = lines.map(() => -1);
    this.style(this.palette);
  }

  /** Points Chart.js holds per overlaid run, and the y of its last point. */
  overlayCounts(): { label: string; points: number; last: number | null }[] {
    return this.overlays.map((o, i) => {
      const data = this.chart.data.datasets[this.spec.lines.length + i].data;
      return { label: o.label, points: data.length, last: data.at(-1)?.y ?? null };
    });
  }

  /** Forgets what Chart.js was given (the source's series changed identity): the next refresh copies every line. */
  invalidate(): void {
    this.seen.fill(-1);
  }

  /** Whether the y axes are logarithmic. */
  get isLog(): boolean {
    return this.logScale;
  }

  /**
   * Smallest y of the lines charted (null: none): a log scale needs it > 0. Checked over the display points,
   * which keep every bucket's min.
   */
  minCharted(): number | null {
    let min = Infinity;
    for (const ds of this.chart.data.datasets) for (const p of ds.data) if (p.y !== null && p.y < min) min = p.y;
    return min === Infinity ? null : min;
  }

  /** Switches the y axes between linear and logarithmic (redrawn at the next refresh). */
  setLogScale(on: boolean): void {
    if (on === this.logScale) return;
    this.logScale = on;
    this.chart.options = this.options(this.palette);
    this.labelShift = [];
    this.chart.update('none');
  }

  /** Lines, with their labels and exact columns, for the CSV export. */
  get lineSpecs(): readonly LineSpec[] {
    return this.spec.lines;
  }

  /**
   * The layout rule of the threshold labels: no two label boxes overlap. Each label keeps its place above
   * its line when free; else it goes below its line, else it is stacked above the labels it meets (see
   * shared/labelLayout.ts). Measured on the boxes the annotation plugin laid out; redrawn only when a
   * label moves.
   */
  private layoutLabels(): void {
    if (this.thresholds.length < 2) return;
    const els = annotationPlugin.getAnnotations(this.chart);
    const boxes: LabelBox[] = [];
    els.forEach((el, k) => {
      const label = (el as unknown as { label?: { x: number; y: number; width: number; height: number; options?: { display?: boolean } } }).label;
      if (!label) return;
      boxes.push({ x: label.x, y: label.y - (this.labelShift[k] ?? 0), width: label.width, height: label.height, lineY: el.y });
    });
    if (boxes.length !== this.thresholds.length) return;
    const area = this.chart.chartArea;
    const shifts = placeLabels(boxes, { top: area.top, bottom: area.bottom });
    if (shifts.every((d, k) => d === (this.labelShift[k] ?? 0))) return;
    this.labelShift = shifts;
    const anns = (this.chart.config.options as ChartOptions<'line'>).plugins!.annotation!.annotations as Record<string, AnnotationOptions<'line'>>;
    this.thresholds.forEach((_, k) => {
      const a = anns[`threshold${k}`];
      if (a?.label) a.label.yAdjust = BASE_LABEL_ADJUST + shifts[k];
    });
    this.chart.update('none');
  }

  /**
   * The label boxes of the threshold lines as drawn (for tests and the debug hook), with `ownY`: the y the
   * label would have at its own place, without the layout rule.
   */
  drawnLabelBoxes(): { label: string; x: number; y: number; width: number; height: number; ownY: number }[] {
    return annotationPlugin.getAnnotations(this.chart).flatMap((el, k) => {
      const l = (el as unknown as { label?: { x: number; y: number; width: number; height: number } }).label;
      const o = el.options as { label?: { content?: unknown } };
      return l ? [{ label: String(o.label?.content ?? ''), x: l.x, y: l.y, width: l.width, height: l.height, ownY: l.y - (this.labelShift[k] ?? 0) }] : [];
    });
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
    this.labelShift = [];
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

  /** The points (x as drawn) Chart.js holds for a series of this chart; null when not charted here. */
  chartedPoints(id: SeriesId): ChartPoint[] | null {
    const k = this.spec.lines.findIndex((l) => l.series === id);
    return k < 0 ? null : this.chart.data.datasets[k].data.map((p) => ({ x: p.x, y: p.y }));
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
    this.overlays.forEach((o, i) => {
      const ds = this.chart.data.datasets[this.spec.lines.length + i];
      const st = overlayStyle(p, i);
      ds.borderColor = st.color;
      ds.backgroundColor = st.color;
      ds.borderWidth = lineWidth(p);
      ds.borderDash = st.dash;
      ds.fill = false;
    });
  }

  protected override options(p: Palette): ChartOptions<'line'> {
    const o = baseLineOptions(p);
    const scales: Record<string, unknown> = { x: o.scales!.x };
    for (const a of this.spec.axes) {
      const theme = axisTheme(p);
      const log = this.logScale;
      scales[a.id] = {
        type: log ? 'logarithmic' : 'linear',
        position: a.position,
        // a log axis has no 0: fixed lower bounds ≤ 0 are left to the data
        min: log && a.min !== undefined && a.min <= 0 ? undefined : a.min,
        max: a.max,
        suggestedMin: log && a.suggestedMin !== undefined && a.suggestedMin <= 0 ? undefined : a.suggestedMin,
        suggestedMax: a.suggestedMax,
        ...theme,
        grid: a.id === 'y' ? theme.grid : { ...theme.grid, drawOnChartArea: false },
        title: a.title ? { display: true, text: a.title, color: p.muted, font: { size: p.fontSize, family: p.fontFamily }, padding: 0 } : { display: false },
      };
    }
    o.scales = scales as ChartOptions<'line'>['scales'];
    const lines = this.spec.lines;
    const legend = listedLegend(o.plugins!.legend!, (k) => k >= lines.length || lines[k].legend !== false);
    // Bands: a stronger swatch than the faint fill, outlined in the series colour.
    // (colours computed once per theme: resolving one here would force a style recalculation per update)
    legend.labels!.generateLabels = (chart) =>
      Chart.defaults.plugins.legend.labels.generateLabels(chart).map((item) => {
        const k = item.datasetIndex ?? -1;
        const swatch = k < lines.length ? this.swatches[k] : undefined;
        return swatch ? { ...item, fillStyle: swatch, strokeStyle: p[lines[k].color], lineWidth: 1 } : item;
      });
    o.plugins!.legend = legend;
    o.plugins!.annotation = { annotations: this.annotations(p) };
    if (this.xMap) {
      const x = o.scales!.x as { title?: unknown; ticks: { callback?: unknown } };
      x.title = { display: true, text: 'wall time', color: p.muted, font: { size: p.fontSize, family: p.fontFamily }, padding: 0 };
      x.ticks.callback = (v: number | string) => formatElapsed(Number(v));
      o.plugins!.tooltip!.callbacks!.title = (items) => (items.length ? `${formatElapsed(items[0].parsed.x ?? 0)} wall time` : '');
    }
    return o;
  }

  private annotations(p: Palette): Record<string, AnnotationOptions> {
    const out: Record<string, AnnotationOptions> = {};
    this.thresholds.forEach((t, k) => {
      // Against its own y axis (yScaleID), from `from` (or the left edge) to the right edge; labelled next to
      // its axis: left-axis lines at the left, right-axis lines at the right.
      const position = t.axis === 'y1' || this.spec.axes.length === 1 ? 'end' : 'start';
      const line = labelledLine(p, this.colors, { color: t.color, text: t.label, position });
      if (line.label) line.label.yAdjust = BASE_LABEL_ADJUST + (this.labelShift[k] ?? 0);
      out[`threshold${k}`] = {
        ...line,
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
