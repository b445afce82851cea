/** TensorBoard-like smoothing slider (EMA weight 0 … 0.99) for the loss chart. */
import { el } from '../../shared/dom';

export class SmoothingControl {
  readonly root: HTMLElement;
  private readonly input: HTMLInputElement;
  private readonly output: HTMLOutputElement;

  constructor(value: number, onChange: (weight: number) => void) {
    this.input = el('input', { attrs: { type: 'range', min: '0', max: '0.99', step: '0.01', 'aria-label': 'Loss smoothing', 'data-role': 'smoothing' } });
    this.input.value = String(value);
    this.output = el('output', { text: value.toFixed(2) });
    this.root = el('label', { className: 'smoothing', title: 'Exponential moving average weight, as in TensorBoard (0 = raw values)' }, [
      el('span', { text: 'Smoothing' }),
      this.input,
      this.output,
    ]);
    this.input.addEventListener('input', () => {
      const w = Math.min(0.99, Math.max(0, Number(this.input.value)));
      this.output.textContent = w.toFixed(2);
      onChange(w);
    });
  }
}
