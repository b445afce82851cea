/**
 * The dashboard controller: validates every incoming message, keeps the run's exact values
 * (StepStore) and their decimated display versions (DisplaySeries), and redraws the header, the
 * verdict badge and the visible charts once per animation frame. Handling a message costs
 * O(new steps) (validation, column appends, decimation of the open buckets), independent of the
 * history length; a frame costs O(display points) ≤ ~2k per series.
 */
import { registerChartParts } from '../shared/chartSetup';
import type { HistogramShown } from './charts/histogramChart';
import { buildLayout, hyperSectionTitle, type ChartPanel, type DrawContext, type Layout } from './charts/panels';
import type { DrawnThreshold } from './charts/seriesChart';
import { DisplaySeries } from './data/displaySeries';
import { ALL_SERIES, hyperOf, type SeriesId } from './data/seriesCatalog';
import { StepStore } from './data/stepStore';
import { ScalarStore } from './data/scalarStore';
import { OverlayRuns } from './data/overlayRuns';
import type { ScalarsPanel } from './charts/scalarsPanel';
import { secondsLeft, stepsPerSecond } from './data/throughput';
import { ChartPacer } from './chartPacer';
import { FrameScheduler, VisibilityTracker } from './frameScheduler';
import { parseToDashboard, type EvalPoint, type RunHeader, type ScalarPoint, type StepEvent, type ToDashboard } from './protocol';
import { SNAPSHOT_VERSION, type Snapshot } from './snapshot';
import { ColorResolver, readPalette, watchTheme, type Palette } from '../shared/theme';
import type { Host } from './vscodeApi';
import { el, setText } from '../shared/dom';
import { HeaderView } from './views/headerView';
import { MalformedNote } from './views/malformedNote';
import { SmoothingControl } from './views/smoothingControl';
import { VerdictBadge, type ShownVerdict } from './views/verdictBadge';
import { QualityBadge, type ShownQuality } from './views/qualityBadge';
import { XAxisControl } from './views/xAxisControl';
import { WallTimeMap, type XAxisMode } from './data/xAxis';
import { clampRange, type XRange } from '../shared/zoomPan';
import { Drilldown } from './drilldown/drilldownView';

/** How long the Stop button stays in "stopping" without the run ending before it is enabled again. */
const STOP_RETRY_MS = 15_000;
/** Chart redraw passes start at most this often (ms). */
const CHART_INTERVAL_MS = 200;
/** Drawing time per animation frame for charts (ms); the rest of a pass goes to the next frames. */
const CHART_FRAME_BUDGET_MS = 3;
/** The snapshot is saved at once when the run or verdict changes, else (a new step) at most this often. */
const SNAPSHOT_INTERVAL_MS = 1_000;

/** Counters and timings for the debug hook and the benchmark. */
export interface DashboardStats {
  messages: number;
  frames: number;
  lastHandleMs: number;
  maxHandleMs: number;
  lastFrameMs: number;
  /** Milliseconds of each chart's last redraw. */
  panelMs: Record<string, number>;
}

export class Dashboard {
  readonly store = new StepStore();
  /** The user's own scalars (`scalars` events). */
  readonly scalars = new ScalarStore();
  /** Runs overlaid on the per-step charts. */
  readonly overlays = new OverlayRuns();
  readonly display: DisplaySeries;
  private evals: EvalPoint[] = [];
  private run: RunHeader | null = null;
  private verdict: ShownVerdict | null = null;
  /** Newest step known before any step arrived (from the snapshot). */
  private snapshotStep: number | null = null;
  private resetSeen = false;
  private stopping = false;
  private stopTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly closedSections: Set<string>;
  private readonly dirty = new Set<ChartPanel>();
  private headerDirty = true;
  private palette: Palette;
  private readonly colors: ColorResolver;
  private readonly header: HeaderView;
  private readonly badge = new VerdictBadge();
  private readonly qualityBadge: QualityBadge;
  /** The quality verdict of the latest evaluation that has one (live held-out evaluation). */
  private quality: ShownQuality | null = null;
  private readonly note = new MalformedNote();
  private readonly empty = el('div', { className: 'empty-state', attrs: { 'data-role': 'empty' } });
  private readonly sectionsRoot = el('div', { className: 'sections' });
  private readonly layout: Layout;
  private readonly frames: FrameScheduler;
  private readonly pacer: ChartPacer;
  private snapshotKey = '';
  private snapshotAt = -Infinity;
  private readonly visibility: VisibilityTracker;
  /** x axis of the step charts, and the zoomed range in its unit (null: everything). */
  private xMode: XAxisMode = 'step';
  private view: XRange | null = null;
  private readonly wallTime: WallTimeMap;
  /** An evaluation's x on the wall-time axis: its own time, else its step's (one function, so charts see no change). */
  private readonly evalWallX = (p: EvalPoint): number =>
    (p.time !== undefined ? this.wallTime.secondsAt(Date.parse(p.time)) : null) ?? this.wallTime.toX(p.step);
  private readonly xControl: XAxisControl;
  /** Chart → pairs drill-down and the suspected false negatives notice (drilldown/). */
  readonly drilldown: Drilldown;
  readonly stats: DashboardStats = { messages: 0, frames: 0, lastHandleMs: 0, maxHandleMs: 0, lastFrameMs: 0, panelMs: {} };

