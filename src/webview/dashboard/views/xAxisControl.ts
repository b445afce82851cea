/** The x axis of the step charts (step / wall time) and, while zoomed, a button to show everything again. */
import { el } from '../../shared/dom';
import type { XAxisMode } from '../data/xAxis';

export class XAxisControl {
  readonly root: HTMLElement;
  private readonly select: HTMLSelectElement;
  private readonly reset: HTMLButtonElement;

  constructor(onMode: (mode: XAxisMode) => void, onReset: () => void) {
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
    this.root = el('div', { className: 'chart-toolbar', attrs: { 'data-role': 'chart-toolbar' } }, [
      el('label', { className: 'x-axis-label' }, [el('span', { text: 'x axis' }), this.select]),
      this.reset,
      el('span', { className: 'chart-hint', text: 'wheel: zoom · drag: pan · double-click: all' }),
    ]);
  }

  render(mode: XAxisMode, zoomed: boolean): void {
    if (this.select.value !== mode) this.select.value = mode;
    this.reset.hidden = !zoomed;
  }
}
