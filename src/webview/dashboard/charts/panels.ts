/**
 * The dashboard's sections and chart panels: what each chart shows, with which colours and
 * threshold lines. The lines are the collapse verdict's rules (docs/diagnostics.md) with the run's
 * own thresholds (`diagnostics.collapse.*` of its config, defaults for the rest), never copied
 * numbers, each drawn against the axis of the quantity it bounds.
 */
import type { DisplaySeries } from '../data/displaySeries';
import { hyperOf, type HyperKind, type SeriesId } from '../data/seriesCatalog';
import type { StepStore } from '../data/stepStore';
import { formatTick } from '../../shared/chartSetup';
import type { EvalPoint } from '../protocol';
import type { ColorResolver, Palette } from '../../shared/theme';
import { ChartCard, Section } from '../../shared/section';
import { el } from '../../shared/dom';
import { VerdictBand } from '../views/verdictBand';
import { EVAL_SEARCHES, EvalChart, evalMetricNames, shownMetric } from './evalChart';
import { LearnedPanel } from './learnedChart';
import { HistogramChart } from './histogramChart';
import type { CollapseReference } from '../data/stepStore';
import { SeriesChart, type DrawnThreshold, type SeriesChartSpec, type ThresholdSpec } from './seriesChart';
import { EFFECTIVE_RANK, GRAD_NORM, LEARNING_RATE, STEPS_PER_SEC, TRAINING_CARDS } from './trainingCharts';
import { attachChartInteraction } from './chartInteraction';
import { seriesCsv } from '../data/csvExport';
import type { XMap } from '../data/xAxis';
import type { XRange } from '../../shared/zoomPan';
import type { ScalarStore } from '../data/scalarStore';
import type { OverlayRun } from '../data/overlayRuns';
import { ScalarsPanel } from './scalarsPanel';

/** What a panel draws from. */
export interface DrawContext {
  store: StepStore;
  evals: readonly EvalPoint[];
  /** Steps shown on every step axis (so stacked charts line up); null before the first step. */
  xRange: { min: number; max: number } | null;
  /** x of the step charts: null for steps, else the map of a step to its x (wall time); xRange is in that unit. */
  xMap?: XMap | null;
  /** The range in steps for the charts that always use steps (evaluation, verdict band). */
  stepRange?: { min: number; max: number } | null;
  /** Runs overlaid on the per-step charts. */
  overlays?: readonly OverlayRun[];
  /** On a wall-time axis: an evaluation's x (its own time, else its step's); the evaluation chart then uses xRange. */
  evalX?: ((p: EvalPoint) => number) | null;
}

/** What panels ask of the view: a redraw of one panel, an export through the host, the shared x range. */
export interface PanelHooks {
  redraw(panel: ChartPanel): void;
  exportChart(format: 'png' | 'csv', name: string, data: string): void;
  /** The x range drawn now (null before any step). */
  shownRange(): XRange | null;
  /** Asks for a new x range of every step chart (null: everything). */
  setRange(r: XRange | null): void;
}

export interface ChartPanel {
  readonly id: string;
  /** The panel's element (a ChartCard, or the verdict band's figure): drawn only while visible. */
  readonly card: { readonly root: HTMLElement };
  readonly section: Section;
  draw(ctx: DrawContext): void;
  applyTheme(p: Palette): void;
  /** Points Chart.js holds for a series, when this panel charts it. */
  charted(id: SeriesId): number | null;
  /** The threshold lines as drawn (charts with lines only). */
  drawnThresholds?(): DrawnThreshold[];
}

/** "τ", "δ" or "δ / τ" for the kinds seen. */
export function hyperSymbol(kinds: ReadonlySet<HyperKind>): string {
  if (kinds.size === 1) return kinds.has('tau') ? 'τ' : 'δ';
  return 'δ / τ';
}

/** Section title naming which adaptive hyper-parameter the run has. */
export function hyperSectionTitle(kinds: ReadonlySet<HyperKind>): string {
  if (kinds.size === 0) return 'Adaptive δ / τ';
  if (kinds.size === 2) return 'Adaptive δ and τ';
  return kinds.has('tau') ? 'Adaptive τ · softmax loss (δ not used)' : 'Adaptive δ · margin loss (τ not used)';
}

