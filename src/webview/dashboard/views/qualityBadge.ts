/**
 * The quality verdict badge, beside the collapse verdict: is the model getting good at the real task, against
 * BM25 on the same held-out sample (src/core/quality/qualityVerdict.ts)? State, reason naming the values, the
 * evaluation's step, and one button per remedy: each asks the extension to make that one config edit (undoable),
 * computed from the run's config as it is now (a remedy that would change nothing is not offered there).
 */
import type { QualityRemedyId, QualityVerdict } from '../../../core/quality/qualityVerdict';
import { codicon, el } from '../../shared/dom';

/** The verdict shown, with the evaluation step it belongs to. */
export interface ShownQuality extends QualityVerdict {
  step: number;
}

const ICON: Record<QualityVerdict['state'], string> = {
  measuring: 'loading',
  learning: 'arrow-up',
  plateau: 'dash',
  saturated: 'warning',
  'below-lexical': 'arrow-down',
};
export const QUALITY_LABEL: Record<QualityVerdict['state'], string> = {
  measuring: 'Measuring',
  learning: 'Learning',
  plateau: 'Plateau',
  saturated: 'In-batch task saturated',
  'below-lexical': 'Below the lexical baseline',
};
const REMEDY_LABEL: Record<QualityRemedyId, string> = {
  'hard-negatives': 'Harder negatives',
  'larger-batch': 'Larger batch',
  'more-steps': 'More steps',
};

export class QualityBadge {
  readonly root = el('div', { className: 'verdict quality quality-none', attrs: { role: 'status', 'aria-live': 'polite', 'data-role': 'quality' } });
  private key = '';

  constructor(private readonly onRemedy: (id: QualityRemedyId) => void) {}

  render(q: ShownQuality | null): void {
    const key = q ? `${q.state}|${q.reason}|${q.step}|${q.remedies.join(',')}` : '';
    if (key === this.key) return;
    this.key = key;
    this.root.className = `verdict quality quality-${q?.state ?? 'none'}`;
    this.root.hidden = q === null;
    if (!q) return this.root.replaceChildren();
    const remedies = q.remedies.map((id) => {
      const b = el('button', { className: 'quality-remedy', text: REMEDY_LABEL[id], attrs: { type: 'button', 'data-remedy': id } });
      b.title = `Edit the run's config: ${REMEDY_LABEL[id].toLowerCase()} (one undoable edit; train again to apply)`;
      b.addEventListener('click', () => this.onRemedy(id));
      return b;
    });
    this.root.replaceChildren(
      codicon(ICON[q.state]),
      el('span', { className: 'verdict-state', text: QUALITY_LABEL[q.state], attrs: { 'data-role': 'quality-state' } }),
      el('span', { className: 'verdict-reason', text: q.reason, attrs: { 'data-role': 'quality-reason' } }),
      el('span', { className: 'verdict-step', text: `step ${q.step}` }),
      ...(remedies.length ? [el('span', { className: 'quality-remedies' }, remedies)] : []),
    );
    this.root.title = `Quality verdict at step ${q.step}: ${QUALITY_LABEL[q.state]} — ${q.reason} (rules: src/core/quality/qualityVerdict.ts)`;
  }
}
