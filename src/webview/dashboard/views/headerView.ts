/**
 * The run header: name, status, backend, step / total, steps/s, ETA, a progress bar and the
 * actions (Evaluate, Log, Stop). Stop is enabled only while the run is running and no stop is pending.
 */
import { formatDuration, formatInt, formatRate } from '../format';
import type { RunHeader, RunHeaderStatus } from '../protocol';
import { codicon, el, setText } from '../../shared/dom';

export interface HeaderModel {
  run: RunHeader | null;
  /** Newest step known (max of the header's and the newest logged step's). */
  step: number | null;
  stepsPerSec: number | null;
  etaSeconds: number | null;
  /** A stop was requested and the run has not ended yet. */
  stopping: boolean;
}

export interface HeaderActions {
  stop(): void;
  openLog(): void;
  evaluate(): void;
}

const STATUS_ICON: Record<RunHeaderStatus, string> = {
  running: 'sync codicon-modifier-spin',
  completed: 'pass',
  stopped: 'debug-stop',
  failed: 'error',
  crashed: 'warning',
  unknown: 'question',
};

/** A small icon-only toolbar button. */
function iconButton(icon: string, label: string, onClick: () => void): HTMLButtonElement {
  const b = el('button', { className: 'icon-button', title: label, attrs: { type: 'button', 'aria-label': label } }, [codicon(icon)]);
  b.addEventListener('click', onClick);
  return b;
}

export class HeaderView {
  readonly root: HTMLElement;
  private readonly name = el('h1', { className: 'run-name', attrs: { 'data-role': 'run-name' } });
  private readonly status = el('span', { className: 'status', attrs: { 'data-role': 'run-status' } });
  private readonly backend = el('span', { className: 'fact', title: 'compute backend', attrs: { 'data-role': 'run-backend' } });
  private readonly step = el('span', { className: 'fact', attrs: { 'data-role': 'run-step' } });
  private readonly rate = el('span', { className: 'fact', attrs: { 'data-role': 'run-rate' } });
  private readonly eta = el('span', { className: 'fact', attrs: { 'data-role': 'run-eta' } });
  private readonly progress = el('progress', { className: 'run-progress', attrs: { max: '1', value: '0', 'aria-label': 'training progress' } });
  readonly stopButton: HTMLButtonElement;
  private readonly evaluateButton: HTMLButtonElement;
  private readonly logButton: HTMLButtonElement;

  constructor(actions: HeaderActions) {
    this.stopButton = el('button', { className: 'button stop-button', attrs: { type: 'button', 'data-role': 'stop' } }, [
      codicon('debug-stop'),
      el('span', { text: 'Stop' }),
    ]);
    this.stopButton.addEventListener('click', () => {
      if (!this.stopButton.disabled) actions.stop();
    });
    this.evaluateButton = iconButton('beaker', 'Evaluate this run', actions.evaluate);
    this.logButton = iconButton('output', 'Show the Retrieval Lens log', actions.openLog);
    this.root = el('header', { className: 'run-header' }, [
      el('div', { className: 'title-row' }, [this.name, el('div', { className: 'actions' }, [this.evaluateButton, this.logButton, this.stopButton])]),
      el('div', { className: 'facts' }, [this.status, this.backend, this.step, this.rate, this.eta]),
      this.progress,
    ]);
  }

  private statusKey = '';

  render(m: HeaderModel): void {
    const run = m.run;
    setText(this.name, run ? run.name : 'No run');
    const nameTitle = run
      ? [run.runDir, run.configPath ? `config: ${run.configPath}` : '', run.startedAt ? `started ${run.startedAt}` : ''].filter(Boolean).join('\n')
      : '';
    if (this.name.title !== nameTitle) this.name.title = nameTitle;
    const statusKey = `${run?.status}|${run?.statusText}|${m.stopping}`;
    if (statusKey !== this.statusKey) {
      this.statusKey = statusKey;
      this.status.replaceChildren();
      this.status.className = `status status-${run?.status ?? 'none'}`;
      if (run)
        this.status.append(
          codicon(STATUS_ICON[run.status]),
          el('span', { text: m.stopping && run.status === 'running' ? 'stopping…' : (run.statusText ?? run.status) }),
        );
    }
    setText(this.backend, run?.backend ?? '');
    this.backend.hidden = !run?.backend;
    const step = m.step ?? run?.step ?? null;
    const total = run?.totalSteps ?? null;
    setText(this.step, step === null ? '' : total !== null ? `step ${formatInt(step)} / ${formatInt(total)}` : `step ${formatInt(step)}`);
    this.step.hidden = step === null;
    setText(this.rate, m.stepsPerSec === null ? '' : formatRate(m.stepsPerSec));
    this.rate.hidden = m.stepsPerSec === null;
    const running = run?.status === 'running';
    // A stalled run has no ETA: its rate is that of steps no longer coming.
    const stalled = run?.statusText !== undefined;
    setText(this.eta, running && !stalled && m.etaSeconds !== null ? `ETA ${formatDuration(m.etaSeconds)}` : '');
    this.eta.hidden = !(running && !stalled && m.etaSeconds !== null);
    this.progress.hidden = !(step !== null && total !== null && total > 0);
    if (total !== null && total > 0 && step !== null) {
      this.progress.max = total;
      this.progress.value = Math.min(step, total);
    }
    this.stopButton.disabled = !running || m.stopping;
    const stopTitle = running
      ? m.stopping
        ? 'Stop requested: finishing the current step'
        : 'Stop after the current step (writes the last checkpoint)'
      : 'The run is not running';
    if (this.stopButton.title !== stopTitle) this.stopButton.title = stopTitle;
    this.evaluateButton.disabled = run === null;
    this.logButton.disabled = false;
  }
}