const HYPER_BANDS: SeriesChartSpec = {
  overlay: 'hyper.p50',
  axes: [{ id: 'y', position: 'left' }],
  lines: [
    { series: 'hyper.p95', label: 'p05–p95', color: 'blue', alpha: 0, fill: { to: 'hyper.p05', alpha: 0.16 } },
    { series: 'hyper.p05', label: 'p05', color: 'blue', alpha: 0, legend: false },
    { series: 'hyper.p75', label: 'p25–p75', color: 'blue', alpha: 0, fill: { to: 'hyper.p25', alpha: 0.32 } },
    { series: 'hyper.p25', label: 'p25', color: 'blue', alpha: 0, legend: false },
    { series: 'hyper.p50', label: 'median', color: 'blue' },
  ],
};

const SIMILARITY: SeriesChartSpec = {
  overlay: 'sim.vneg',
  axes: [{ id: 'y', position: 'left', suggestedMin: -0.2, suggestedMax: 1 }],
  lines: [
    { series: 'sim.qv.p95', label: 's(q,v) p05–p95', color: 'green', alpha: 0, fill: { to: 'sim.qv.p05', alpha: 0.16 } },
    { series: 'sim.qv.p05', label: 's(q,v) p05', color: 'green', alpha: 0, legend: false },
    { series: 'sim.vneg.p95', label: 's(v,v⁻) p05–p95', color: 'red', alpha: 0, fill: { to: 'sim.vneg.p05', alpha: 0.16 } },
    { series: 'sim.vneg.p05', label: 's(v,v⁻) p05', color: 'red', alpha: 0, legend: false },
    { series: 'sim.qv', label: 'mean s(q,v)', color: 'green' },
    { series: 'sim.vneg', label: 'mean s(v,v⁻)', color: 'red' },
  ],
};

const RATIO_VIOLATION: SeriesChartSpec = {
  overlay: 'collapse.ratio',
  axes: [
    { id: 'y', position: 'left', title: 'R' },
    { id: 'y1', position: 'right', title: 'violation rate', min: 0, max: 1 },
  ],
  lines: [
    { series: 'collapse.ratio', label: 'R', color: 'blue', axis: 'y' },
    { series: 'collapse.violationRate', label: 'violation rate', color: 'orange', axis: 'y1' },
    { series: 'falseNegatives.share', label: 'suspected false negatives (share)', color: 'red', axis: 'y1' },
  ],
};

/**
 * R's lines on the left axis (R = 1, separation at `separatedRatio`) and, once R has separated,
 * the violation rate's warning level on the right axis: best since separation + `violationRise`
 * (the verdict's rule), from the separation step on. Labels name their quantity and sit next to
 * their axis.
 */
export function ratioThresholds(ref: CollapseReference): ThresholdSpec[] {
  const t = ref.thresholds;
  const out: ThresholdSpec[] = [
    { axis: 'y', value: 1, label: 'R = 1', color: 'red' },
    { axis: 'y', value: t.separatedRatio, label: `R separated ≥ ${formatTick(t.separatedRatio)}`, color: 'green' },
  ];
  if (ref.separatedStep !== null && ref.bestViolationRate !== null) {
    const level = ref.bestViolationRate + t.violationRise;
    if (level <= 1) {
      out.push({
        axis: 'y1',
        value: level,
        label: `violation rate warning ≥ ${formatTick(level)} (best ${formatTick(ref.bestViolationRate)} + ${formatTick(t.violationRise)})`,
        color: 'orange',
        from: ref.separatedStep,
      });
    }
  }
  return out;
}

const ITEM_COSINE: SeriesChartSpec = {
  overlay: 'collapse.itemCosine',
  axes: [{ id: 'y', position: 'left', suggestedMin: 0, suggestedMax: 1 }],
  lines: [{ series: 'collapse.itemCosine', label: 'item–item cosine', color: 'purple' }],
};

/** The item cosine above which (with R < 1) a step shows the collapse signature. */
function itemCosineThresholds(ref: CollapseReference): ThresholdSpec[] {
  const v = ref.thresholds.collapsedItemCosine;
  return [{ axis: 'y', value: v, label: `collapse signature > ${formatTick(v)}`, color: 'red' }];
}

