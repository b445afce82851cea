/**
 * The base of every Chart.js chart in the webviews: a chart whose options and dataset styles are functions of
 * the VS Code theme's palette (theme.ts), re-applied whole when the theme changes. A subclass says what its
 * options and styles are (`options`, `style`) and calls `mount` at the end of its constructor, once the
 * fields those read are set.
 */
import { Chart, type ChartData, type ChartOptions, type ChartType, type DefaultDataPoint, type Plugin } from 'chart.js';
import type { ColorResolver, Palette } from './theme';

export abstract class ThemedChart<TType extends ChartType, TData = DefaultDataPoint<TType>> {
  private mounted: Chart<TType, TData> | null = null;

  protected constructor(
    protected palette: Palette,
    protected readonly colors: ColorResolver,
  ) {}

  /** The Chart.js chart. */
  get chart(): Chart<TType, TData> {
    if (!this.mounted) throw new Error(`${this.constructor.name}: the chart is used before mount()`);
    return this.mounted;
  }

  /** The options for a palette: a fresh object (Chart.js takes it over). */
  protected abstract options(p: Palette): ChartOptions<TType>;

  /** Colours, widths and dashes of the datasets for a palette. */
  protected abstract style(p: Palette): void;

  /** Creates the chart on `canvas` with the palette's options and styles. */
  protected mount(canvas: HTMLCanvasElement, type: TType, data: ChartData<TType, TData>, plugins: Plugin<TType>[] = []): void {
    this.mounted = new Chart<TType, TData>(canvas, { type, data, options: this.options(this.palette), plugins });
    this.style(this.palette);
  }

  /** Re-colours everything for a new palette. */
  applyTheme(p: Palette): void {
    this.palette = p;
    this.chart.options = this.options(p);
    this.style(p);
    // A full (non-'none') update: only it refreshes the options Chart.js shares between elements.
    this.chart.update();
  }

  /**
   * Shows `range` on the x axis (the whole data when null), in place in the chart's own options object
   * (not through Chart.js' option resolver proxies). A range of one step is widened to [min, min + 1] when
   * `widenSingleStep`, else its maximum is left to the data.
   */
  protected setXRange(range: { min: number; max: number } | null, widenSingleStep = false): void {
    const x = (this.chart.config.options as { scales: Record<string, { min?: number; max?: number }> }).scales.x;
    x.min = range?.min;
    x.max = !range ? undefined : range.max > range.min ? range.max : widenSingleStep ? range.min + 1 : undefined;
  }
}