  constructor(
    root: HTMLElement,
    private readonly host: Host,
  ) {
    registerChartParts();
    const snap = host.loadSnapshot();
    this.closedSections = new Set(snap?.closedSections ?? []);
    if (snap) {
      this.run = snap.run;
      this.verdict = snap.verdict;
      this.snapshotStep = snap.step;
      this.store.setSmoothing(snap.smoothing);
    }
    this.colors = new ColorResolver(document);
    this.palette = readPalette(document, this.colors);
    this.display = new DisplaySeries(this.store);
    this.wallTime = new WallTimeMap(this.store.steps, this.store.times);
    this.xControl = new XAxisControl(
      (mode) => this.setXMode(mode),
      () => this.setView(null),
      () => host.post({ type: 'pickOverlay' }),
    );
    this.header = new HeaderView({
      stop: () => this.requestStop(),
      openLog: () => host.post({ type: 'openLog' }),
      evaluate: () => host.post({ type: 'evaluate' }),
    });
    this.qualityBadge = new QualityBadge((remedy) => host.post({ type: 'qualityRemedy', remedy }));
    this.drilldown = new Drilldown((m) => host.post(m));
    root.append(
      this.header.root,
      this.badge.root,
      this.qualityBadge.root,
      this.drilldown.notice,
      this.note.root,
      this.empty,
      this.xControl.root,
      this.drilldown.root,
      this.sectionsRoot,
    );
    this.frames = new FrameScheduler(() => this.drawFrame());
    this.pacer = new ChartPacer(CHART_INTERVAL_MS, CHART_FRAME_BUDGET_MS, () => this.frames.request());
    this.visibility = new VisibilityTracker(() => this.frames.request());
    this.layout = buildLayout(
      this.sectionsRoot,
      this.display,
      this.palette,
      this.colors,
      this.closedSections,
      (id, open) => this.onSectionToggle(id, open),
      {
        redraw: (p) => {
          this.dirty.add(p);
          this.frames.request();
        },
        exportChart: (format, name, data) => host.post({ type: 'exportChart', format, name: `${this.run?.name ?? 'run'}-${name}`, data }),
        shownRange: () => this.view ?? this.fullRange(),
        setRange: (r) => this.setView(r),
      },
      this.scalars,
    );
    this.layout.lossSection.tools.appendChild(new SmoothingControl(this.store.smoothing, (w) => this.setSmoothing(w)).root);
    for (const p of this.layout.panels) this.visibility.observe(p.card.root);
    this.drilldown.attach(this.sectionsRoot);
    watchTheme(document, () => this.onThemeChange());
    this.markAllDirty();
    this.drawFrame();
  }

  /** Entry point for every `message` event: validates, applies, schedules a redraw. */
  handleMessage(data: unknown): void {
    const t0 = performance.now();
    this.stats.messages++;
    const parsed = parseToDashboard(data);
    if (!parsed.ok) {
      this.note.add(parsed.reason);
    } else {
      this.apply(parsed.value);
    }
    const ms = performance.now() - t0;
    this.stats.lastHandleMs = ms;
    if (ms > this.stats.maxHandleMs) this.stats.maxHandleMs = ms;
  }

  /** A frame is scheduled or visible charts still wait for their redraw. */
  get renderPending(): boolean {
    return this.frames.pending || this.pacer.busy;
  }

  get malformed(): { count: number; lastReason: string } {
    return this.note.ignored;
  }

  get currentRun(): RunHeader | null {
    return this.run;
  }

  get currentVerdict(): ShownVerdict | null {
    return this.verdict;
  }

  get currentQuality(): ShownQuality | null {
    return this.quality;
  }