const LOSS: SeriesChartSpec = {
  overlay: 'loss.total.smoothed',
  axes: [{ id: 'y', position: 'left' }],
  lines: [
    { series: 'loss.total', label: 'total (raw)', color: 'blue', alpha: 0.28, legend: false },
    { series: 'loss.q', label: 'query part (raw)', color: 'green', alpha: 0.28, legend: false },
    { series: 'loss.sym', label: 'symmetric part, unweighted (raw)', color: 'purple', alpha: 0.28, legend: false },
    { series: 'loss.total.smoothed', label: 'total = query + w·symmetric', color: 'blue' },
    { series: 'loss.q.smoothed', label: 'query part', color: 'green' },
    { series: 'loss.sym.smoothed', label: 'symmetric part (before × w)', color: 'purple' },
  ],
};

const RECALL: SeriesChartSpec = {
  overlay: 'recall.at10',
  axes: [{ id: 'y', position: 'left', min: 0, max: 1 }],
  lines: [
    { series: 'recall.at1', label: '@1', color: 'blue' },
    { series: 'recall.at5', label: '@5', color: 'green' },
    { series: 'recall.at10', label: '@10', color: 'orange' },
  ],
};

/**
 * A panel around a SeriesChart; `caption` may add a dynamic subtitle. Its caption tools: log scale, PNG
 * and CSV export; its x axis zooms and pans with every step chart (PanelHooks).
 */
export class SeriesPanel implements ChartPanel {
  readonly chart: SeriesChart;
  private last: DrawContext | null = null;
  private readonly overlaySeries: SeriesId | null;

  constructor(
    readonly id: string,
    readonly section: Section,
    readonly card: ChartCard,
    spec: SeriesChartSpec,
    display: DisplaySeries,
    palette: Palette,
    colors: ColorResolver,
    private readonly caption?: (ctx: DrawContext) => string,
    private readonly thresholds?: (ref: CollapseReference) => ThresholdSpec[],
    hooks?: PanelHooks,
  ) {
    this.chart = new SeriesChart(card.canvas, spec, display, palette, colors);
    this.overlaySeries = spec.overlay ?? null;
    if (hooks) {
      attachChartInteraction(
        this,
        card,
        this.chart,
        hooks,
        () => id,
        () => {
          const store = this.last?.store;
          if (!store) return null;
          const cols = spec.lines.flatMap((l) => (l.series.startsWith('scalars/') ? [] : [{ label: l.label, values: store.column(l.series as SeriesId) }]));
          return seriesCsv(store.steps, store.times, cols);
        },
      );
    }
  }

  draw(ctx: DrawContext): void {
    this.last = ctx;
    if (this.caption) this.card.setSub(this.caption(ctx));
    if (this.thresholds) this.chart.setThresholds(this.thresholds(ctx.store.collapseReference));
    const over = this.overlaySeries;
    if (over) {
      this.chart.setOverlays(
        (ctx.overlays ?? []).map((r) => ({ key: r.runDir, label: r.name, series: r.display.get(over), toX: (step: number) => r.wallTime.toX(step) })),
      );
    }
    this.chart.refresh(ctx.xRange, ctx.xMap ?? null);
  }

  /** Label boxes of the threshold lines as drawn. */
  labelBoxes(): { label: string; x: number; y: number; width: number; height: number; ownY: number }[] {
    return this.chart.drawnLabelBoxes();
  }

  drawnThresholds(): DrawnThreshold[] {
    return this.chart.drawnThresholds();
  }

  applyTheme(p: Palette): void {
    this.chart.applyTheme(p);
  }

  charted(id: SeriesId): number | null {
    return this.chart.chartedCount(id);
  }
}

/** The verdict timeline band (views/verdictBand.ts) as a panel of the collapse section. */
export class VerdictBandPanel implements ChartPanel {
  readonly id = 'verdictBand';
  readonly band = new VerdictBand();
  readonly card = this.band;

  constructor(readonly section: Section) {
    section.body.appendChild(this.band.root);
  }

  draw(ctx: DrawContext): void {
    this.band.render(ctx.store.verdictSegments, ctx.stepRange === undefined ? ctx.xRange : ctx.stepRange);
  }

