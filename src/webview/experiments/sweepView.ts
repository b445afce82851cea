/**
 * The sweep result view: the metric (selectable) against the swept value with mean ± std over seeds, the
 * adaptive loss's band and BM25 (sweepChart.ts), and the numbers as a table (each run clickable: it opens
 * in the dashboard).
 */
import { formatTick } from '../shared/chartSetup';
import type { ColorResolver, Palette } from '../shared/theme';
import { el } from '../shared/dom';
import { ChartCard, Section } from '../shared/section';
import type { FromExperiments, SweepView as SweepViewData } from './protocol';
import { SweepChart } from './sweepChart';
import { sweepRunDirs } from '../../core/experiments/sweepViewSchema';

const fmt = (v: number | null) => (v === null ? '–' : formatTick(v));

export class SweepView {
  readonly root: HTMLElement;
  private chart: SweepChart | null = null;
  private view: SweepViewData | null = null;

  constructor(
    parent: HTMLElement,
    private palette: Palette,
    private readonly colors: ColorResolver,
    private readonly post: (m: FromExperiments) => void,
  ) {
    this.root = el('div', { className: 'sweep', attrs: { 'data-view': 'sweep' } });
    parent.appendChild(this.root);
  }

  show(view: SweepViewData): void {
    this.view = view;
    this.chart?.chart.destroy();
    this.root.replaceChildren();
    const select = el('select', { attrs: { 'data-role': 'metric', 'aria-label': 'metric' } });
    for (const m of view.metrics.includes(view.metric) ? view.metrics : [view.metric, ...view.metrics]) {
      const o = el('option', { text: m, attrs: { value: m } });
      o.selected = m === view.metric;
      select.appendChild(o);
    }
    select.disabled = view.metrics.length < 2;
    select.addEventListener('change', () => this.post({ type: 'selectMetric', metric: select.value }));
    const dirs = sweepRunDirs(view);
    const compare = el('button', {
      className: 'button',
      text: 'Compare Runs',
      title: `Compare the sweep's ${dirs.length} runs${view.reference?.runs?.length ? ` (with the adaptive reference's ${view.reference.runs.length})` : ''}`,
      attrs: { type: 'button', 'data-role': 'compare' },
    });
    compare.disabled = dirs.length < 2;
    compare.addEventListener('click', () => this.post({ type: 'compareRuns', dirs }));
    this.root.appendChild(
      el('div', { className: 'sweep-header' }, [
        el('span', { className: 'run-name', text: view.title ?? `Sweep of ${view.param}` }),
        el('label', { className: 'muted', text: 'metric ' }, [select]),
        compare,
      ]),
    );
    const section = new Section('sweep', `${view.metric} against ${view.param}`, true, () => undefined);
    this.root.appendChild(section.root);
    const card = new ChartCard(
      'sweep',
      `${view.metric} vs ${view.param}`,
      'One point per swept value: the mean over seeds with ± std error bars, each run as a faint dot; the band is the adaptive loss (mean ± std), the dashed line BM25',
    );
    section.body.appendChild(card.root);
    card.root.classList.add('tall');
    this.chart = new SweepChart(card.canvas, this.palette, this.colors);
    this.chart.show(view);
    const withValue = view.points.filter((p) => p.mean !== null);
    card.setPlaceholder(withValue.length === 0 ? `No run of this sweep has ${view.metric} yet` : null);
    const best = withValue.length ? withValue.reduce((a, b) => ((b.mean as number) > (a.mean as number) ? b : a)) : null;
    const ref = view.reference;
    card.setSub(
      [
        best ? `best fixed: ${view.param} = ${formatTick(best.value)} → ${fmt(best.mean)}` : '',
        ref ? `${ref.label}: ${fmt(ref.mean)} ± ${fmt(ref.std)}` : '',
        view.claim ?? '',
      ]
        .filter(Boolean)
        .join(' · '),
    );

    const head = el(
      'tr',
      {},
      ['value', 'mean', 'std', 'n', 'runs (seed: value)'].map((h) => el('th', { text: h })),
    );
    const rows = [...view.points]
      .sort((a, b) => a.value - b.value)
      .map((p) =>
        el('tr', { attrs: { 'data-value': String(p.value) } }, [
          el('td', { text: formatTick(p.value) }),
          el('td', { text: fmt(p.mean) }),
          el('td', { text: fmt(p.std) }),
          el('td', { text: String(p.n) }),
          el(
            'td',
            {},
            p.runs.map((r) => {
              const b = el('button', {
                className: 'link',
                text: `${r.seed}: ${fmt(r.value)}`,
                title: `Show ${r.runDir} in the dashboard`,
                attrs: { type: 'button' },
              });
              b.addEventListener('click', () => this.post({ type: 'openRun', dir: r.runDir }));
              return b;
            }),
          ),
        ]),
      );
    if (ref)
      rows.push(
        el('tr', { className: 'reference-row', attrs: { 'data-value': 'reference' } }, [
          el('td', { text: ref.label }),
          el('td', { text: fmt(ref.mean) }),
          el('td', { text: fmt(ref.std) }),
          el('td', { text: String(ref.n) }),
          el('td', { text: '' }),
        ]),
      );
    if (view.bm25)
      rows.push(
        el('tr', { attrs: { 'data-value': 'bm25' } }, [
          el('td', { text: 'BM25' }),
          el('td', { text: fmt(view.bm25.mean) }),
          el('td', { text: '' }),
          el('td', { text: '' }),
          el('td', { text: '' }),
        ]),
      );
    section.body.appendChild(el('table', { className: 'grid', attrs: { 'data-role': 'sweep-points' } }, [el('thead', {}, [head]), el('tbody', {}, rows)]));
  }

  applyTheme(p: Palette): void {
    this.palette = p;
    this.chart?.applyTheme(p);
  }

  /** What the chart draws (for the debug hook). */
  charted(): unknown {
    const c = this.chart;
    if (!c || !this.view) return null;
    const ch = c.chart;
    const y = ch.scales.y;
    const ref = this.view.reference;
    return {
      param: this.view.param,
      metric: this.view.metric,
      xScale: ch.scales.x.type,
      points: (ch.data.datasets[0]?.data ?? []).map((p) => ({ x: p.x, y: p.y })),
      runs: (ch.data.datasets[1]?.data ?? []).map((p) => ({ x: p.x, y: p.y })),
      errorBars: c.errorBars.map((b) => structuredClone(b)),
      referenceBand: ref
        ? {
            low: ref.mean - ref.std,
            high: ref.mean + ref.std,
            px: { top: y.getPixelForValue(ref.mean + ref.std), bottom: y.getPixelForValue(ref.mean - ref.std) },
          }
        : null,
      bm25: this.view.bm25 ? { value: this.view.bm25.mean, px: y.getPixelForValue(this.view.bm25.mean) } : null,
      chartArea: { ...ch.chartArea },
      canvas: ch.canvas.getBoundingClientRect().toJSON(),
    };
  }
}
