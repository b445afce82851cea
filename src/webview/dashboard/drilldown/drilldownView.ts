/**
 * The drill-down (issue 25): a click on a bin of the δ/τ histogram, a band of the distribution-over-steps chart or a
 * point of the R / violation-rate chart lists the sampled pairs behind it at that step (pairSelection.ts): query,
 * positive and negative — their texts read on demand from their data lines by the extension (`pairTexts`), the
 * words shared with the positive marked — with s(q,v), s(q,v⁻), s(v,v⁻), δ/τ and why each pair was sampled; Enter
 * or a click on a location opens that training line (`openLine`). Keyboard: the three charts take focus (Enter
 * opens their pairs at the newest step), ↑/↓ move between pairs, Escape closes. It also shows the suspected false
 * negatives notice, with the config edit that masks same-text negatives. Hooked into the charts only through
 * their canvases (`[data-chart=…] canvas`) and Chart.js's `Chart.getChart`.
 */
import { Chart } from 'chart.js';
import type { StepSampleRow } from '../../../core/metrics/stepSamples';
import { el } from '../../shared/dom';
import type { FromDashboard, PairTextRef, StepEvent } from '../protocol';
import {
  bandSelection,
  binAt,
  falseNegativeSelection,
  highlightRuns,
  SampleStore,
  stepSelection,
  wordsOf,
  type PairSelection,
  type SampledStep,
} from './pairSelection';

/** Share of a step's valid negatives suspected false negatives at which the notice shows (docs/diagnostics.md). */
export const FN_NOTICE_SHARE = 0.02;

const REASON_LABEL: Record<string, string> = {
  hard: 'hardest negative',
  violation: 'violation',
  falseNegative: 'suspected false negative',
  lowHyper: 'lowest δ/τ',
  highHyper: 'highest δ/τ',
  random: 'random',
};

const fmt = (x: number | null) => (x === null ? '–' : x.toFixed(3));
const base = (file: string) => file.split(/[\\/]/).pop() ?? file;

/** Chart ids the drill-down listens to, and what a click on each selects. */
export const CHARTS = ['hyperHist', 'hyperBands', 'ratio'] as const;
export type ChartId = (typeof CHARTS)[number];

export class Drilldown {
  readonly root = el('section', { className: 'drilldown', attrs: { 'data-role': 'drilldown', hidden: '' } });
  readonly notice = el('div', { className: 'fn-notice', attrs: { 'data-role': 'fn-notice', hidden: '' } });
  readonly store = new SampleStore();
  private selection: PairSelection | null = null;
  private requestId = 0;
  private pending: { id: number; refs: PairTextRef[]; cells: HTMLElement[] } | null = null;
  private opener: HTMLElement | null = null;
  private readonly canvases = new Map<ChartId, HTMLCanvasElement>();

  constructor(private readonly post: (m: FromDashboard) => void) {
    this.root.addEventListener('keydown', (e) => this.onKey(e));
  }

  /** Listens to the charts' canvases under `parent`. */
  attach(parent: HTMLElement): void {
    for (const id of CHARTS) {
      const canvas = parent.querySelector<HTMLCanvasElement>(`[data-chart="${id}"] canvas`);
      if (!canvas) continue;
      this.canvases.set(id, canvas);
      canvas.tabIndex = 0;
      canvas.setAttribute('aria-label', `${canvas.getAttribute('aria-label') ?? id}: Enter lists the sampled pairs of the newest step`);
      canvas.addEventListener('click', (e) => this.onChartClick(id, canvas, e));
      canvas.addEventListener('keydown', (e) => {
        if (e.key !== 'Enter' && e.key !== ' ') return;
        e.preventDefault();
        this.openAt(id, canvas, null);
      });
    }
  }

  /** The page position of data point (x, y) on chart `id` (for tests: a real click there selects what (x, y) names). */
  pixelOf(id: ChartId, x: number, y: number): { x: number; y: number } | null {
    const canvas = this.canvases.get(id);
    const chart = canvas ? Chart.getChart(canvas) : undefined;
    if (!canvas || !chart?.scales.x || !chart.scales.y) return null;
    const rect = canvas.getBoundingClientRect();
    return { x: rect.left + chart.scales.x.getPixelForValue(x), y: rect.top + chart.scales.y.getPixelForValue(y) };
  }

  reset(steps: readonly StepEvent[]): void {
    this.store.clear();
    this.append(steps);
    this.close();
  }

  append(steps: readonly StepEvent[]): void {
    this.store.append(steps);
    this.renderNotice();
  }