  /** The metric of the evaluation chart and its lines (label, dash, colour, points). */
  get evalChartState(): { metric: string | null; lines: { label: string; dash: number[]; color: string; points: number; xs: number[] }[] } {
    return { metric: this.layout.evalPanel.metric, lines: this.layout.evalPanel.chart.lines() };
  }

  get evaluations(): readonly EvalPoint[] {
    return this.evals;
  }

  get isStopping(): boolean {
    return this.stopping;
  }

  get themePalette(): Palette {
    return this.palette;
  }

  /** Points Chart.js holds for a series (null when no chart shows it). */
  charted(id: SeriesId): number | null {
    for (const p of this.layout.panels) {
      const n = p.charted(id);
      if (n !== null) return n;
    }
    return null;
  }

  /** Points of the evaluation chart. */
  /** The threshold lines a chart drew (null for an unknown chart or one without lines). */
  drawnThresholds(panelId: string): DrawnThreshold[] | null {
    return this.layout.panels.find((p) => p.id === panelId)?.drawnThresholds?.() ?? null;
  }

  evalCharted(): number {
    return this.layout.evalPanel.chart.pointCount();
  }

  /** What the histogram shows. */
  histogram(): HistogramShown | null {
    return this.layout.histogramPanel.chart.current;
  }

  private apply(m: ToDashboard): void {
    switch (m.type) {
      case 'reset':
        this.onReset(m.run, m.steps, m.evals);
        this.scalars.clear();
        this.onScalars(m.scalars ?? []);
        break;
      case 'steps':
        this.onSteps(m.steps);
        break;
      case 'status':
        this.onStatus(m.run);
        break;
      case 'eval':
        this.onEval(m.point);
        break;
      case 'scalars':
        this.onScalars(m.points);
        break;
      case 'overlay': {
        const problem = this.overlays.apply(m.runDir, m.name, m.reset, m.steps);
        if (problem) this.note.add(problem);
        this.markAllDirty();
        break;
      }
      case 'overlayRemove':
        if (this.overlays.remove(m.runDir)) this.markAllDirty();
        break;
      case 'pairTexts':
        this.drilldown.texts(m.requestId, m.texts);
        break;
    }
  }

  private onReset(run: RunHeader | null, steps: StepEvent[], evals: EvalPoint[]): void {
    if (run === null || this.run === null || run.runDir !== this.run.runDir || run.status !== 'running') this.clearStopping();
    this.resetSeen = true;
    this.run = run;
    this.snapshotStep = null;
    this.store.clear();
    this.wallTime.forget();
    this.view = null;
    this.store.setCollapseThresholds(run?.collapseThresholds ?? {});
    this.store.append(steps);
    this.layout.learnedPanel.clear();
    this.layout.learnedPanel.append(steps);
    this.drilldown.reset(steps);
    this.display.rebuild();
    this.evals = [];
    for (const e of evals) this.insertEval(e);
    this.quality = this.latestQuality();
    this.verdict = this.latestVerdict();
    this.markAllDirty();
  }

  private onSteps(steps: StepEvent[]): void {
    this.layout.learnedPanel.append(steps);
    if (this.store.append(steps) === 0) return;
    this.drilldown.append(steps);
    this.display.sync();
    this.verdict = this.latestVerdict();
    this.markAllDirty();
  }

  private onScalars(points: readonly ScalarPoint[]): void {
    this.scalars.append(points);
    const p = this.layout.scalarsPanel;
    if (!p) return;
    this.dirty.add(p);
    this.frames.request();
  }

  private onStatus(run: RunHeader): void {
    this.run = run;
    if (run.status !== 'running') this.clearStopping();
    this.headerDirty = true;
    this.frames.request();
  }

  private onEval(point: EvalPoint): void {
    this.insertEval(point);
    this.evals = [...this.evals];
    this.quality = this.latestQuality();
    this.headerDirty = true;
    this.dirty.add(this.layout.evalPanel);
    this.frames.request();
  }

  /** Inserts in step order; an evaluation of the same step replaces the earlier one. */
  private insertEval(point: EvalPoint): void {
    const i = this.evals.findIndex((e) => e.step >= point.step);
    if (i < 0) this.evals.push(point);
    else if (this.evals[i].step === point.step) this.evals[i] = point;
    else this.evals.splice(i, 0, point);
  }

  private latestQuality(): ShownQuality | null {
    for (let i = this.evals.length - 1; i >= 0; i--) {
      const q = this.evals[i].quality;
      if (q) return { ...q, step: this.evals[i].step };
    }
    return null;
  }

