/**
 * The layout rule of labels on horizontal lines (threshold and reference lines): no two label boxes
 * overlap. Labels are placed in order; each keeps its own place (above its line) when that place is free,
 * else it goes just below its line, else it is stacked above the highest label it would overlap — the
 * first of these that stays inside the chart area and meets no label placed before it (the last one
 * when none does). Pure geometry, pixels, y down.
 */

/** A label's box as laid out at its own place, and the y of its line. */
export interface LabelBox {
  x: number;
  y: number;
  width: number;
  height: number;
  lineY: number;
}

/** Gap (px) kept between a label and its line when placed below it, and between stacked labels. */
const GAP = 2;

function overlaps(a: { x: number; y: number; width: number; height: number }, b: { x: number; y: number; width: number; height: number }): boolean {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

/** The vertical shift (px, added to each label's y) that keeps every label clear of the ones before it. */
export function placeLabels(boxes: readonly LabelBox[], area: { top: number; bottom: number }): number[] {
  const placed: LabelBox[] = [];
  return boxes.map((b) => {
    const at = (dy: number): LabelBox => ({ ...b, y: b.y + dy });
    const free = (dy: number) => {
      const c = at(dy);
      return c.y >= area.top && c.y + c.height <= area.bottom && placed.every((p) => !overlaps(c, p));
    };
    const candidates = [0, b.lineY + GAP - b.y];
    // stacked above (or below) each label it could meet
    for (const p of placed) {
      candidates.push(p.y - GAP - b.height - b.y);
      candidates.push(p.y + p.height + GAP - b.y);
    }
    let dy = candidates.find(free);
    if (dy === undefined) {
      // nowhere free inside the area: the first place clear of every other label, wherever it is
      dy = candidates.find((d) => placed.every((p) => !overlaps(at(d), p))) ?? 0;
    }
    placed.push(at(dy));
    return dy;
  });
}