  applyTheme(): void {}

  charted(): number | null {
    return null;
  }
}

export class HistogramPanel implements ChartPanel {
  readonly id = 'hyperHist';
  readonly chart: HistogramChart;
  private symbol = 'τ';

  constructor(
    readonly section: Section,
    readonly card: ChartCard,
    palette: Palette,
    colors: ColorResolver,
  ) {
    this.chart = new HistogramChart(card.canvas, palette, colors, () => this.symbol);
  }

  draw(ctx: DrawContext): void {
    const e = ctx.store.latest;
    const h = e ? hyperOf(e) : null;
    this.symbol = h?.kind === 'delta' ? 'δ' : 'τ';
    this.chart.show(e?.step ?? -1, h?.dist ?? null);
    this.card.setPlaceholder(e && !h ? 'no δ or τ distribution in this step' : null);
    this.card.setSub(h && e ? `step ${e.step} · ${h.dist.hist.counts.length} bins over [${formatTick(h.dist.hist.lo)}, ${formatTick(h.dist.hist.hi)}]` : '');
  }

  applyTheme(p: Palette): void {
    this.chart.applyTheme(p);
  }

  charted(): number | null {
    return null;
  }
}

/** Labels of the searches in the latest-values table. */
const TABLE_SEARCHES = EVAL_SEARCHES.map((x) => ({ prefix: x.prefix, label: x.label }));

export class EvalPanel implements ChartPanel {
  readonly id = 'eval';
  readonly chart: EvalChart;
  private shown: readonly EvalPoint[] | null = null;
  private drawnMetric: string | null = null;
  /** The x of the evaluations drawn (null: their steps). */
  private drawnX: ((p: EvalPoint) => number) | null = null;
  /** The metric the user chose in the selector (null: the default, recall@10). */
  private chosen: string | null = null;
  private readonly select = el('select', { className: 'eval-metric', attrs: { 'data-role': 'eval-metric', 'aria-label': 'Metric shown' } });
  private readonly table = el('table', { className: 'eval-latest', attrs: { 'data-role': 'eval-latest' } });

  constructor(
    readonly section: Section,
    readonly card: ChartCard,
    palette: Palette,
    colors: ColorResolver,
  ) {
    this.chart = new EvalChart(card.canvas, palette, colors);
    card.addCaptionTool(this.select);
    card.setAside(this.table);
    this.select.hidden = true;
    this.table.hidden = true;
    this.select.addEventListener('change', () => {
      this.chosen = this.select.value;
      if (this.shown) this.render(this.shown, null);
    });
  }

  /** The metric charted now. */
  get metric(): string | null {
    return this.drawnMetric;
  }

  draw(ctx: DrawContext): void {
    const evalX = ctx.evalX ?? null;
    this.render(ctx.evals, evalX || ctx.stepRange === undefined ? ctx.xRange : ctx.stepRange, evalX);
  }

  private render(evals: readonly EvalPoint[], xRange: { min: number; max: number } | null, evalX: ((p: EvalPoint) => number) | null = this.drawnX): void {
    const metric = shownMetric(evals, this.chosen);
    if (this.shown !== evals || this.drawnMetric !== metric || this.drawnX !== evalX) {
      this.chart.setPoints(evals, metric, evalX);
      this.drawnX = evalX;
      this.shown = evals;
      this.drawnMetric = metric;
      this.renderSelect(evalMetricNames(evals), metric);
      this.renderTable(evals[evals.length - 1] ?? null, metric);
    }
    this.card.setPlaceholder(metric === null ? 'No evaluation yet' : null);
    const last = evals[evals.length - 1];
    this.card.setSub(last ? `step ${last.step}${last.heldOut ? ` · held-out: ${last.heldOut}` : ''}` : '');
    if (xRange) this.chart.refresh(xRange);
    else this.chart.chart.update('none');
  }

  private renderSelect(names: string[], metric: string | null): void {
    this.select.hidden = names.length === 0;
    const have = [...this.select.options].map((o) => o.value);
    if (have.join('|') !== names.join('|')) this.select.replaceChildren(...names.map((n) => el('option', { text: n, attrs: { value: n } })));
    if (metric !== null && this.select.value !== metric) this.select.value = metric;
  }