  private latestVerdict(): ShownVerdict | null {
    const e = this.store.latest;
    return e ? { state: e.verdict.state, reason: e.verdict.reason, step: e.step } : null;
  }

  private requestStop(): void {
    if (this.run?.status !== 'running' || this.stopping) return;
    this.host.post({ type: 'stop' });
    this.stopping = true;
    this.stopTimer = setTimeout(() => {
      this.stopping = false;
      this.headerDirty = true;
      this.frames.request();
    }, STOP_RETRY_MS);
    this.headerDirty = true;
    this.drawFrame();
  }

  private clearStopping(): void {
    this.stopping = false;
    if (this.stopTimer !== null) clearTimeout(this.stopTimer);
    this.stopTimer = null;
  }

  private setSmoothing(weight: number): void {
    this.store.setSmoothing(weight);
    this.display.rebuild(ALL_SERIES.filter((id) => id.endsWith('.smoothed')));
    this.markAllDirty();
  }

  private onSectionToggle(id: string, open: boolean): void {
    if (open) this.closedSections.delete(id);
    else this.closedSections.add(id);
    this.headerDirty = true;
    this.frames.request();
  }

  private onThemeChange(): void {
    this.palette = readPalette(document, this.colors);
    for (const p of this.layout.panels) p.applyTheme(this.palette);
    this.markAllDirty();
  }

  private markAllDirty(): void {
    for (const p of this.layout.panels) this.dirty.add(p);
    this.headerDirty = true;
    this.frames.request();
  }

  /** One frame: header, badge and empty state; then the charts that are due (paced, see ChartPacer). */
  private drawFrame(): void {
    const t0 = performance.now();
    this.stats.frames++;
    if (this.headerDirty) {
      this.headerDirty = false;
      this.drawHeader();
      this.saveSnapshot();
    }
    const n = this.store.length;
    this.empty.hidden = n > 0;
    // While hidden, every chart was reported offscreen: forget that when showing them again.
    if (this.sectionsRoot.hidden && n > 0) this.visibility.forget();
    this.sectionsRoot.hidden = n === 0;
    if (n > 0) {
      this.layout.hyperSection.setTitle(hyperSectionTitle(this.store.hyperKinds));
      const steps = { min: this.store.steps.get(0), max: this.store.steps.last() };
      const full = this.fullRange()!;
      const view = this.view ? clampRange(this.view, full, 0) : null;
      const ctx: DrawContext = {
        store: this.store,
        evals: this.evals,
        xRange: view ?? full,
        xMap: this.xMode === 'time' ? this.wallTime : null,
        // the verdict band is on steps: zoomed with the step charts on a step axis; evaluations follow the x axis
        stepRange: this.xMode === 'step' ? (view ?? steps) : steps,
        evalX: this.xMode === 'time' ? this.evalWallX : null,
        overlays: this.overlays.list,
      };
      this.xControl.render(
        this.xMode,
        view !== null,
        ctx.overlays!.map((r) => r.name),
      );
      const due = this.layout.panels.filter((p) => this.dirty.has(p) && p.section.root.open && this.visibility.isVisible(p.card.root));
      this.pacer.run(due, (p) => {
        const tp = performance.now();
        p.draw(ctx);
        this.stats.panelMs[p.id] = performance.now() - tp;
        this.dirty.delete(p);
      });
    }
    this.stats.lastFrameMs = performance.now() - t0;
  }

  /** Everything logged, in the unit of the x axis (null before the first step). */
  private fullRange(): XRange | null {
    const n = this.store.length;
    if (n === 0) return null;
    const min = this.store.steps.get(0);
    const max = this.store.steps.last();
    return this.xMode === 'time' ? { min: this.wallTime.toX(min), max: this.wallTime.toX(max) } : { min, max };
  }

  private setXMode(mode: XAxisMode): void {
    if (mode === this.xMode) return;
    this.xMode = mode;
    this.view = null;
    this.markAllDirty();
  }

  /** Zooms / pans every step chart to `r` (kept inside what is logged; null: everything). */
  private setView(r: XRange | null): void {
    const full = this.fullRange();
    const next = r && full ? clampRange(r, full, this.xMode === 'step' ? 2 : 0.001) : null;
    if (JSON.stringify(next) === JSON.stringify(this.view)) return;
    this.view = next;
    this.markAllDirty();
  }

  /** The x axis mode and the zoomed range (null: everything). */
  get xView(): { mode: XAxisMode; range: XRange | null } {
    return { mode: this.xMode, range: this.view };
  }

