/**
 * Chart colours from the VS Code theme. VS Code sets the theme's colours as CSS variables
 * (--vscode-charts-red, --vscode-foreground, …) on the webview's <html> and a theme class on <body>
 * (vscode-light / vscode-dark / vscode-high-contrast / vscode-high-contrast-light). Canvas drawing
 * cannot use CSS variables, so they are read from the computed style and re-read whenever the body
 * class or the <html> style changes (a theme switch).
 */

export type ThemeKind = 'light' | 'dark' | 'high-contrast' | 'high-contrast-light';

/** Colours as `rgb()/rgba()` strings usable on a canvas. */
export interface Palette {
  kind: ThemeKind;
  foreground: string;
  muted: string;
  grid: string;
  /** The grid colour at a third of its opacity, for the lines inside the plot area. */
  gridFaint: string;
  border: string;
  red: string;
  blue: string;
  yellow: string;
  orange: string;
  green: string;
  purple: string;
  tooltipBackground: string;
  tooltipForeground: string;
  /** Font family and size (px) of the workbench. */
  fontFamily: string;
  fontSize: number;
}

/** The palette's chart colours a series, run or threshold line may take. */
export type PaletteColor = 'red' | 'blue' | 'yellow' | 'orange' | 'green' | 'purple' | 'foreground' | 'muted';

type ColorKey = Exclude<keyof Palette, 'kind' | 'fontFamily' | 'fontSize' | 'gridFaint'>;

/** CSS variable and fallbacks (VS Code's Dark Modern / Light Modern values) of each colour. */
const SOURCES: Record<ColorKey, { cssVar: string; dark: string; light: string }> = {
  foreground: { cssVar: '--vscode-charts-foreground', dark: '#cccccc', light: '#616161' },
  muted: { cssVar: '--vscode-descriptionForeground', dark: '#9d9d9d', light: '#717171' },
  grid: { cssVar: '--vscode-charts-lines', dark: 'rgba(204, 204, 204, 0.5)', light: 'rgba(97, 97, 97, 0.5)' },
  border: { cssVar: '--vscode-panel-border', dark: '#2b2b2b', light: '#e5e5e5' },
  red: { cssVar: '--vscode-charts-red', dark: '#f14c4c', light: '#e51400' },
  blue: { cssVar: '--vscode-charts-blue', dark: '#3794ff', light: '#1a85ff' },
  yellow: { cssVar: '--vscode-charts-yellow', dark: '#cca700', light: '#bf8803' },
  orange: { cssVar: '--vscode-charts-orange', dark: '#d18616', light: '#d18616' },
  green: { cssVar: '--vscode-charts-green', dark: '#89d185', light: '#388a34' },
  purple: { cssVar: '--vscode-charts-purple', dark: '#b180d7', light: '#652d90' },
  tooltipBackground: { cssVar: '--vscode-editorHoverWidget-background', dark: '#202020', light: '#f8f8f8' },
  tooltipForeground: { cssVar: '--vscode-editorHoverWidget-foreground', dark: '#cccccc', light: '#3b3b3b' },
};

/** The theme kind from the body class VS Code sets (dark when none is set). */
export function themeKind(body: HTMLElement): ThemeKind {
  const c = body.classList;
  if (c.contains('vscode-high-contrast-light')) return 'high-contrast-light';
  if (c.contains('vscode-high-contrast')) return 'high-contrast';
  if (c.contains('vscode-light')) return 'light';
  return 'dark';
}

/** Resolves any CSS colour to `rgb(...)`/`rgba(...)` through a hidden probe element. */
export class ColorResolver {
  private readonly probe: HTMLElement;

  constructor(private readonly doc: Document) {
    this.probe = doc.createElement('span');
    this.probe.className = 'color-probe';
    this.probe.setAttribute('aria-hidden', 'true');
    doc.body.appendChild(this.probe);
  }

  /** `color` as the browser computes it; `fallback` when it is not a valid colour. */
  resolve(color: string, fallback: string): string {
    this.probe.style.color = '';
    this.probe.style.color = color;
    if (this.probe.style.color === '') this.probe.style.color = fallback;
    return getComputedStyle(this.probe).color;
  }

  /** The colour with its alpha multiplied by `alpha`. */
  withAlpha(color: string, alpha: number): string {
    const m = /rgba?\(\s*([\d.]+)[,\s]+([\d.]+)[,\s]+([\d.]+)(?:[,/\s]+([\d.]+%?))?\s*\)/.exec(this.resolve(color, 'rgb(128, 128, 128)'));
    if (!m) return color;
    const a0 = m[4] === undefined ? 1 : m[4].endsWith('%') ? parseFloat(m[4]) / 100 : parseFloat(m[4]);
    return `rgba(${m[1]}, ${m[2]}, ${m[3]}, ${+(a0 * alpha).toFixed(3)})`;
  }
}

/** Reads the palette from the computed CSS variables of <html>/<body>. */
export function readPalette(doc: Document, colors: ColorResolver): Palette {
  const kind = themeKind(doc.body);
  const style = getComputedStyle(doc.body);
  const light = kind === 'light' || kind === 'high-contrast-light';
  const out = { kind } as Palette;
  for (const key of Object.keys(SOURCES) as ColorKey[]) {
    const src = SOURCES[key];
    const fallback = light ? src.light : src.dark;
    const value = style.getPropertyValue(src.cssVar).trim();
    out[key] = colors.resolve(value || fallback, fallback);
  }
  if (kind === 'high-contrast' || kind === 'high-contrast-light') {
    // High contrast themes: grid and borders as the contrast border, for visibility.
    const hc = style.getPropertyValue('--vscode-contrastBorder').trim();
    if (hc) out.border = out.grid = colors.resolve(hc, out.grid);
  }
  out.gridFaint = colors.withAlpha(out.grid, kind.startsWith('high-contrast') ? 0.6 : 0.35);
  out.fontFamily = style.getPropertyValue('--vscode-font-family').trim() || 'system-ui, sans-serif';
  out.fontSize = 11;
  return out;
}

/**
 * Calls `onChange` when the theme may have changed: the body class or the <html> style attribute
 * (where VS Code puts the theme variables). Returns a function that stops watching.
 */
export function watchTheme(doc: Document, onChange: () => void): () => void {
  let pending = false;
  const fire = (): void => {
    if (pending) return;
    pending = true;
    queueMicrotask(() => {
      pending = false;
      onChange();
    });
  };
  const observer = new MutationObserver(fire);
  observer.observe(doc.body, { attributes: true, attributeFilter: ['class'] });
  observer.observe(doc.documentElement, { attributes: true, attributeFilter: ['style', 'class'] });
  return () => observer.disconnect();
}
