/**
 * The toolbar above the charts: the x axis of the step charts (step / wall time), while zoomed a button to
 * show everything again, and "Overlay runs…" with the names of the runs overlaid.
 */
import { el } from '../../shared/dom';
import type { XAxisMode } from '../data/xAxis';

export class XAxisControl {
  readonly root: HTMLElement;
  private readonly select: HTMLSelectElement;
  private readonly reset: HTMLButtonElement;
  private readonly overlaid = el('span', { className: 'chart-hint', attrs: { 'data-role': 'overlaid-runs' } });

  constructor(onMode: (mode: XAxisMode) => void, onReset: () => void, onOverlay: () => void) {
    this.select = el('select', { className: 'x-axis', attrs: { 'data-role': 'x-axis', 'aria-label': 'x axis of the step charts' } }, [
      el('option', { text: 'step', attrs: { value: 'step' } }),
      el('option', { text: 'wall time', attrs: { value: 'time' } }),
    ]);
    this.select.addEventListener('change', () => onMode(this.select.value === 'time' ? 'time' : 'step'));
    this.reset = el('button', {
      className: 'chart-tool',
      text: 'Show all',
      title: 'Zoom out to every logged step (or double-click a chart)',
      attrs: { type: 'button', 'data-role': 'zoom-reset' },
    });
    this.reset.hidden = true;
    this.reset.addEventListener('click', onReset);
    const overlay = el('button', {
      className: 'chart-tool',
      text: 'Overlay runs…',
      title: 'Draw up to 5 other runs on the per-step charts, live',
      attrs: { type: 'button', 'data-role': 'overlay-pick' },
    });
    overlay.addEventListener('click', onOverlay);
    this.root = el('div', { className: 'chart-toolbar', attrs: { 'data-role': 'chart-toolbar' } }, [
      overlay,
      this.overlaid,
      el('label', { className: 'x-axis-label' }, [el('span', { text: 'x axis' }), this.select]),
      this.reset,
      el('span', { className: 'chart-hint', text: 'wheel: zoom · drag: pan · double-click: all' }),
    ]);
  }

  render(mode: XAxisMode, zoomed: boolean, overlaid: readonly string[]): void {
    if (this.select.value !== mode) this.select.value = mode;
    this.reset.hidden = !zoomed;
    const text = overlaid.length ? `overlaid: ${overlaid.join(', ')}` : '';
    if (this.overlaid.textContent !== text) this.overlaid.textContent = text;
  }
}
