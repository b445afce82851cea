/**
 * The run comparison: a legend of the runs (one colour each), the dashboard's charts with one line per run
 * (δ/τ median, R with the R = 1 line, item cosine, loss, in-batch and evaluation recall), the config keys
 * that differ, the final metrics, and the failing-query diff (a click on a query opens its data line).
 */
import { DEFAULT_COLLAPSE_THRESHOLDS } from '../../core/metrics/collapseMonitor';
import { EmaSmoother } from '../shared/smoothing';
import type { ColorResolver, Palette } from '../shared/theme';
import { el } from '../shared/dom';
import { ChartCard, Section } from '../shared/section';
import type { ComparisonView, FromExperiments, RunSeriesView } from './protocol';
import { runLetter, runStyle } from './runColors';
import { RunsChart, type ChartedLine, type RunsChartSpec } from './runsChart';

const T = DEFAULT_COLLAPSE_THRESHOLDS;

/** Loss smoothing (TensorBoard's debiased EMA, as the dashboard's default). */
const LOSS_SMOOTHING = 0.6;

function smoothed(y: readonly (number | null)[]): (number | null)[] {
  const ema = new EmaSmoother(LOSS_SMOOTHING);
  return y.map((v) => {
    const s = ema.next(v ?? NaN);
    return Number.isFinite(s) ? s : null;
  });
}

const steps = (s: RunSeriesView) => s.steps;

/** The charts: id, caption, description, spec. */
const CHARTS: { id: string; section: string; caption: string; describe: string; spec: RunsChartSpec }[] = [
  {
    id: 'hyper',
    section: 'Adaptive δ / τ',
    caption: 'δ / τ median',
    describe: 'Per-step median of the adaptive δ_ji (margin loss) or τ_ji (softmax loss) over valid pairs; a fixed loss shows its constant',
    spec: { lines: [{ read: (s) => ({ x: steps(s), y: s.hyperP50 }) }] },
  },
  {
    id: 'ratio',
    section: 'Collapse',
    caption: 'Ratio R',
    describe: 'R = (1 − mean s(v,v⁻)) / (1 − mean s(q,v)): above 1 queries sit closer to their positives than items to each other; → 0 as items collapse',
    spec: {
      lines: [{ read: (s) => ({ x: steps(s), y: s.ratio }) }],
      thresholds: [
        { value: 1, label: 'R =', color: 'red', at: 'start' },
        { value: T.separatedRatio, label: 'separated ≥', color: 'green' },
      ],
    },
  },
  {
    id: 'itemCosine',
    section: 'Collapse',
    caption: 'Item–item cosine',
    describe: 'Mean cosine among the batch positives; above the line with R < 1 is the collapse signature',
    spec: {
      lines: [{ read: (s) => ({ x: steps(s), y: s.itemCosine }) }],
      axis: { suggestedMin: 0, suggestedMax: 1 },
      thresholds: [{ value: T.collapsedItemCosine, label: 'collapse signature >', color: 'red' }],
    },
  },
  {
    id: 'loss',
    section: 'Loss',
    caption: 'Loss',
    describe: `Total loss per run (faint: raw; solid: smoothed, EMA ${LOSS_SMOOTHING})`,
    spec: {
      lines: [
        { read: (s) => ({ x: steps(s), y: s.loss }), alpha: 0.28, legend: false, suffix: '(raw)' },
        { read: (s) => ({ x: steps(s), y: smoothed(s.loss) }) },
      ],
    },
  },
  {
    id: 'recall',
    section: 'Retrieval',
    caption: 'In-batch recall@10',
    describe: 'Share of pairs whose positive ranks in the top 10 among the batch candidates',
    spec: { lines: [{ read: (s) => ({ x: steps(s), y: s.recall10 }) }], axis: { min: 0, max: 1 } },
  },
  {
    id: 'eval',
    section: 'Retrieval',
    caption: 'Evaluation recall@10',
    describe:
      'Recall@10 of the exact search of each evaluation (events.jsonl eval events): full evaluations of the test set (solid) and, apart, ' +
      'the live held-out evaluations during training (dashed: a sample of the test queries against a corpus sampled with every positive kept)',
    spec: {
      lines: [
        { read: (s) => evalLine(s, false), points: true, suffix: '(full evaluation)' },
        { read: (s) => evalLine(s, true), points: true, suffix: '(held-out sample)', dash: [2, 3] },
      ],
      axis: { suggestedMin: 0, suggestedMax: 1 },
    },
  },
];

/** Recall@10 of a run's full evaluations, or of its live held-out ones (heldOut): two series, never one. */
function evalLine(s: RunSeriesView, heldOut: boolean): { x: number[]; y: (number | null)[] } {
  const e = s.evals.filter((p) => p.heldOut === heldOut && typeof p.metrics['recall@10'] === 'number');
  return { x: e.map((p) => p.step), y: e.map((p) => p.metrics['recall@10']) };
}