  /** Label boxes of a chart's threshold lines as drawn (null: no such chart). */
  labelBoxes(panelId: string): { label: string; x: number; y: number; width: number; height: number; ownY: number }[] | null {
    const p = this.layout.panels.find((q) => q.id === panelId) as
      { labelBoxes?: () => { label: string; x: number; y: number; width: number; height: number; ownY: number }[] } | undefined;
    return p?.labelBoxes?.() ?? null;
  }

  /** The points Chart.js holds for a series on a chart (null: no such chart, or the chart has no such line). */
  chartedPoints(panelId: string, id: SeriesId): { x: number; y: number | null }[] | null {
    const p = this.layout.panels.find((q) => q.id === panelId) as
      { chart?: { chartedPoints?: (id: SeriesId) => { x: number; y: number | null }[] | null } } | undefined;
    return p?.chart?.chartedPoints?.(id) ?? null;
  }

  /** The x range a chart's x axis shows now (null: no such chart or not drawn yet). */
  drawnXRange(panelId: string): { min: number; max: number } | null {
    const p = this.layout.panels.find((q) => q.id === panelId) as { chart?: { chart?: { scales?: Record<string, { min: number; max: number }> } } } | undefined;
    const x = p?.chart?.chart?.scales?.x;
    return x ? { min: x.min, max: x.max } : null;
  }

  get scalarsPanel(): ScalarsPanel | null {
    return this.layout.scalarsPanel;
  }

  /** The overlaid runs (steps held) and the points each chart holds per overlaid run. */
  overlayState(): {
    runs: { runDir: string; name: string; logged: number }[];
    charts: Record<string, { label: string; points: number; last: number | null }[]>;
  } {
    const charts: Record<string, { label: string; points: number; last: number | null }[]> = {};
    for (const p of this.layout.panels) {
      const c = (p as { chart?: { overlayCounts?: () => { label: string; points: number; last: number | null }[] } }).chart;
      if (c?.overlayCounts) charts[p.id] = c.overlayCounts();
    }
    return { runs: this.overlays.list.map((r) => ({ runDir: r.runDir, name: r.name, logged: r.store.length })), charts };
  }

  /** Whether a chart's y axis is logarithmic (null: no such chart). */
  isLogScale(panelId: string): boolean | null {
    const p = this.layout.panels.find((q) => q.id === panelId) as { chart?: { isLog?: boolean } } | undefined;
    return typeof p?.chart?.isLog === 'boolean' ? p.chart.isLog : null;
  }

  private drawHeader(): void {
    const last = this.store.lastStep();
    const step = Math.max(last ?? -1, this.run?.step ?? -1, this.snapshotStep ?? -1);
    const rate = stepsPerSecond(this.store.steps, this.store.times);
    this.header.render({
      run: this.run,
      step: step < 0 ? null : step,
      stepsPerSec: rate,
      etaSeconds: secondsLeft(step, this.run?.totalSteps ?? null, rate),
      stopping: this.stopping,
    });
    this.badge.render(this.verdict);
    this.qualityBadge.render(this.quality);
    setText(
      this.empty,
      this.run === null && this.resetSeen
        ? 'No run to show. Start training a *.rlens.json experiment, or open a run from the Runs view.'
        : this.resetSeen
          ? 'Waiting for the first logged step…'
          : 'Loading the run history…',
    );
  }

  private saveSnapshot(): void {
    const s: Snapshot = {
      v: SNAPSHOT_VERSION,
      run: this.run,
      verdict: this.verdict,
      step: this.store.lastStep() ?? this.snapshotStep,
      smoothing: this.store.smoothing,
      closedSections: [...this.closedSections],
    };
    const key = JSON.stringify({ ...s, step: null });
    const now = performance.now();
    if (key === this.snapshotKey && now - this.snapshotAt < SNAPSHOT_INTERVAL_MS) return;
    this.snapshotKey = key;
    this.snapshotAt = now;
    this.host.saveSnapshot(s);
  }

  /** Values of every series at the newest step (null when missing). */
  latestValues(): Record<SeriesId, number | null> {
    const out = {} as Record<SeriesId, number | null>;
    for (const id of ALL_SERIES) {
      const v = this.store.column(id).last();
      out[id] = Number.isNaN(v) ? null : v;
    }
    return out;
  }

  /** Kind of the newest step's hyper-parameter distribution. */
  latestHyperKind(): 'delta' | 'tau' | null {
    const e = this.store.latest;
    return e ? (hyperOf(e)?.kind ?? null) : null;
  }
}
