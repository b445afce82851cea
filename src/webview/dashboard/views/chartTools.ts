/**
 * The tools in a chart's caption: log scale (refused, with the reason, while the chart shows a value
 * ≤ 0), export as PNG and export of the chart's exact data as CSV (both through the extension host's
 * save dialog).
 */
import { el } from '../../shared/dom';
import { formatTick } from '../../shared/chartSetup';

export interface ChartToolActions {
  /** Smallest value shown (null: none); a log scale needs it > 0. */
  minShown(): number | null;
  setLog(on: boolean): void;
  exportPng(): void;
  exportCsv(): void;
}

export class ChartTools {
  readonly root: HTMLElement;
  private readonly log: HTMLButtonElement;
  private on = false;

  constructor(private readonly a: ChartToolActions) {
    const button = (role: string, text: string, title: string, onClick: () => void) => {
      const b = el('button', { className: 'chart-tool', text, title, attrs: { type: 'button', 'data-role': role } });
      b.addEventListener('click', onClick);
      return b;
    };
    this.log = button('log-scale', 'log', 'Logarithmic y axis (values must be positive)', () => this.toggleLog());
    this.log.setAttribute('aria-pressed', 'false');
    this.root = el('span', { className: 'chart-tools' }, [
      this.log,
      button('export-png', 'PNG', 'Save the chart as a PNG image', () => a.exportPng()),
      button('export-csv', 'CSV', 'Save the chart’s data (every logged step, exact values) as CSV', () => a.exportCsv()),
    ]);
  }

  private toggleLog(): void {
    if (!this.on) {
      const min = this.a.minShown();
      if (min !== null && min <= 0) {
        this.log.dataset.refused = 'true';
        this.log.title = `Log scale needs positive values: this chart shows ${formatTick(min)}`;
        return;
      }
    }
    delete this.log.dataset.refused;
    this.log.title = 'Logarithmic y axis (values must be positive)';
    this.on = !this.on;
    this.log.setAttribute('aria-pressed', String(this.on));
    this.a.setLog(this.on);
  }
}
