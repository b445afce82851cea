/**
 * The sweep's result chart: the metric against the swept value, one point per value (mean over seeds)
 * with ± std error bars, each seed's run as a faint dot, the adaptive loss's result as a horizontal band
 * (mean ± std, chartjs-plugin-annotation box + line) and BM25 as a dashed horizontal line. The x axis is
 * logarithmic when every value is positive and they span a factor of 10 or more (τ, learning rates).
 */
import { Chart, LogarithmicScale, type ChartDataset, type ChartOptions, type Plugin } from 'chart.js';
import type { AnnotationOptions } from 'chartjs-plugin-annotation';
import { axisTheme, baseLineOptions, formatTick, labelledLine, lineWidth } from '../shared/chartSetup';
import type { ColorResolver, Palette } from '../shared/theme';
import { ThemedChart } from '../shared/themedChart';
import type { SweepView } from './protocol';

interface Pt {
  x: number;
  y: number | null;
}

/** An error bar as drawn: data values and canvas pixels. */
export interface DrawnErrorBar {
  value: number;
  low: number;
  high: number;
  px: { x: number; yLow: number; yHigh: number };
}

type BarDataset = ChartDataset<'line', Pt[]> & { errorBars?: { x: number; low: number; high: number }[] };

let logRegistered = false;

/** Draws each dataset's `errorBars` (vertical whiskers with caps) after the datasets. */
function errorBarPlugin(drawn: DrawnErrorBar[]): Plugin<'line'> {
  return {
    id: 'rlensErrorBars',
    afterDatasetsDraw(chart) {
      drawn.length = 0;
      const { ctx, scales } = chart;
      chart.data.datasets.forEach((d, i) => {
        const bars = (d as BarDataset).errorBars;
        if (!bars || !chart.isDatasetVisible(i)) return;
        ctx.save();
        ctx.strokeStyle = String(d.borderColor);
        ctx.lineWidth = Number(d.borderWidth) || 1.5;
        for (const b of bars) {
          const x = scales.x.getPixelForValue(b.x);
          const yLow = scales.y.getPixelForValue(b.low);
          const yHigh = scales.y.getPixelForValue(b.high);
          ctx.beginPath();
          ctx.moveTo(x, yLow);
          ctx.lineTo(x, yHigh);
          ctx.moveTo(x - 4, yLow);
          ctx.lineTo(x + 4, yLow);
          ctx.moveTo(x - 4, yHigh);
          ctx.lineTo(x + 4, yHigh);
          ctx.stroke();
          drawn.push({ value: b.x, low: b.low, high: b.high, px: { x, yLow, yHigh } });
        }
        ctx.restore();
      });
    },
  };
}

/** Whether the swept values call for a log axis. */
export function logAxis(values: readonly number[]): boolean {
  return values.length > 1 && values.every((v) => v > 0) && Math.max(...values) / Math.min(...values) >= 10;
}

export class SweepChart extends ThemedChart<'line', Pt[]> {
  readonly errorBars: DrawnErrorBar[] = [];
  private view: SweepView | null = null;

  constructor(canvas: HTMLCanvasElement, palette: Palette, colors: ColorResolver) {
    super(palette, colors);
    if (!logRegistered) {
      Chart.register(LogarithmicScale);
      logRegistered = true;
    }
    this.mount(canvas, 'line', { datasets: [] }, [errorBarPlugin(this.errorBars)]);
  }

  show(view: SweepView): void {
    this.view = view;
    const points = [...view.points].sort((a, b) => a.value - b.value);
    const mean: BarDataset = {
      label: `${view.metric} (mean ± std over seeds)`,
      data: points.map((p) => ({ x: p.value, y: p.mean })),
      errorBars: points.flatMap((p) => (p.mean !== null && p.std !== null && p.n > 1 ? [{ x: p.value, low: p.mean - p.std, high: p.mean + p.std }] : [])),
    };
    const seeds: BarDataset = {
      label: 'each run',
      data: points.flatMap((p) => p.runs.filter((r) => r.value !== null).map((r) => ({ x: p.value, y: r.value }))),
      showLine: false,
    };
    this.chart.data.datasets = [mean, seeds];
    this.chart.options = this.options(this.palette);
    this.style(this.palette);
    this.chart.update('none');
  }