/** A metric value as table text. */
function cellText(v: number | string | null): string {
  if (v === null) return '–';
  return typeof v === 'number' ? (Number.isInteger(v) ? String(v) : String(+v.toPrecision(4))) : v;
}

/** A short location: the file's last two path parts and the line. */
function shortPlace(file: string, line: number): string {
  const parts = file.split(/[\\/]/);
  return `${parts.slice(-2).join('/')}:${line}`;
}

export class CompareView {
  readonly root: HTMLElement;
  private readonly charts = new Map<string, { chart: RunsChart; card: ChartCard }>();
  private view: ComparisonView | null = null;

  constructor(
    parent: HTMLElement,
    private palette: Palette,
    private readonly colors: ColorResolver,
    private readonly post: (m: FromExperiments) => void,
  ) {
    this.root = el('div', { className: 'compare', attrs: { 'data-view': 'compare' } });
    parent.appendChild(this.root);
  }

  show(view: ComparisonView): void {
    this.view = view;
    this.charts.forEach((c) => c.chart.chart.destroy());
    this.charts.clear();
    this.root.replaceChildren();
    const labels = view.runs.map((r, i) => `${runLetter(i)} ${r.name}`);
    this.root.appendChild(this.runsLegend(view));
    for (const n of view.notes) this.root.appendChild(el('div', { className: 'note', text: `⚠ ${n}` }));

    // Charts (created attached, so Chart.js sizes them), grouped in the dashboard's sections.
    const sections = new Map<string, Section>();
    let xMin = Infinity;
    let xMax = -Infinity;
    for (const s of view.series) {
      for (const x of [...s.steps, ...s.evals.map((e) => e.step)]) {
        xMin = Math.min(xMin, x);
        xMax = Math.max(xMax, x);
      }
    }
    const xRange = Number.isFinite(xMin) ? { min: xMin, max: xMax } : null;
    for (const c of CHARTS) {
      let section = sections.get(c.section);
      if (!section) {
        section = new Section(c.section, c.section, true, () => undefined);
        sections.set(c.section, section);
        this.root.appendChild(section.root);
      }
      const card = new ChartCard(c.id, c.caption, c.describe);
      section.body.appendChild(card.root);
      const chart = new RunsChart(card.canvas, c.spec, this.palette, this.colors);
      chart.setRuns(view.series, labels, xRange);
      if (c.id === 'hyper')
        card.setSub(view.series.map((s, i) => `${runLetter(i)} ${s.hyperKind === 'delta' ? 'δ' : s.hyperKind === 'tau' ? 'τ' : '—'}`).join(' · '));
      if (c.id === 'eval' && !view.series.some((s) => s.evals.some((e) => typeof e.metrics['recall@10'] === 'number')))
        card.setPlaceholder('No evaluation in these runs');
      this.charts.set(c.id, { chart, card });
    }

    this.root.appendChild(this.configTable(view));
    this.root.appendChild(this.metricsTable(view));
    this.root.appendChild(this.failuresPart(view));
  }

  applyTheme(p: Palette): void {
    this.palette = p;
    this.charts.forEach((c) => c.chart.applyTheme(p));
    if (this.view)
      this.root.querySelectorAll<HTMLElement>('[data-run-swatch]').forEach((s) => (s.dataset.color = runStyle(p, Number(s.dataset.runSwatch)).color));
  }

  /** Chart id → lines and threshold lines drawn (for the debug hook). */
  charted(): Record<string, { lines: ChartedLine[]; thresholds: number[] }> {
    const out: Record<string, { lines: ChartedLine[]; thresholds: number[] }> = {};
    this.charts.forEach((c, id) => (out[id] = { lines: c.chart.charted(), thresholds: c.chart.thresholds() }));
    return out;
  }

  private runsLegend(view: ComparisonView): HTMLElement {
    const rows = view.runs.map((r, i) => {
      const swatch = el('span', { className: 'run-swatch', attrs: { 'data-run-swatch': String(i), 'aria-hidden': 'true' } });
      const name = el('button', { className: 'link', text: r.name, title: `Show ${r.dir} in the dashboard`, attrs: { type: 'button' } });
      name.addEventListener('click', () => this.post({ type: 'openRun', dir: r.dir }));
      const facts = `${r.id} · ${r.status} · step ${r.step}${r.totalSteps ? `/${r.totalSteps}` : ''}${r.backend ? ` · ${r.backend}` : ''}`;
      return el('li', { attrs: { 'data-run': String(i) } }, [
        swatch,
        el('span', { className: 'run-letter', text: runLetter(i) }),
        name,
        el('span', { className: 'muted', text: facts }),
        ...r.problems.map((p) => el('div', { className: 'problem', text: `⚠ ${p}` })),
      ]);
    });
    const refresh = el('button', {
      className: 'button',
      text: 'Refresh',
      title: 'Read the runs again (a run may still be training)',
      attrs: { type: 'button', 'data-role': 'refresh' },
    });
    refresh.addEventListener('click', () => this.post({ type: 'refresh' }));
    const list = el('ul', { className: 'runs-legend', attrs: { 'data-role': 'runs' } }, rows);
    queueMicrotask(() => this.colourSwatches());
    return el('div', { className: 'compare-header' }, [list, refresh]);
  }

