/**
 * One colour per compared run, from the theme's chart colours (the dashboard's palette); beyond six
 * runs the colours repeat with a dash pattern, so every run stays distinguishable.
 */
import type { Palette, PaletteColor } from '../shared/theme';

const ORDER: PaletteColor[] = ['blue', 'orange', 'green', 'purple', 'red', 'yellow'];
const DASHES: number[][] = [[], [6, 3], [2, 2]];

export interface RunStyle {
  color: string;
  dash: number[];
}

/** The style of run i in a palette. */
export function runStyle(p: Palette, i: number): RunStyle {
  return { color: p[ORDER[i % ORDER.length] as keyof Palette] as string, dash: DASHES[Math.floor(i / ORDER.length) % DASHES.length] };
}

/** The runs' column letters: A, B, C, … */
export const runLetter = (i: number): string => (i < 26 ? String.fromCharCode(65 + i) : `R${i + 1}`);
