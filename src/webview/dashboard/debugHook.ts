/**
 * A read-only debugging hook on `window.__rlensDashboard` for tests, benchmarks and the webview
 * developer tools: point counts per series (exact values held, display points after decimation,
 * points Chart.js holds), the newest values and the dashboard's state. Every call returns fresh
 * plain data; nothing here changes the dashboard.
 */
import type { ChartId } from './drilldown/drilldownView';
import type { DrawnThreshold } from './charts/seriesChart';
import type { Dashboard } from './dashboard';
import { ALL_SERIES, type SeriesId } from './data/seriesCatalog';

export interface SeriesCounts {
  /** Exact values held (one per logged step). */
  logged: number;
  /** Display points after decimation. */
  displayed: number;
  /** Points the chart currently holds (lags `displayed` for closed or offscreen charts). */
  charted: number | null;
  /** Raw points per decimation bucket (1 = exact). */
  bucketSize: number;
}

declare global {
  interface Window {
    /** The hook, on the dashboard page (set by main.ts). */
    __rlensDashboard?: DashboardDebugHook;
  }
}

export interface DashboardDebugHook {
  pointCounts(): Record<SeriesId, SeriesCounts> & { eval: { logged: number; charted: number } };
  /** The display points (after decimation) of a series. */
  displayPoints(id: SeriesId): { x: number; y: number | null }[];
  latest(): unknown;
  state(): unknown;
  /** The threshold lines a chart ("ratio", "itemCosine") drew: axis, value, label and pixel positions. */
  thresholdLines(chart: string): DrawnThreshold[] | null;
  /** Drill-down: the page position of data point (x, y) on a chart it listens to (drilldown/drilldownView.ts). */
  drilldownPixel(chart: ChartId, x: number, y: number): { x: number; y: number } | null;
  /** The evaluation chart: the metric shown and its lines (legend label, dash, colour, points). */
  evalChart(): { metric: string | null; lines: { label: string; dash: number[]; color: string; points: number; xs: number[] }[] };
  /** The label boxes (px) of a chart's threshold lines as drawn (null: no such chart). */
  labelBoxes(chart: string): { label: string; x: number; y: number; width: number; height: number; ownY: number }[] | null;
  /** The x axis of the step charts and the zoomed range (null: everything); the x range a chart draws. */
  xView(chart?: string): { mode: string; range: { min: number; max: number } | null; drawn: { min: number; max: number } | null };
  /** The points Chart.js holds for a series on a chart (zoomed: that range decimated afresh; null: not charted there). */
  chartedPoints(chart: string, id: SeriesId): { x: number; y: number | null }[] | null;
  /** Whether a chart's y axis is logarithmic (null: no such chart). */
  logScale(chart: string): boolean | null;
  /** The overlaid runs and the points each chart holds per overlaid run. */
  overlays(): { runs: { runDir: string; name: string; logged: number }[]; charts: Record<string, { label: string; points: number; last: number | null }[]> };
  /** The user's scalars: names seen, the one charted and the points Chart.js holds for it. */
  scalars(): { names: string[]; shown: string | null; charted: number };
}

export function makeDebugHook(d: Dashboard): DashboardDebugHook {
  return Object.freeze({
    pointCounts() {
      const out = {} as Record<SeriesId, SeriesCounts> & { eval: { logged: number; charted: number } };
      for (const id of ALL_SERIES) {
        const s = d.display.get(id);
        out[id] = { logged: d.store.column(id).length, displayed: s.displayCount, charted: d.charted(id), bucketSize: s.bucketSize };
      }
      out.eval = { logged: d.evaluations.reduce((n, e) => n + Object.keys(e.metrics).length, 0), charted: d.evalCharted() };
      return out;
    },
    displayPoints(id: SeriesId) {
      if (!(ALL_SERIES as readonly string[]).includes(id)) throw new Error(`unknown series ${JSON.stringify(id)}`);
      return d.display
        .get(id)
        .toArray()
        .map((p) => ({ ...p }));
    },
    latest() {
      const e = d.store.latest;
      return {
        step: e?.step ?? null,
        values: d.latestValues(),
        hyperKind: d.latestHyperKind(),
        verdict: d.currentVerdict,
        histogram: d.histogram(),
        eval: d.evaluations.length ? structuredClone(d.evaluations[d.evaluations.length - 1]) : null,
      };
    },
    drilldownPixel(chart: ChartId, x: number, y: number) {
      return d.drilldown.pixelOf(chart, x, y);
    },
    thresholdLines(chart: string) {
      return structuredClone(d.drawnThresholds(chart));
    },
    evalChart() {
      return structuredClone(d.evalChartState);
    },
    labelBoxes(chart: string) {
      return structuredClone(d.labelBoxes(chart));
    },
    chartedPoints(chart: string, id: SeriesId) {
      return d.chartedPoints(chart, id);
    },
    xView(chart = 'loss') {
      return structuredClone({ ...d.xView, drawn: d.drawnXRange(chart) });
    },
    logScale(chart: string) {
      return d.isLogScale(chart);
    },
    overlays() {
      return structuredClone(d.overlayState());
    },
    scalars() {
      const p = d.scalarsPanel;
      return { names: d.scalars.names, shown: p?.shown ?? null, charted: p?.chartedPoints() ?? 0 };
    },
    state() {
      const p = d.themePalette;
      return structuredClone({
        run: d.currentRun,
        verdict: d.currentVerdict,
        quality: d.currentQuality,
        loggedSteps: d.store.length,
        evaluations: d.evaluations.length,
        malformed: d.malformed,
        stopping: d.isStopping,
        smoothing: d.store.smoothing,
        renderPending: d.renderPending,
        stats: d.stats,
        theme: p,
      });
    },
  });
}
