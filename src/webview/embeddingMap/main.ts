/**
 * The Embedding Map webview: a scatter of the sampled items (small grey dots) and test queries (coloured by
 * their triage label; "ok" green) on a canvas. PCA is drawn in the embeddings' own scale (the unit square
 * [-1, 1]², so a collapsed model is one tight dot); UMAP is fitted to the canvas. Hover shows a point's text
 * and label; a click asks the extension to open its data line. `window.__rlensMap` exposes what tests read.
 */
import { vscodeApi } from '../shared/vscodeApi';
import { parseToMap, type EmbeddingMapData, type FromMap, type ToMap } from './protocol';

const api = vscodeApi<FromMap>();
const post = (m: FromMap) => api.postMessage(m);

const LABEL_COLOURS: Record<string, string> = {
  ok: '#3fb950',
  'collapsed-neighbourhood': '#f85149',
  'near-duplicate': '#d29922',
  truncated: '#a371f7',
  'lexical-miss': '#58a6ff',
  'hard-for-both': '#ff7b72',
  'ranked-low': '#db61a2',
  'missing-terms': '#58a6ff',
  '': '#58a6ff',
};
const ITEM_COLOUR = 'rgba(140,140,140,0.55)';

const q = <T extends HTMLElement>(role: string) => document.querySelector(`[data-role="${role}"]`) as T;
const canvas = q<HTMLCanvasElement>('map');
const tip = q<HTMLDivElement>('tip');
const status = q<HTMLSpanElement>('status');
const legend = q<HTMLDivElement>('legend');
document.body.style.margin = '8px';
document.body.style.fontFamily = 'var(--vscode-font-family, sans-serif)';
document.body.style.color = 'var(--vscode-foreground, #ccc)';
canvas.style.border = '1px solid rgba(128,128,128,0.4)';
canvas.style.cursor = 'crosshair';
tip.style.position = 'fixed';
tip.style.maxWidth = '420px';
tip.style.padding = '4px 6px';
tip.style.background = 'var(--vscode-editorHoverWidget-background, #252526)';
tip.style.border = '1px solid rgba(128,128,128,0.6)';
tip.style.pointerEvents = 'none';

let map: EmbeddingMapData | null = null;
/** Canvas pixel position of each point. */
let px = new Float32Array(0);

function layout(): void {
  if (!map) return;
  const n = map.points.length;
  const w = canvas.width;
  const h = canvas.height;
  const pad = 12;
  let cx = 0;
  let cy = 0;
  let half: number;
  if (map.method === 'pca') {
    half = 1; // the embeddings' own scale: unit vectors, centred
  } else {
    let minX = Infinity,
      maxX = -Infinity,
      minY = Infinity,
      maxY = -Infinity;
    for (let i = 0; i < n; i++) {
      minX = Math.min(minX, map.coords[2 * i]);
      maxX = Math.max(maxX, map.coords[2 * i]);
      minY = Math.min(minY, map.coords[2 * i + 1]);
      maxY = Math.max(maxY, map.coords[2 * i + 1]);
    }
    cx = (minX + maxX) / 2;
    cy = (minY + maxY) / 2;
    half = Math.max(maxX - minX, maxY - minY, 1e-9) / 2;
  }
  const scale = (Math.min(w, h) / 2 - pad) / half;
  px = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) {
    px[2 * i] = w / 2 + (map.coords[2 * i] - cx) * scale;
    px[2 * i + 1] = h / 2 - (map.coords[2 * i + 1] - cy) * scale;
  }
}

function draw(): void {
  const ctx = canvas.getContext('2d')!;
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  if (!map) return;
  const n = map.points.length;
  for (const pass of ['item', 'query'] as const) {
    for (let i = 0; i < n; i++) {
      const p = map.points[i];
      if (p.kind !== pass) continue;
      ctx.fillStyle = p.kind === 'item' ? ITEM_COLOUR : (LABEL_COLOURS[p.label] ?? '#58a6ff');
      ctx.beginPath();
      ctx.arc(px[2 * i], px[2 * i + 1], p.kind === 'item' ? 1.6 : 3, 0, 2 * Math.PI);
      ctx.fill();
    }
  }
}