  /** The latest evaluation's values: a row per metric, a column per search that ran; the charted metric marked. */
  private renderTable(last: EvalPoint | null, metric: string | null): void {
    const searches = last ? TABLE_SEARCHES.filter((x) => evalMetricNames([last]).some((m) => typeof last.metrics[`${x.prefix}${m}`] === 'number')) : [];
    this.table.hidden = searches.length === 0;
    if (!last || searches.length === 0) return this.table.replaceChildren();
    const head = el('tr', {}, [el('th', { text: `step ${last.step}` }), ...searches.map((x) => el('th', { text: x.label }))]);
    const rows = evalMetricNames([last]).map((m) =>
      el('tr', { className: m === metric ? 'shown' : '', attrs: { 'data-metric': m } }, [
        el('th', { text: m }),
        ...searches.map((x) => {
          const v = last.metrics[`${x.prefix}${m}`];
          return el('td', { text: typeof v === 'number' ? v.toFixed(3) : '–' });
        }),
      ]),
    );
    this.table.replaceChildren(el('thead', {}, [head]), el('tbody', {}, rows));
  }

  applyTheme(p: Palette): void {
    this.chart.applyTheme(p);
  }

  /** Charts no step series (its points: `chart.pointCount()`). */
  charted(): number | null {
    return null;
  }
}

/** The sections in display order and the panels in them. */
export interface Layout {
  sections: Section[];
  panels: ChartPanel[];
  hyperSection: Section;
  lossSection: Section;
  histogramPanel: HistogramPanel;
  evalPanel: EvalPanel;
  scalarsPanel: ScalarsPanel | null;
  learnedPanel: LearnedPanel;
}

