/**
 * The verdict timeline band under the collapse charts: one coloured segment per run of logged steps
 * with the same verdict state, placed on the same step axis as the charts, with the state, the
 * step range and the reason on hover (title) and for screen readers (aria-label).
 */
import type { VerdictSegment } from '../data/stepStore';
import { el } from '../../shared/dom';
import { VERDICT_LABEL } from './verdictBadge';

export class VerdictBand {
  readonly root = el('figure', { className: 'chart-card verdict-band-card', attrs: { 'data-chart': 'verdictBand' } });
  private readonly band = el('div', {
    className: 'verdict-band',
    attrs: { role: 'list', 'aria-label': 'Collapse verdict per logged step', 'data-role': 'verdict-band' },
  });
  private key = '';

  constructor() {
    this.root.append(
      el('figcaption', { title: 'The collapse verdict of every logged step (rules: docs/diagnostics.md); hover a segment for its reason' }, [
        el('span', { className: 'chart-title', text: 'Verdict timeline' }),
      ]),
      this.band,
    );
  }

  /** Draws the segments over the steps xRange (the charts' x axis). */
  render(segments: readonly VerdictSegment[], xRange: { min: number; max: number } | null): void {
    const last = segments.at(-1);
    const key = `${segments.length}|${last?.to}|${last?.lastReason}|${xRange?.min}|${xRange?.max}`;
    if (key === this.key) return;
    this.key = key;
    if (!xRange || segments.length === 0) {
      this.band.replaceChildren();
      return;
    }
    const span = Math.max(xRange.max - xRange.min, 1);
    const pct = (step: number) => (100 * (Math.min(Math.max(step, xRange.min), xRange.max) - xRange.min)) / span;
    this.band.replaceChildren(
      ...segments.map((s, k) => {
        // A segment reaches the next one's first step, so the band has no holes between logged steps.
        const end = k + 1 < segments.length ? segments[k + 1].from : s.to;
        const left = pct(s.from);
        const width = Math.max(pct(end) - left, 0.4);
        const label = `${VERDICT_LABEL[s.state]}, steps ${s.from}–${s.to}: ${s.lastReason}`;
        const seg = el('div', {
          className: `verdict-segment verdict-${s.state}`,
          attrs: { role: 'listitem', title: label, 'aria-label': label, 'data-state': s.state, 'data-from': String(s.from), 'data-to': String(s.to) },
        });
        // CSSOM, not a style attribute: the webview's CSP has no 'unsafe-inline' for styles.
        seg.style.left = `${left}%`;
        seg.style.width = `${width}%`;
        return seg;
      }),
    );
  }
}
