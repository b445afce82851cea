/**
 * The read-only debugging hook of the Experiments webview on `window.__rlensExperiments` (set by main.ts):
 * what is shown and what the charts draw, as fresh plain data, for tests and the webview developer tools.
 */
export interface ExperimentsDebugHook {
  /** Which view is shown ("compare", "sweep" or null), the status line and the malformed messages ignored. */
  state(): { view: string | null; status: string; malformed: string[] };
  /** Chart id → the lines drawn (run comparison). */
  compareCharts(): unknown;
  /** The sweep chart's points, error bars, reference band and BM25 line (data values and pixels). */
  sweepChart(): unknown;
}

declare global {
  interface Window {
    __rlensExperiments?: ExperimentsDebugHook;
  }
}