/** Builds the sections into `parent` (before the charts, so they are created attached and sized). */
export function buildLayout(
  parent: HTMLElement,
  display: DisplaySeries,
  palette: Palette,
  colors: ColorResolver,
  closed: ReadonlySet<string>,
  onToggle: (section: string, open: boolean) => void,
  hooks?: PanelHooks,
  scalars?: ScalarStore,
): Layout {
  const section = (id: string, title: string) => new Section(id, title, !closed.has(id), (open) => onToggle(id, open));
  // Collapse first (under the verdict badge): in a short sidebar view the verdict and R are what
  // shows without scrolling; then δ / τ, loss and retrieval.
  const collapse = section('collapse', 'Collapse');
  const hyper = section('hyper', 'Adaptive δ / τ');
  const loss = section('loss', 'Loss');
  const retrieval = section('retrieval', 'Retrieval');
  const training = section('training', 'Optimiser and speed');
  const userScalars = section('scalars', 'Your scalars');
  const sections = [collapse, hyper, loss, retrieval, training, userScalars];
  for (const s of sections) parent.appendChild(s.root);

  const card = (s: Section, id: string, caption: string, describe: string) => {
    const c = new ChartCard(id, caption, describe);
    s.body.appendChild(c.root);
    return c;
  };
  const hyperBandsCard = card(
    hyper,
    'hyperBands',
    'Distribution over steps',
    'Per-step distribution of the adaptive δ_ji / τ_ji over valid pairs: p05–p95 and p25–p75 bands and the median',
  );
  const histCard = card(hyper, 'hyperHist', 'Histogram, newest step', '32-bin histogram of the newest logged step over its fixed range hist.lo..hi');
  const ratioCard = card(
    collapse,
    'ratio',
    'Ratio R and violation rate',
    'R = (1 − mean s(v,v⁻)) / (1 − mean s(q,v)) on the left axis: above 1 queries sit closer to their positives than items to each other, → 0 as items collapse. Violation rate = share of pairs with s(q,v) ≤ s(v,v⁻) on the right axis (0–1), with its warning level once R has separated: the best violation rate since separation + diagnostics.collapse.violationRise. Suspected false negatives: their share of the valid negatives, right axis (step samples; click a point for the pairs)',
  );
  const simCard = card(
    collapse,
    'similarity',
    's(q,v) vs s(v,v⁻)',
    'mean s(q,v) over the batch pairs and mean s(v,v⁻) over valid negatives, each with its p05–p95 band: healthy training lifts s(q,v) above s(v,v⁻); collapse pushes s(v,v⁻) towards 1',
  );
  const cosineCard = card(
    collapse,
    'itemCosine',
    'Item–item cosine',
    'Mean cosine among the batch positives; above the line with R < 1 is the collapse signature (the verdict also watches its rise from the best value)',
  );
  const lossCard = card(
    loss,
    'loss',
    'Loss',
    'Total loss = query→item part + w · symmetric item→query part (w: loss.symmetricWeight); the symmetric part is drawn unweighted, before × w (faint: raw; solid: smoothed)',
  );
  const recallCard = card(retrieval, 'recall', 'In-batch recall@k', 'Share of pairs whose positive ranks in the top k among the batch candidates');
  const evalCard = card(
    retrieval,
    'eval',
    'Evaluation',
    'One metric of the evaluations after a step (the selector picks it): exact search, IVF-PQ and BM25; during training, the live held-out sample with BM25 on it as the reference',
  );

  const rankCard = card(collapse, 'effectiveRank', ...TRAINING_CARDS.effectiveRank);
  const gradCard = card(training, 'gradNorm', ...TRAINING_CARDS.gradNorm);
  const lrCard = card(training, 'lr', ...TRAINING_CARDS.lr);
  const speedCard = card(training, 'stepsPerSec', ...TRAINING_CARDS.stepsPerSec);
  const series = (
    id: string,
    s: Section,
    c: ChartCard,
    spec: SeriesChartSpec,
    caption?: (ctx: DrawContext) => string,
    th?: (ref: CollapseReference) => ThresholdSpec[],
  ) => new SeriesPanel(id, s, c, spec, display, palette, colors, caption, th, hooks);

  const learnedCard = card(
    hyper,
    'learned',
    'Learned α / δ₀ / τ₀',
    'The learned hyper-parameters (loss.trainable) after each logged step, each with its floor dotted',
  );
  const learnedPanel = new LearnedPanel(hyper, learnedCard, palette);
  const evalPanel = new EvalPanel(retrieval, evalCard, palette, colors);
  const histogramPanel = new HistogramPanel(hyper, histCard, palette, colors);
  const panels: ChartPanel[] = [
    series(
      'ratio',
      collapse,
      ratioCard,
      RATIO_VIOLATION,
      (ctx) => {
        const r = ctx.store.column('collapse.ratio').last();
        return ctx.store.length > 0 && Number.isNaN(r) ? 'R undefined now (1 − mean s(q,v) ≈ 0)' : 'R: left axis · violation rate: right axis';
      },
      ratioThresholds,
    ),
    series('similarity', collapse, simCard, SIMILARITY),
    series('itemCosine', collapse, cosineCard, ITEM_COSINE, undefined, itemCosineThresholds),
    series('effectiveRank', collapse, rankCard, EFFECTIVE_RANK),
    new VerdictBandPanel(collapse),
    series('hyperBands', hyper, hyperBandsCard, HYPER_BANDS, (ctx) => `${hyperSymbol(ctx.store.hyperKinds)} · p05–p95, p25–p75, median`),
    histogramPanel,
    learnedPanel,
    series('loss', loss, lossCard, LOSS, (ctx) => `EMA ${ctx.store.smoothing.toFixed(2)} · symmetric part drawn unweighted`),
    series('recall', retrieval, recallCard, RECALL),
    evalPanel,
    series('gradNorm', training, gradCard, GRAD_NORM),
    series('lr', training, lrCard, LEARNING_RATE),
    series('stepsPerSec', training, speedCard, STEPS_PER_SEC),
  ];
  const scalarsPanel =
    scalars && hooks
      ? new ScalarsPanel(
          userScalars,
          card(userScalars, 'scalars', 'Scalars', 'The numbers your own training loop logged with retrieval_lens.Lens.log_scalars (a selector picks the name)'),
          scalars,
          palette,
          colors,
          hooks,
        )
      : null;
  if (scalarsPanel) panels.push(scalarsPanel);
  return { sections, panels, hyperSection: hyper, lossSection: loss, histogramPanel, evalPanel, scalarsPanel, learnedPanel };
}
