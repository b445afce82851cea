/**
 * A collapsible section (native <details>/<summary>) holding chart cards, and the chart card itself
 * (caption + fixed-height box with a canvas). Charts in a closed section are not redrawn.
 */
import { codicon, el } from './dom';

export class Section {
  readonly root: HTMLDetailsElement;
  readonly body: HTMLElement;
  private readonly titleText: HTMLElement;
  readonly tools: HTMLElement;

  constructor(
    readonly id: string,
    title: string,
    open: boolean,
    onToggle: (open: boolean) => void,
  ) {
    this.titleText = el('span', { className: 'section-title', text: title });
    this.tools = el('span', { className: 'section-tools' });
    const summary = el('summary', {}, [codicon('chevron-right', 'section-chevron'), this.titleText]);
    this.body = el('div', { className: 'section-body' }, [this.tools]);
    this.root = el('details', { className: 'section', attrs: { 'data-section': id } }, [summary, this.body]);
    this.root.open = open;
    this.root.addEventListener('toggle', () => onToggle(this.root.open));
  }

  setTitle(title: string): void {
    if (this.titleText.textContent !== title) this.titleText.textContent = title;
  }
}

export class ChartCard {
  readonly root: HTMLElement;
  readonly canvas: HTMLCanvasElement;
  private readonly sub: HTMLElement;
  private readonly placeholder: HTMLElement;
  private readonly caption: HTMLElement;
  private readonly box: HTMLElement;

  constructor(
    readonly id: string,
    caption: string,
    describe: string,
  ) {
    this.canvas = el('canvas', { attrs: { role: 'img', 'aria-label': caption } });
    this.sub = el('span', { className: 'chart-sub' });
    this.placeholder = el('div', { className: 'chart-placeholder' });
    this.placeholder.hidden = true;
    this.caption = el('figcaption', { title: describe }, [el('span', { className: 'chart-title', text: caption }), this.sub]);
    this.box = el('div', { className: 'chart-box' }, [this.canvas, this.placeholder]);
    this.root = el('figure', { className: 'chart-card', attrs: { 'data-chart': id } }, [this.caption, this.box]);
  }

  /** Adds a control to the caption, after the title (e.g. a metric selector). */
  addCaptionTool(node: HTMLElement): void {
    this.caption.insertBefore(node, this.sub);
  }

  /** Puts `node` beside the chart (a small table of values), the chart keeping the rest of the width. */
  setAside(node: HTMLElement): void {
    const row = el('div', { className: 'chart-row' }, [this.box, node]);
    this.root.appendChild(row);
  }

  setSub(text: string): void {
    if (this.sub.textContent !== text) this.sub.textContent = text;
  }

  /** Shows a text over the (empty) chart, or hides it with null. */
  setPlaceholder(text: string | null): void {
    this.placeholder.hidden = text === null;
    if (text !== null && this.placeholder.textContent !== text) this.placeholder.textContent = text;
  }
}
