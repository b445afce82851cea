/**
 * What every step chart of the dashboard offers beside its picture: the caption tools (log scale, PNG, CSV;
 * views/chartTools.ts) and zoom / pan on the view's shared x range (shared/zoomPan.ts).
 */
import type { ChartCard } from '../../shared/section';
import { attachZoomPan } from '../../shared/zoomPan';
import { ChartTools } from '../views/chartTools';
import type { ChartPanel, PanelHooks } from './panels';
import type { SeriesChart } from './seriesChart';

/** `name()` names the exported file; `csv()` is the chart's data as CSV (null: nothing to export). */
export function attachChartInteraction(
  panel: ChartPanel,
  card: ChartCard,
  chart: SeriesChart,
  hooks: PanelHooks,
  name: () => string,
  csv: () => string | null,
): void {
  card.addCaptionTool(
    new ChartTools({
      minShown: () => chart.minCharted(),
      setLog: (on) => {
        chart.setLogScale(on);
        hooks.redraw(panel);
      },
      exportPng: () => hooks.exportChart('png', name(), chart.chart.toBase64Image('image/png')),
      exportCsv: () => {
        const text = csv();
        if (text !== null) hooks.exportChart('csv', name(), text);
      },
    }).root,
  );
  attachZoomPan(() => chart.chart, hooks.shownRange, hooks.setRange);
}
