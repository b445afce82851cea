/**
 * Entry point of the Failing Query detail webview (media/failureDetail.js): shows the detail markup the
 * extension sends (every text in it escaped there), starts a new query at the top (the same query again —
 * its full texts read — keeps the scroll position), and turns a click on a data location (`[data-file]`)
 * into `openLine`. Validates every message (protocol.ts) and posts `ready`.
 */
import { vscodeApi } from '../shared/vscodeApi';
import { parseToDetail, type FromDetail } from './protocol';

function main(): void {
  const root = document.getElementById('rlens-failure');
  if (!root) throw new Error('failure detail: #rlens-failure is missing from the page');
  const api = vscodeApi<FromDetail>();
  let shownKey: string | null = null;
  window.addEventListener('message', (event: MessageEvent) => {
    const r = parseToDetail(event.data);
    if (!r.ok) return;
    const m = r.value;
    const keep = m.key === shownKey ? window.scrollY : 0;
    root.innerHTML = m.html;
    shownKey = m.key;
    window.scrollTo(0, keep);
  });
  root.addEventListener('click', (e) => {
    const a = (e.target as Element | null)?.closest('[data-file][data-line]');
    if (!a) return;
    e.preventDefault();
    const line = Number(a.getAttribute('data-line'));
    const file = a.getAttribute('data-file') ?? '';
    if (file !== '' && Number.isInteger(line) && line >= 1) api.postMessage({ type: 'openLine', file, line });
  });
  api.postMessage({ type: 'ready' });
}

main();
