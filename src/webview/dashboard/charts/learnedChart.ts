/**
 * Learned α / δ₀ / τ₀ over steps (loss.trainable; the `learned` field of step events): one line per learned value,
 * its floor as a dotted line of the same colour (src/core/losses/learnedHyper.ts: α, δ₀ ≥ 0, τ₀ ≥ 0.01), and the
 * trajectory in the caption ("α 0.50 → 0.31"). Self-contained: it keeps its own points (fed by the dashboard's
 * step handler), so the series catalogue and the step store stay as they are. Hidden when nothing is learned.
 */
import { Chart, type ChartOptions } from 'chart.js';
import type { StepEvent } from '../protocol';
import type { Palette, PaletteColor } from '../../shared/theme';
import { baseLineOptions } from '../../shared/chartSetup';
import type { ChartCard, Section } from '../../shared/section';
import type { ChartPanel, DrawContext } from './panels';
import { formatLearned, LEARNED_FLOORS, LEARNED_SYMBOLS } from '../../../core/losses/learnedHyper';
import type { LearnedHyperName } from '../../../core/losses/types';

interface Point {
  x: number;
  y: number;
}

type Name = LearnedHyperName;

/** Each learned value: its symbol, colour and floor. */
export const LEARNED_LINES: readonly { name: Name; symbol: string; color: PaletteColor; floor: number }[] = [
  { name: 'alpha', symbol: LEARNED_SYMBOLS.alpha, color: 'purple', floor: LEARNED_FLOORS.alpha },
  { name: 'delta0', symbol: LEARNED_SYMBOLS.delta0, color: 'orange', floor: LEARNED_FLOORS.delta0 },
  { name: 'tau0', symbol: LEARNED_SYMBOLS.tau0, color: 'blue', floor: LEARNED_FLOORS.tau0 },
];

/** "α 0.50 → 0.31 · τ₀ 0.033 → 0.021": first and latest value of each learned hyper-parameter. */
export function learnedTrajectoryText(points: Readonly<Partial<Record<Name, readonly Point[]>>>): string {
  const from: Partial<Record<Name, number>> = {};
  const to: Partial<Record<Name, number>> = {};
  for (const l of LEARNED_LINES) {
    const p = points[l.name];
    if (!p || p.length === 0) continue;
    from[l.name] = p[0].y;
    to[l.name] = p[p.length - 1].y;
  }
  return formatLearned(from, to);
}

export class LearnedPanel implements ChartPanel {
  readonly id = 'learned';
  readonly chart: Chart<'line', Point[]>;
  private readonly points: Partial<Record<Name, Point[]>> = {};
  private palette: Palette;
  private drawnCount = -1;

  constructor(
    readonly section: Section,
    readonly card: ChartCard,
    palette: Palette,
  ) {
    this.palette = palette;
    this.chart = new Chart(card.canvas, { type: 'line', data: { datasets: [] }, options: this.options(palette) });
    card.root.hidden = true;
  }

  /** Adds the learned values of newly received steps (in step order; a step already held is skipped). */
  append(steps: readonly StepEvent[]): void {
    for (const e of steps) {
      if (!e.learned) continue;
      for (const l of LEARNED_LINES) {
        const v = e.learned[l.name];
        if (typeof v !== 'number') continue;
        const arr = (this.points[l.name] ??= []);
        if (arr.length > 0 && arr[arr.length - 1].x >= e.step) continue;
        arr.push({ x: e.step, y: v });
      }
    }
  }

  clear(): void {
    for (const l of LEARNED_LINES) delete this.points[l.name];
    this.drawnCount = -1;
  }

  /** The points of each learned value (tests and the debug hook). */
  series(): Partial<Record<Name, readonly Point[]>> {
    return this.points;
  }

  draw(ctx: DrawContext): void {
    const count = LEARNED_LINES.reduce((n, l) => n + (this.points[l.name]?.length ?? 0), 0);
    this.card.root.hidden = count === 0;
    if (count !== this.drawnCount) {
      this.drawnCount = count;
      this.chart.data.datasets = LEARNED_LINES.flatMap((l) => {
        const data = this.points[l.name];
        if (!data || data.length === 0) return [];
        const floor = [
          { x: data[0].x, y: l.floor },
          { x: data[data.length - 1].x, y: l.floor },
        ];
        return [
          { label: l.symbol, data: [...data] },
          { label: `${l.symbol} floor ${l.floor}`, data: floor },
        ];
      });
      this.style(this.palette);
      this.card.setSub(learnedTrajectoryText(this.points));
    }
    const x = (this.chart.config.options as ChartOptions<'line'>).scales!.x!;
    x.min = ctx.xRange?.min;
    x.max = ctx.xRange && ctx.xRange.max > ctx.xRange.min ? ctx.xRange.max : undefined;
    this.chart.update('none');
  }

  applyTheme(p: Palette): void {
    this.palette = p;
    this.chart.options = this.options(p);
    this.style(p);
    this.chart.update();
  }

  charted(): number | null {
    return null;
  }

  private style(p: Palette): void {
    const lines = LEARNED_LINES.filter((l) => (this.points[l.name]?.length ?? 0) > 0);
    this.chart.data.datasets.forEach((ds, k) => {
      const c = p[lines[Math.floor(k / 2)].color];
      const isFloor = k % 2 === 1;
      ds.borderColor = c;
      ds.backgroundColor = c;
      ds.borderDash = isFloor ? [2, 3] : [];
      ds.borderWidth = isFloor ? 1 : 2;
      ds.pointRadius = 0;
    });
  }

  private options(p: Palette): ChartOptions<'line'> {
    const o = baseLineOptions(p);
    o.interaction = { mode: 'nearest', axis: 'x', intersect: false };
    return o;
  }
}
