/**
 * Zoom and pan of a chart's x axis, shared by the charts of a view (stacked charts stay lined up): the
 * mouse wheel zooms around the pointer, dragging pans, a double click shows everything again. The
 * listener only reports the x range wanted (in the axis' unit); the view owns it and redraws.
 * (chartjs-plugin-zoom zooms one chart on its own data; here the range is the view's, over the exact
 * columns, so every step chart follows it.)
 */
import type { Chart } from 'chart.js';

export interface XRange {
  min: number;
  max: number;
}

/** Zoom factor per wheel notch (100 px of deltaY). */
const WHEEL_ZOOM = 1.25;

/**
 * Listens on `chart`'s canvas. `shown()` is the x range drawn now; `set(range)` asks for a new one (null:
 * everything).
 */
export function attachZoomPan(chart: () => Chart, shown: () => XRange | null, set: (r: XRange | null) => void): void {
  const canvas = chart().canvas;
  const valueAt = (clientX: number): number | null => {
    const c = chart();
    const x = c.scales.x;
    if (!x) return null;
    const px = clientX - canvas.getBoundingClientRect().left;
    return x.getValueForPixel(px) ?? null;
  };
  canvas.addEventListener(
    'wheel',
    (ev) => {
      const r = shown();
      const at = valueAt(ev.clientX);
      if (!r || at === null || !(r.max > r.min)) return;
      ev.preventDefault();
      const f = Math.pow(WHEEL_ZOOM, ev.deltaY / 100);
      set({ min: at - (at - r.min) * f, max: at + (r.max - at) * f });
    },
    { passive: false },
  );
  let drag: { x: number; range: XRange } | null = null;
  canvas.addEventListener('mousedown', (ev) => {
    const r = shown();
    if (ev.button !== 0 || !r) return;
    drag = { x: ev.clientX, range: r };
  });
  window.addEventListener('mousemove', (ev) => {
    if (!drag) return;
    const x = chart().scales.x;
    const perPx = (drag.range.max - drag.range.min) / Math.max(1, x.width);
    const d = -(ev.clientX - drag.x) * perPx;
    if (d !== 0) set({ min: drag.range.min + d, max: drag.range.max + d });
  });
  window.addEventListener('mouseup', () => (drag = null));
  canvas.addEventListener('dblclick', () => set(null));
}

/** `want` kept inside `full` (same width when possible), at least `minWidth` wide; null when it shows all of `full`. */
export function clampRange(want: XRange, full: XRange, minWidth: number): XRange | null {
  let width = Math.max(minWidth, want.max - want.min);
  if (width >= full.max - full.min) return null;
  let min = Math.max(full.min, want.min);
  if (min + width > full.max) min = full.max - width;
  width = Math.min(width, full.max - min);
  return { min, max: min + width };
}
