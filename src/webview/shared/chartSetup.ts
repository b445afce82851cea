/**
 * Chart.js registration (only the parts the webviews use, so the bundles stay small) and the options
 * every chart of the dashboard and the Experiments view shares: no animation (streamed updates use
 * update('none')), data given pre-parsed and sorted ({x, y} objects, `parsing: false`), theme colours from
 * the palette, and the style of a labelled horizontal line (thresholds, reference results).
 */
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Filler,
  Legend,
  LinearScale,
  LogarithmicScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
  type ChartData,
  type ChartOptions,
  type TooltipItem,
} from 'chart.js';
import annotationPlugin, { type AnnotationOptions } from 'chartjs-plugin-annotation';
import type { ChartPoint } from './decimatedSeries';
import type { ColorResolver, Palette, PaletteColor } from './theme';

let registered = false;

/** Registers the Chart.js components and plugins once. */
export function registerChartParts(): void {
  if (registered) return;
  Chart.register(
    LineController,
    BarController,
    LineElement,
    PointElement,
    BarElement,
    LinearScale,
    LogarithmicScale,
    CategoryScale,
    Filler,
    Tooltip,
    Legend,
    annotationPlugin,
  );
  registered = true;
}

/** Line width for the theme (thicker in high contrast). */
export function lineWidth(p: Palette): number {
  return p.kind.startsWith('high-contrast') ? 2 : 1.5;
}

/** Compact number for ticks and tooltips: 3 significant digits, no exponent for ordinary values. */
export function formatTick(v: number): string {
  if (!Number.isFinite(v)) return '';
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(1);
  return String(+v.toPrecision(3));
}

/** Theme-dependent parts of a linear axis. */
export interface AxisTheme {
  grid: { color: string; lineWidth: number; drawTicks: boolean; drawOnChartArea?: boolean };
  border: { color: string; display: boolean };
  ticks: {
    color: string;
    font: { size: number; family: string };
    padding: number;
    maxTicksLimit: number;
    callback: (v: number | string) => string;
    precision?: number;
    includeBounds?: boolean;
  };
}

export function axisTheme(p: Palette): AxisTheme {
  return {
    grid: { color: p.gridFaint, lineWidth: 1, drawTicks: false },
    border: { color: p.grid, display: true },
    ticks: { color: p.foreground, font: { size: p.fontSize, family: p.fontFamily }, padding: 4, maxTicksLimit: 5, callback: (v) => formatTick(Number(v)) },
  };
}

/** Options shared by the line charts (x = step, linear). */
export function baseLineOptions(p: Palette): ChartOptions<'line'> {
  return {
    animation: false,
    responsive: true,
    maintainAspectRatio: false,
    parsing: false,
    normalized: true,
    spanGaps: false,
    events: ['mousemove', 'mouseout', 'click'],
    interaction: { mode: 'nearest', axis: 'x', intersect: false },
    elements: {
      point: { radius: 0, hoverRadius: 3, hitRadius: 4 },
      line: { borderWidth: lineWidth(p), tension: 0, borderJoinStyle: 'round' },
    },
    layout: { padding: { top: 2, right: 4, bottom: 0, left: 0 } },
    scales: {
      // Round steps only (includeBounds false: the first/last step would crowd the round ticks next to
      // them); up to 7 ticks, as Chart.js rounds the spacing up coarsely (1–84 with 5 ticks: only "50").
      x: { type: 'linear', ...axisTheme(p), ticks: { ...axisTheme(p).ticks, precision: 0, includeBounds: false, maxTicksLimit: 7 } } as never,
      y: { type: 'linear', ...axisTheme(p) } as never,
    },
    plugins: {
      legend: legendOptions(p),
      tooltip: tooltipOptions(p),
    },
  };
}

/** Legend: small boxes (8 px high: a band's swatch shows its fill), theme colours, top left. */
export function legendOptions(p: Palette) {
  return {
    display: true,
    position: 'top' as const,
    align: 'start' as const,
    labels: { color: p.foreground, font: { size: p.fontSize, family: p.fontFamily }, boxWidth: 10, boxHeight: 8, padding: 6 },
  };
}

/**
 * A line chart's legend (`legend`, from baseLineOptions) listing only the datasets `listed` accepts that have a
 * point to show (a series all gaps is left out).
 */
export function listedLegend(legend: LineLegend, listed: (datasetIndex: number, datasets: ChartData<'line', ChartPoint[]>['datasets']) => boolean): LineLegend {
  return {
    ...legend,
    labels: {
      ...legend.labels,
      filter: (item, data) => {
        const k = item.datasetIndex ?? -1;
        const ds = data.datasets[k] as ChartData<'line', ChartPoint[]>['datasets'][number] | undefined;
        return !!ds && listed(k, data.datasets as ChartData<'line', ChartPoint[]>['datasets']) && ds.data.some((pt) => pt.y !== null);
      },
    },
  };
}

type LineLegend = NonNullable<NonNullable<ChartOptions<'line'>['plugins']>['legend']>;

/** Tooltip in the theme's colours. */
export function tooltipOptions(p: Palette): NonNullable<NonNullable<ChartOptions<'line'>['plugins']>['tooltip']> {
  return {
    enabled: true,
    backgroundColor: p.tooltipBackground,
    titleColor: p.tooltipForeground,
    bodyColor: p.tooltipForeground,
    borderColor: p.border,
    borderWidth: 1,
    titleFont: { size: p.fontSize, family: p.fontFamily },
    bodyFont: { size: p.fontSize, family: p.fontFamily },
    padding: 6,
    boxWidth: 8,
    boxHeight: 8,
    callbacks: {
      title: (items: TooltipItem<'line'>[]) => (items.length ? `step ${items[0].parsed.x}` : ''),
      label: (item: TooltipItem<'line'>) => `${item.dataset.label ?? ''}: ${item.parsed.y === null ? '—' : formatTick(item.parsed.y)}`,
    },
  };
}

/** A labelled horizontal line: a threshold (faint, thin, dashed) or a reference result (full colour, line width). */
export interface LabelledLine {
  color: PaletteColor;
  /** The whole label shown. */
  text: string;
  /** Where along the line the label sits. */
  position: 'start' | 'end';
  /** A reference result rather than a threshold. */
  reference?: boolean;
  /** Dash pattern (default: thresholds [4, 3], references solid). */
  dash?: number[];
}

/** The style of a labelled line annotation; the caller adds where it lies (scaleID/value or yScaleID/yMin/yMax). */
export function labelledLine(p: Palette, colors: ColorResolver, l: LabelledLine): AnnotationOptions<'line'> {
  return {
    type: 'line',
    borderColor: l.reference ? p[l.color] : colors.withAlpha(p[l.color], 0.9),
    borderWidth: l.reference ? lineWidth(p) : 1,
    borderDash: l.dash ?? (l.reference ? [] : [4, 3]),
    label: {
      display: true,
      content: l.text,
      position: l.position,
      backgroundColor: 'rgba(0, 0, 0, 0)',
      color: p[l.color],
      font: { size: p.fontSize - 1, family: p.fontFamily },
      padding: 1,
      yAdjust: l.reference ? -8 : -7,
    },
  };
}
