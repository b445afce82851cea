/**
 * The histogram of the newest step's δ or τ (the 32 bins of its DistributionSummary over the fixed
 * range hist.lo..hi) as contiguous bars on a linear x axis, with the median marked.
 */
import type { ChartOptions } from 'chart.js';
import type { DistributionSummary } from '../../../core/metrics/types';
import type { ColorResolver, Palette } from '../../shared/theme';
import { axisTheme, formatTick, legendOptions, tooltipOptions } from '../../shared/chartSetup';
import { ThemedChart } from '../../shared/themedChart';

interface BarPoint {
  x: number;
  y: number;
}

export interface HistogramShown {
  step: number;
  lo: number;
  hi: number;
  counts: number[];
  median: number | null;
}

export class HistogramChart extends ThemedChart<'bar', BarPoint[]> {
  private shown: HistogramShown | null = null;

  constructor(
    canvas: HTMLCanvasElement,
    palette: Palette,
    colors: ColorResolver,
    private readonly symbol: () => string,
  ) {
    super(palette, colors);
    this.mount(canvas, 'bar', { datasets: [{ label: 'count', data: [] }] });
    // A full update after styling: update('none') keeps the bar options Chart.js resolved first.
    this.chart.update();
  }

  /** What is drawn now (null before the first step). */
  get current(): HistogramShown | null {
    return this.shown;
  }

  /** Draws the histogram of `dist` (of step `step`) unless that step is already shown. */
  show(step: number, dist: DistributionSummary | null): void {
    if (this.shown?.step === step && dist !== null) return;
    if (!dist) {
      this.shown = null;
      this.chart.data.datasets[0].data = [];
    } else {
      const { lo, hi, counts } = dist.hist;
      const w = (hi - lo) / counts.length;
      this.chart.data.datasets[0].data = counts.map((c, k) => ({ x: lo + (k + 0.5) * w, y: c }));
      this.shown = { step, lo, hi, counts: [...counts], median: typeof dist.p50 === 'number' ? dist.p50 : null };
    }
    this.setRangeAndMedian(this.chart.config.options as ChartOptions<'bar'>);
    this.chart.update('none');
  }

  /**
   * Points the x range and the median line of options `o` at what is shown: in place in the chart's
   * options for a new step (rebuilding the options object per step would make Chart.js re-resolve all of
   * them), and in a palette's fresh options.
   */
  private setRangeAndMedian(o: ChartOptions<'bar'>): void {
    const s = this.shown;
    const x = o.scales!.x as { min?: number; max?: number };
    x.min = s?.lo;
    x.max = s?.hi;
    const median = (o.plugins!.annotation!.annotations as Record<string, { display?: boolean; value?: number; label?: { content?: string } }>).median;
    median.display = s?.median !== null && s?.median !== undefined;
    median.value = s?.median ?? 0;
    median.label!.content = s?.median !== null && s?.median !== undefined ? `median ${formatTick(s.median)}` : '';
  }

  protected override style(p: Palette): void {
    const ds = this.chart.data.datasets[0];
    ds.backgroundColor = this.colors.withAlpha(p.blue, 0.55);
    ds.borderColor = p.blue;
    ds.borderWidth = { top: 1, left: 0, right: 0, bottom: 0 };
    ds.barPercentage = 1;
    ds.categoryPercentage = 1;
  }

  protected override options(p: Palette): ChartOptions<'bar'> {
    const theme = axisTheme(p);
    const o: ChartOptions<'bar'> = {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      parsing: false,
      normalized: true,
      events: ['mousemove', 'mouseout'],
      layout: { padding: { top: 2, right: 6, bottom: 0, left: 0 } },
      scales: {
        x: { type: 'linear', offset: false, ...theme, ticks: { ...theme.ticks, maxTicksLimit: 6 } } as never,
        y: { type: 'linear', beginAtZero: true, ...theme, ticks: { ...theme.ticks, precision: 0 } } as never,
      },
      plugins: {
        legend: { ...legendOptions(p), display: false },
        tooltip: {
          ...(tooltipOptions(p) as NonNullable<NonNullable<ChartOptions<'bar'>['plugins']>['tooltip']>),
          callbacks: {
            title: (items) => {
              const s = this.shown;
              if (!items.length || !s) return '';
              const w = (s.hi - s.lo) / s.counts.length;
              const k = items[0].dataIndex;
              return `${this.symbol()} ∈ [${formatTick(s.lo + k * w)}, ${formatTick(s.lo + (k + 1) * w)})`;
            },
            label: (item) => `${item.parsed.y} pairs`,
          },
        },
        annotation: {
          annotations: {
            median: {
              type: 'line',
              display: false,
              scaleID: 'x',
              value: 0,
              borderColor: p.foreground,
              borderWidth: 1,
              borderDash: [3, 3],
              label: {
                display: true,
                content: '',
                position: 'start',
                backgroundColor: this.colors.withAlpha(p.tooltipBackground, 0.85),
                color: p.foreground,
                font: { size: p.fontSize - 1, family: p.fontFamily },
                padding: 2,
              },
            },
          },
        },
      },
    };
    this.setRangeAndMedian(o);
    return o;
  }
}
