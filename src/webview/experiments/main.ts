/**
 * Entry point of the Experiments webview bundle (media/experiments.js): the run comparison and the sweep
 * result view. Validates every message from the extension (protocol.ts), shows the view it carries,
 * follows the VS Code theme, exposes a read-only debug hook (`window.__rlensExperiments`: what the charts
 * draw, for tests) and posts `ready`.
 */
import { registerChartParts } from '../shared/chartSetup';
import { ColorResolver, readPalette, watchTheme } from '../shared/theme';
import { el, setText } from '../shared/dom';
import { CompareView } from './compareView';
import { parseToExperiments, type FromExperiments } from './protocol';
import { SweepView } from './sweepView';
import type { ExperimentsDebugHook } from './debugHook';
import { vscodeApi } from '../shared/vscodeApi';

function main(): void {
  const root = document.getElementById('rlens-experiments');
  if (!root) throw new Error('experiments: #rlens-experiments is missing from the page');
  const api = vscodeApi<FromExperiments>();
  const post = (m: FromExperiments) => api.postMessage(m);
  registerChartParts();
  const colors = new ColorResolver(document);
  let palette = readPalette(document, colors);
  const status = el('div', { className: 'status-line', attrs: { 'data-role': 'status', role: 'status' } });
  root.appendChild(status);
  let compare: CompareView | null = null;
  let sweep: SweepView | null = null;
  let shown: string | null = null;
  const malformed: string[] = [];

  window.addEventListener('message', (event: MessageEvent) => {
    const r = parseToExperiments(event.data);
    if (!r.ok) {
      malformed.push(r.reason);
      setText(status, `${malformed.length} malformed message${malformed.length === 1 ? '' : 's'} ignored (${r.reason})`);
      return;
    }
    const m = r.value;
    if (m.type === 'status') return setText(status, m.text);
    setText(status, '');
    if (m.type === 'compare') {
      sweep?.root.remove();
      sweep = null;
      compare ??= new CompareView(root, palette, colors, post);
      compare.show(m.view);
      // what the extension needs to bring the comparison back after a window reload (its panel serializer)
      api.setState({ compare: m.view.runs.map((r) => r.dir) });
    } else {
      compare?.root.remove();
      compare = null;
      sweep ??= new SweepView(root, palette, colors, post);
      sweep.show(m.view);
    }
    shown = m.type;
  });
  watchTheme(document, () => {
    palette = readPalette(document, colors);
    compare?.applyTheme(palette);
    sweep?.applyTheme(palette);
  });
  Object.defineProperty(window, '__rlensExperiments', {
    value: Object.freeze({
      state: () => ({ view: shown, status: status.textContent ?? '', malformed: [...malformed] }),
      compareCharts: () => structuredClone(compare?.charted() ?? null),
      sweepChart: () => structuredClone(sweep?.charted() ?? null),
    } satisfies ExperimentsDebugHook),
    writable: false,
    configurable: false,
  });
  post({ type: 'ready' });
}

main();