function nearest(x: number, y: number, within = 6): number {
  let best = -1;
  let bestD = within * within;
  for (let i = 0; i < px.length / 2; i++) {
    const d = (px[2 * i] - x) ** 2 + (px[2 * i + 1] - y) ** 2;
    if (d <= bestD) [best, bestD] = [i, d];
  }
  return best;
}

function canvasXY(e: MouseEvent): [number, number] {
  const r = canvas.getBoundingClientRect();
  return [((e.clientX - r.left) * canvas.width) / r.width, ((e.clientY - r.top) * canvas.height) / r.height];
}

canvas.addEventListener('mousemove', (e) => {
  const i = nearest(...canvasXY(e));
  if (i < 0 || !map) return void (tip.hidden = true);
  const p = map.points[i];
  tip.textContent = `${p.kind} ${p.id}${p.label ? ` · ${p.label}` : ''}: ${p.text}`;
  tip.style.left = `${e.clientX + 12}px`;
  tip.style.top = `${e.clientY + 12}px`;
  tip.hidden = false;
});
canvas.addEventListener('mouseleave', () => (tip.hidden = true));
canvas.addEventListener('click', (e) => {
  const i = nearest(...canvasXY(e));
  if (i >= 0 && map) post({ type: 'open', file: map.points[i].file, line: map.points[i].line });
});
q<HTMLButtonElement>('pca').addEventListener('click', () => post({ type: 'project', method: 'pca' }));
q<HTMLButtonElement>('umap').addEventListener('click', () => post({ type: 'project', method: 'umap' }));

function show(m: Extract<ToMap, { type: 'map' }>): void {
  map = m.map;
  q<HTMLSpanElement>('title').textContent = m.title;
  const counts = new Map<string, number>();
  for (const p of m.map.points) if (p.kind === 'query') counts.set(p.label || 'query', (counts.get(p.label || 'query') ?? 0) + 1);
  legend.textContent = `items ${m.map.points.length - [...counts.values()].reduce((a, b) => a + b, 0)} (grey) · queries: ${[...counts].map(([l, c]) => `${l} ${c}`).join(' · ')}`;
  const explained = m.map.explained
    ? ` · axes ${(100 * m.map.explained[0]).toFixed(1)}% + ${(100 * m.map.explained[1]).toFixed(1)}% of variance ${m.map.totalVariance!.toFixed(3)}`
    : '';
  status.textContent = `${m.map.method.toUpperCase()}${explained} · exported ${m.files.vectors} + metadata.tsv`;
  layout();
  draw();
}

window.addEventListener('message', (e: MessageEvent) => {
  const r = parseToMap(e.data);
  if (!r.ok) return;
  if (r.value.type === 'map') show(r.value);
  else status.textContent = r.value.text;
});

/** Test hook: what is drawn. */
(window as unknown as { __rlensMap: unknown }).__rlensMap = {
  /** RMS distance (px) of the drawn points of a kind from their centroid. */
  spreadPx(kind: 'item' | 'query'): number {
    if (!map) return NaN;
    const idx = map.points.map((p, i) => (p.kind === kind ? i : -1)).filter((i) => i >= 0);
    const mx = idx.reduce((s, i) => s + px[2 * i], 0) / idx.length;
    const my = idx.reduce((s, i) => s + px[2 * i + 1], 0) / idx.length;
    return Math.sqrt(idx.reduce((s, i) => s + (px[2 * i] - mx) ** 2 + (px[2 * i + 1] - my) ** 2, 0) / idx.length);
  },
  /** Page position of point i (for hover / click tests). */
  pagePosition(i: number): { x: number; y: number } {
    const r = canvas.getBoundingClientRect();
    return { x: r.left + (px[2 * i] * r.width) / canvas.width, y: r.top + (px[2 * i + 1] * r.height) / canvas.height };
  },
  pointCount: () => map?.points.length ?? 0,
};

post({ type: 'ready' });
