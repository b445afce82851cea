/**
 * The user's own scalars (`scalars` events written by `retrieval_lens.Lens.log_scalars`): one chart, a
 * selector for the name shown, with the step charts' tools (log scale, PNG, CSV) and their shared x range.
 */
import { el } from '../../shared/dom';
import type { ChartCard, Section } from '../../shared/section';
import type { ColorResolver, Palette } from '../../shared/theme';
import { csvField } from '../data/csvExport';
import type { ScalarStore } from '../data/scalarStore';
import type { SeriesId } from '../data/seriesCatalog';
import { attachChartInteraction } from './chartInteraction';
import type { ChartPanel, DrawContext, PanelHooks } from './panels';
import { SeriesChart, type SeriesChartSpec } from './seriesChart';

const SELECTED = 'scalars/selected' as const;

export class ScalarsPanel implements ChartPanel {
  readonly id = 'scalars';
  readonly chart: SeriesChart;
  private chosen: string | null = null;
  private shownName: string | null = null;
  private readonly select = el('select', { className: 'eval-metric', attrs: { 'data-role': 'scalar-name', 'aria-label': 'Scalar shown' } });

  constructor(
    readonly section: Section,
    readonly card: ChartCard,
    private readonly scalars: ScalarStore,
    palette: Palette,
    colors: ColorResolver,
    hooks: PanelHooks,
  ) {
    const spec: SeriesChartSpec = { axes: [{ id: 'y', position: 'left' }], lines: [{ series: SELECTED, label: 'value', color: 'blue' }] };
    const source = {
      get: () => {
        const s = this.shownName === null ? undefined : this.scalars.get(this.shownName);
        if (!s) throw new Error('ScalarsPanel: no scalar to chart');
        return s.display;
      },
    };
    this.chart = new SeriesChart(card.canvas, spec, source, palette, colors);
    this.select.hidden = true;
    card.addCaptionTool(this.select);
    this.select.addEventListener('change', () => {
      this.chosen = this.select.value;
      hooks.redraw(this);
    });
    attachChartInteraction(
      this,
      card,
      this.chart,
      hooks,
      () => `scalar-${this.shownName ?? 'none'}`,
      () => {
        const s = this.shownName === null ? undefined : this.scalars.get(this.shownName);
        if (!s) return null;
        const rows = [`step,${csvField(this.shownName!)}`];
        for (let i = 0; i < s.steps.length; i++) rows.push(`${s.steps.get(i)},${Number.isNaN(s.values.get(i)) ? '' : s.values.get(i)}`);
        return rows.join('\n') + '\n';
      },
    );
  }

  /** The scalar name charted now (null: none logged). */
  get shown(): string | null {
    return this.shownName;
  }

  draw(ctx: DrawContext): void {
    const names = this.scalars.names;
    const name = this.chosen !== null && names.includes(this.chosen) ? this.chosen : (names[0] ?? null);
    this.renderSelect(names, name);
    this.card.setPlaceholder(name === null ? 'No scalars logged: lens.log_scalars(step, {"name": value}) adds them (docs/run-format.md)' : null);
    this.card.setSub(name === null ? '' : `${this.scalars.get(name)!.steps.length} values`);
    if (name !== this.shownName) {
      this.shownName = name;
      this.chart.invalidate();
      this.chart.chart.data.datasets[0].label = name ?? 'value';
    }
    if (name === null) {
      this.chart.chart.data.datasets[0].data = [];
      this.chart.chart.update('none');
      return;
    }
    this.chart.refresh(ctx.xRange, ctx.xMap ?? null);
  }

  private renderSelect(names: string[], shown: string | null): void {
    this.select.hidden = names.length < 2;
    const have = [...this.select.options].map((o) => o.value);
    if (have.join('\u0000') !== names.join('\u0000')) this.select.replaceChildren(...names.map((n) => el('option', { text: n, attrs: { value: n } })));
    if (shown !== null && this.select.value !== shown) this.select.value = shown;
  }

  applyTheme(p: Palette): void {
    this.chart.applyTheme(p);
  }

  charted(_id: SeriesId): number | null {
    return null;
  }

  /** Points Chart.js holds for the scalar shown. */
  chartedPoints(): number {
    return this.chart.chart.data.datasets[0].data.length;
  }
}