  protected override style(p: Palette): void {
    const [mean, seeds] = this.chart.data.datasets;
    if (!mean) return;
    Object.assign(mean, {
      borderColor: p.blue,
      backgroundColor: p.blue,
      borderWidth: lineWidth(p),
      pointRadius: 4,
      pointHoverRadius: 5,
      fill: false,
      spanGaps: true,
    });
    Object.assign(seeds, {
      borderColor: this.colors.withAlpha(p.blue, 0.45),
      backgroundColor: this.colors.withAlpha(p.blue, 0.45),
      pointRadius: 2.5,
      pointHoverRadius: 3.5,
      borderWidth: 0,
    });
  }

  protected override options(p: Palette): ChartOptions<'line'> {
    const o = baseLineOptions(p);
    const v = this.view;
    const values = v?.points.map((x) => x.value) ?? [];
    const log = logAxis(values);
    o.scales!.x = {
      type: log ? 'logarithmic' : 'linear',
      ...axisTheme(p),
      title: { display: true, text: v?.param ?? '', color: p.muted, font: { size: p.fontSize, family: p.fontFamily } },
      ticks: { ...axisTheme(p).ticks, maxTicksLimit: 8, callback: (t: number | string) => formatTick(Number(t)) },
      ...(log ? { afterBuildTicks: (axis: { ticks: { value: number }[] }) => (axis.ticks = values.map((value) => ({ value }))) } : {}),
    } as never;
    o.scales!.y = {
      type: 'linear',
      ...axisTheme(p),
      suggestedMin: 0,
      title: { display: true, text: v?.metric ?? '', color: p.muted, font: { size: p.fontSize, family: p.fontFamily } },
    } as never;
    o.interaction = { mode: 'nearest', intersect: false };
    o.plugins!.tooltip = {
      ...o.plugins!.tooltip,
      callbacks: {
        title: (items) => (items.length ? `${v?.param ?? ''} = ${formatTick(items[0].parsed.x ?? NaN)}` : ''),
        label: (item) => {
          if (item.datasetIndex !== 0 || !v) return `run: ${formatTick(item.parsed.y ?? NaN)}`;
          const pt = [...v.points].sort((a, b) => a.value - b.value)[item.dataIndex];
          return `mean ${formatTick(pt.mean ?? NaN)} ± ${formatTick(pt.std ?? NaN)} (n = ${pt.n})`;
        },
      },
    };
    const annotations: Record<string, AnnotationOptions> = {};
    if (v?.reference) {
      const r = v.reference;
      annotations.referenceBand = {
        type: 'box',
        yMin: r.mean - r.std,
        yMax: r.mean + r.std,
        backgroundColor: this.colors.withAlpha(p.green, 0.18),
        borderWidth: 0,
        drawTime: 'beforeDatasetsDraw',
      };
      const text = `${r.label} ${formatTick(r.mean)} ± ${formatTick(r.std)} (n = ${r.n})`;
      annotations.referenceLine = {
        ...labelledLine(p, this.colors, { color: 'green', text, position: 'start', reference: true }),
        scaleID: 'y',
        value: r.mean,
      };
    }
    if (v?.bm25) {
      const text = `BM25 ${formatTick(v.bm25.mean)}`;
      annotations.bm25 = {
        ...labelledLine(p, this.colors, { color: 'orange', text, position: 'end', reference: true, dash: [7, 4] }),
        scaleID: 'y',
        value: v.bm25.mean,
      };
    }
    o.plugins!.annotation = { annotations };
    return o;
  }
}