  /** Swatch colours are set through the CSSOM (the CSP forbids inline style attributes). */
  private colourSwatches(): void {
    this.root.querySelectorAll<HTMLElement>('[data-run-swatch]').forEach((s) => {
      const st = runStyle(this.palette, Number(s.dataset.runSwatch));
      s.style.backgroundColor = st.color;
    });
  }

  private table(role: string, head: string[], rows: (string | HTMLElement)[][], rowAttrs?: (i: number) => Record<string, string>): HTMLTableElement {
    const th = el(
      'tr',
      {},
      head.map((h) => el('th', { text: h })),
    );
    const trs = rows.map((r, i) =>
      el(
        'tr',
        { attrs: rowAttrs?.(i) ?? {} },
        r.map((c) => (typeof c === 'string' ? el('td', { text: c }) : el('td', {}, [c]))),
      ),
    );
    return el('table', { className: 'grid', attrs: { 'data-role': role } }, [el('thead', {}, [th]), el('tbody', {}, trs)]);
  }

  private configTable(view: ComparisonView): HTMLElement {
    const s = new Section('config', `Config keys that differ (${view.configDifferences.length})`, true, () => undefined);
    const letters = view.runs.map((_, i) => runLetter(i));
    if (view.configDifferences.length === 0) s.body.appendChild(el('p', { className: 'muted', text: 'The configs are identical.' }));
    else
      s.body.appendChild(
        this.table(
          'config',
          ['key', ...letters],
          view.configDifferences.map((d) => [d.path, ...d.values]),
          (i) => ({ 'data-key': view.configDifferences[i].path }),
        ),
      );
    return s.root;
  }

  private metricsTable(view: ComparisonView): HTMLElement {
    const s = new Section('metrics', 'Final metrics', true, () => undefined);
    const letters = view.runs.map((_, i) => runLetter(i));
    const rows = view.metrics.map((m) => {
      const nums = m.values.filter((v): v is number => typeof v === 'number');
      const best = m.better && nums.length > 1 ? (m.better === 'higher' ? Math.max(...nums) : Math.min(...nums)) : null;
      return [
        m.label,
        ...m.values.map((v) => {
          const text = cellText(v);
          return best !== null && v === best && nums.some((x) => x !== best) ? el('strong', { text, title: `best (${m.better} is better)` }) : text;
        }),
      ];
    });
    s.body.appendChild(this.table('metrics', ['metric', ...letters], rows, (i) => ({ 'data-metric': view.metrics[i].key })));
    return s.root;
  }

  private failuresPart(view: ComparisonView): HTMLElement {
    const f = view.failures;
    const letters = view.runs.map((_, i) => runLetter(i));
    const s = new Section('failures', `Failing queries (${f.search === 'exact' ? 'exact search' : 'IVF-PQ search'})`, true, () => undefined);
    const totals = f.totals
      .map((t, i) => `${letters[i]}: ${t === null ? 'not evaluated' : `${t} failing${f.steps[i] !== null ? ` at step ${f.steps[i]}` : ''}`}`)
      .join(' · ');
    s.body.appendChild(el('p', { attrs: { 'data-role': 'failure-totals' }, text: totals }));
    const evaluated = f.evaluated.flatMap((e, i) => (e ? [i] : []));
    if (evaluated.length < 2) {
      s.body.appendChild(
        el('p', { className: 'muted', text: 'Fewer than two of these runs are evaluated: evaluate them to see which queries fail in one and not the other.' }),
      );
      return s.root;
    }
    s.body.appendChild(
      el('p', {
        attrs: { 'data-role': 'failure-counts' },
        text: `${evaluated.map((i) => `fail only in ${letters[i]}: ${f.onlyIn[i]}`).join(' · ')} · fail in all: ${f.inAll}${f.rowsLeftOut ? ` · ${f.rowsLeftOut} more not listed` : ''}`,
      }),
    );
    const rows = f.rows.map((r) => {
      const open = el('button', { className: 'link', text: shortPlace(r.file, r.line), title: `Open ${r.file}:${r.line}`, attrs: { type: 'button' } });
      open.addEventListener('click', () => this.post({ type: 'openLine', file: r.file, line: r.line }));
      const sides = r.runs.map((side, i) => (side ? `✗ rank ${side.rank ?? '>cutoff'} · ${side.label}` : f.evaluated[i] ? '✓' : '–'));
      return [open, r.queryId, r.query, ...sides];
    });
    s.body.appendChild(
      this.table('failures', ['data line', 'query id', 'query', ...letters], rows, (i) => ({
        'data-query': f.rows[i].queryId,
        'data-fails': f.rows[i].runs.map((x) => (x ? '1' : '0')).join(''),
      })),
    );
    for (const p of f.problems) s.body.appendChild(el('div', { className: 'problem', text: `⚠ ${p}` }));
    return s.root;
  }
}
