/** The collapse verdict badge: state (initialising … collapsed, docs/diagnostics.md), its reason and the step. */
import type { CollapseVerdict } from '../../../core/metrics/types';
import { codicon, el } from '../../shared/dom';

/** The verdict shown, with the logged step it belongs to. */
export interface ShownVerdict extends CollapseVerdict {
  step: number;
}

const ICON: Record<CollapseVerdict['state'], string> = {
  initialising: 'loading',
  healthy: 'pass',
  warning: 'warning',
  collapsing: 'arrow-down',
  collapsed: 'error',
  'never-separated': 'circle-slash',
};
/** Labels of the states, as shown in the badge and the verdict band. */
export const VERDICT_LABEL: Record<CollapseVerdict['state'], string> = {
  initialising: 'Initialising',
  healthy: 'Healthy',
  warning: 'Warning',
  collapsing: 'Collapsing',
  collapsed: 'Collapsed',
  'never-separated': 'Never separated',
};
const LABEL = VERDICT_LABEL;

export class VerdictBadge {
  readonly root = el('div', { className: 'verdict verdict-none', attrs: { role: 'status', 'aria-live': 'polite', 'data-role': 'verdict' } });
  private key = '';

  render(v: ShownVerdict | null): void {
    const key = v ? `${v.state}|${v.reason}|${v.step}` : '';
    if (key === this.key) return;
    this.key = key;
    this.root.className = `verdict verdict-${v?.state ?? 'none'}`;
    this.root.hidden = v === null;
    if (!v) return this.root.replaceChildren();
    this.root.replaceChildren(
      codicon(ICON[v.state]),
      el('span', { className: 'verdict-state', text: LABEL[v.state], attrs: { 'data-role': 'verdict-state' } }),
      el('span', { className: 'verdict-reason', text: v.reason, attrs: { 'data-role': 'verdict-reason' } }),
      el('span', { className: 'verdict-step', text: `step ${v.step}` }),
    );
    this.root.title = `Collapse verdict at step ${v.step}: ${LABEL[v.state]} — ${v.reason} (rules: docs/diagnostics.md)`;
  }
}
