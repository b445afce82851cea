/** The "n malformed messages ignored" note (hidden while n = 0); the last reason is in its tooltip. */
import { codicon, el } from '../../shared/dom';

export class MalformedNote {
  readonly root = el('div', { className: 'malformed-note', attrs: { 'data-role': 'malformed', role: 'note' } });
  private count = 0;
  private lastReason = '';

  constructor() {
    this.root.hidden = true;
  }

  get ignored(): { count: number; lastReason: string } {
    return { count: this.count, lastReason: this.lastReason };
  }

  /** Counts one more ignored message. */
  add(reason: string): void {
    this.count++;
    this.lastReason = reason;
    this.root.hidden = false;
    this.root.replaceChildren(codicon('info'), el('span', { text: `${this.count} malformed message${this.count === 1 ? '' : 's'} ignored` }));
    this.root.title = `Last: ${reason}`;
  }
}