  /** A chart click: the step (and value) under the pointer. */
  private onChartClick(id: ChartId, canvas: HTMLCanvasElement, e: MouseEvent): void {
    const chart = Chart.getChart(canvas);
    const x = chart?.scales.x?.getValueForPixel(e.offsetX);
    const y = chart?.scales.y?.getValueForPixel(e.offsetY);
    this.openAt(id, canvas, typeof x === 'number' ? { x, y: typeof y === 'number' ? y : NaN } : null);
  }

  /** Opens the pairs chart `id` selects at `at` (pixel values in data units; null: the newest step, its middle). */
  openAt(id: ChartId, opener: HTMLElement | null, at: { x: number; y: number } | null): PairSelection | null {
    const latest = this.store.latest;
    if (!latest) return this.showEmpty(opener);
    let s: SampledStep | null;
    let sel: PairSelection;
    if (id === 'hyperHist') {
      s = latest;
      sel = binAt(s, at ? at.x : (s.percentiles?.p50 ?? 0));
    } else {
      s = at ? this.store.nearest(Math.round(at.x)) : latest;
      if (!s) return this.showEmpty(opener);
      sel = id === 'hyperBands' ? bandSelection(s, at && Number.isFinite(at.y) ? at.y : (s.percentiles?.p50 ?? 0)) : stepSelection(s);
    }
    this.show(sel, opener);
    return sel;
  }

  private showEmpty(opener: HTMLElement | null): null {
    this.opener = opener;
    this.root.replaceChildren(
      this.head('no step samples in this run'),
      el('p', { className: 'drilldown-note', text: 'Runs write step samples when diagnostics.stepSamples is true (the default), since issue 25.' }),
    );
    this.root.hidden = false;
    return null;
  }

  private head(title: string): HTMLElement {
    const close = el('button', {
      className: 'drilldown-close',
      text: '×',
      title: 'Close (Escape)',
      attrs: { 'data-role': 'drilldown-close', 'aria-label': 'Close the pairs' },
    });
    close.addEventListener('click', () => this.close());
    return el('div', { className: 'drilldown-head' }, [el('h3', { text: title, attrs: { 'data-role': 'drilldown-title' } }), close]);
  }

  /** Lists a selection and asks the extension for its texts. */
  show(sel: PairSelection, opener: HTMLElement | null = null): void {
    this.selection = sel;
    this.opener = opener;
    const rows = sel.rows.length > 0 ? sel.rows : sel.others;
    const note =
      sel.rows.length === 0
        ? el('p', { className: 'drilldown-note', text: `no sampled pair falls here; the ${sel.others.length} other sampled pairs of step ${sel.step}:` })
        : null;
    const refs: PairTextRef[] = [];
    const cells: HTMLElement[] = [];
    const list = el('ol', { className: 'drilldown-pairs', attrs: { 'data-role': 'drilldown-pairs', 'aria-label': sel.title } });
    for (const r of rows) list.appendChild(this.pairItem(sel, r, refs, cells));
    this.root.replaceChildren(this.head(sel.title), ...(note ? [note] : []), list);
    this.root.hidden = false;
    this.pending = { id: ++this.requestId, refs, cells };
    if (refs.length > 0) this.post({ type: 'pairTexts', requestId: this.pending.id, refs });
    (list.firstElementChild as HTMLElement | null)?.focus();
  }

  private pairItem(sel: PairSelection, r: StepSampleRow, refs: PairTextRef[], cells: HTMLElement[]): HTMLElement {
    const part = (label: string, kind: 'query' | 'item', ref: [string, number, number], role: string) => {
      const file = sel.files[ref[1]] ?? '';
      const text = el('span', { className: 'pair-text', text: '…', attrs: { 'data-role': `${role}-text` } });
      if (ref[2] >= 1 && file && refs.length < 96) {
        refs.push({ kind, id: ref[0], file, line: ref[2] });
        cells.push(text);
      } else text.textContent = '(no line)';
      const loc = el('button', {
        className: 'pair-loc',
        text: `${base(file)}:${ref[2]}`,
        title: `Open ${file}:${ref[2]}`,
        attrs: { 'data-role': `${role}-loc` },
      });
      loc.disabled = !(ref[2] >= 1 && file);
      loc.addEventListener('click', (e) => {
        e.stopPropagation();
        this.post({ type: 'openLine', file, line: ref[2] });
      });
      return el('div', { className: `pair-part pair-${role}` }, [
        el('span', { className: 'pair-label', text: label }),
        el('code', { text: ref[0] }),
        loc,
        text,
      ]);
    };
    const why = r.why.map((w) => REASON_LABEL[w] ?? w).join(', ') + (r.fn ? ` (${r.fn.rule}, word overlap ${Math.round(100 * r.fn.overlap)}%)` : '');
    const li = el('li', { className: 'pair', attrs: { tabindex: '0', 'data-role': 'pair', 'data-why': r.why.join(' ') } }, [
      el('div', { className: 'pair-why', text: why }),
      el('div', {
        className: 'pair-scores',
        attrs: { 'data-role': 'pair-scores' },
        text: `s(q,v) ${fmt(r.sQV)} · s(q,v⁻) ${fmt(r.sQNeg)} · s(v,v⁻) ${fmt(r.sVNeg)} · δ/τ ${r.hyper === null ? '–' : r.hyper.toFixed(4)}`,
      }),
      part('query', 'query', r.q, 'query'),
      part('positive', 'item', r.v, 'positive'),
      part('negative', 'item', r.n, 'negative'),
    ]);
    li.addEventListener('keydown', (e) => {
      if (e.key !== 'Enter') return;
      e.preventDefault();
      const file = sel.files[r.q[1]];
      if (file && r.q[2] >= 1) this.post({ type: 'openLine', file, line: r.q[2] });
    });
    return li;
  }

  /** The extension's answer to a `pairTexts` request: fills the texts, marking shared words. */
  texts(requestId: number, texts: readonly (string | null)[]): void {
    const p = this.pending;
    if (!p || p.id !== requestId) return;
    p.cells.forEach((cell, k) => (cell.textContent = texts[k] ?? '(line changed or gone)'));
    for (const li of Array.from(this.root.querySelectorAll<HTMLElement>('li.pair'))) {
      const get = (role: string) => li.querySelector<HTMLElement>(`[data-role="${role}-text"]`);
      const [q, v, n] = [get('query'), get('positive'), get('negative')];
      if (!q || !v || !n) continue;
      const vw = wordsOf(v.textContent ?? '');
      const qShared = new Set([...wordsOf(q.textContent ?? '')].filter((w) => vw.has(w)));
      const nShared = new Set([...wordsOf(n.textContent ?? '')].filter((w) => vw.has(w)));
      mark(q, qShared);
      mark(v, new Set([...qShared, ...nShared]));
      mark(n, nShared);
    }
  }

  close(): void {
    this.root.hidden = true;
    this.root.replaceChildren();
    this.selection = null;
    this.pending = null;
    this.opener?.focus();
    this.opener = null;
  }

  get shown(): PairSelection | null {
    return this.root.hidden ? null : this.selection;
  }

  private onKey(e: KeyboardEvent): void {
    if (e.key === 'Escape') {
      e.preventDefault();
      this.close();
      return;
    }
    if (e.key !== 'ArrowDown' && e.key !== 'ArrowUp') return;
    const items = Array.from(this.root.querySelectorAll<HTMLElement>('li.pair'));
    const at = items.indexOf(document.activeElement as HTMLElement);
    const next = items[Math.min(items.length - 1, Math.max(0, at + (e.key === 'ArrowDown' ? 1 : -1)))];
    if (next) {
      e.preventDefault();
      next.focus();
    }
  }

  /** The suspected-false-negatives notice of the newest step: shown at FN_NOTICE_SHARE and above. */
  private renderNotice(): void {
    const s = this.store.latest;
    const fn = s?.suspected;
    if (!s || !fn || fn.share < FN_NOTICE_SHARE) {
      this.notice.hidden = true;
      return;
    }
    const list = el('button', { text: 'Show the pairs', attrs: { 'data-role': 'fn-show' } });
    list.addEventListener('click', () => this.show(falseNegativeSelection(s), list));
    const mask = el('button', {
      text: 'Mask same-text negatives',
      title:
        'Sets data.maskDuplicateNegatives to true in the run’s config (one undoable edit); the next training masks negatives with the positive’s normalised text',
      attrs: { 'data-role': 'fn-mask' },
    });
    mask.addEventListener('click', () => this.post({ type: 'maskDuplicateNegatives' }));
    const groups = el('button', {
      text: 'Duplicate groups',
      title: 'Lists the texts of the training data that appear under several ids, with their lines',
      attrs: { 'data-role': 'fn-groups' },
    });
    groups.addEventListener('click', () => this.post({ type: 'duplicateGroups' }));
    this.notice.replaceChildren(
      el('span', {
        text: `Suspected false negatives: ${fn.count} in-batch negatives (${(100 * fn.share).toFixed(1)}%) at step ${s.step} look like their positive (same text or high word overlap).`,
      }),
      list,
      mask,
      groups,
    );
    this.notice.hidden = false;
  }
}

/** Replaces `cell`'s text by runs with the shared words in <mark>. */
function mark(cell: HTMLElement, shared: ReadonlySet<string>): void {
  const text = cell.textContent ?? '';
  cell.replaceChildren(...highlightRuns(text, shared).map((r) => (r.shared ? el('mark', { text: r.text }) : document.createTextNode(r.text))));
}
