/**
 * The plan of a sweep or an ablation: which runs, each with the exact `key=value` overrides of the base
 * config (as `--set`). Pure: no files, no processes.
 */
import type { TowerPreset } from '../config/types';
import { slugify } from '../runs/runDir';
import { ABLATION_VARIANTS, PAPER_VARIANTS, type AblationVariant, type SweepRun } from './sweepFile';

/** Default values offered for a sweep of a parameter (the CodeLens' quick pick). */
export const DEFAULT_SWEEP_VALUES: Record<string, number[]> = {
  'loss.margin': [0.05, 0.1, 0.2, 0.3, 0.5],
  'loss.temperature': [1 / 50, 1 / 30, 1 / 20, 1 / 10, 1 / 5],
  'loss.alpha': [0.1, 0.3, 0.5, 0.7, 0.9],
};

/** Parameters whose values must be integers. */
const INTEGER_PARAMS = new Set(['training.batchSize', 'training.steps', 'training.epochs', 'model.embeddingDim', 'model.hiddenDim', 'model.outputDim']);

/** A value in a run name / override: at most 6 significant digits (1/30 → 0.0333333). */
export function formatValue(v: number): string {
  return String(Number(v.toPrecision(6)));
}

/** `0.05,0.1,0.2` → numbers; throws naming the bad entry. */
export function parseValueList(text: string): number[] {
  const parts = text.split(',').map((s) => s.trim());
  const out = parts.map((p, i) => {
    const frac = /^(-?\d+(?:\.\d+)?)\/(\d+(?:\.\d+)?)$/.exec(p);
    const v = frac ? Number(frac[1]) / Number(frac[2]) : p === '' ? NaN : Number(p);
    if (!Number.isFinite(v)) throw new Error(`--values: entry ${i + 1} ("${p}") is not a number`);
    return v;
  });
  if (out.length === 0) throw new Error('--values: no values');
  return out;
}

/** `a:b:n` → n values evenly spaced from a to b inclusive (6 significant digits); throws naming the problem. */
export function parseRange(text: string): number[] {
  const m = /^([^:]+):([^:]+):([^:]+)$/.exec(text.trim());
  if (!m) throw new Error(`--range expects a:b:n (from a to b in n values), got "${text}"`);
  const a = Number(m[1]);
  const b = Number(m[2]);
  const n = Number(m[3]);
  if (!Number.isFinite(a) || !Number.isFinite(b)) throw new Error(`--range ${text}: a and b must be numbers`);
  if (!Number.isInteger(n) || n < 2) throw new Error(`--range ${text}: n must be an integer ≥ 2`);
  return Array.from({ length: n }, (_, i) => Number((a + ((b - a) * i) / (n - 1)).toPrecision(6)));
}

/** Problems of a swept parameter's values: duplicates, integers where the config wants them. */
export function checkValues(param: string, values: number[]): void {
  if (values.length === 0) throw new Error('a sweep needs at least one value');
  const seen = new Set<number>();
  for (const v of values) {
    if (seen.has(v)) throw new Error(`value ${v} is given twice`);
    seen.add(v);
    if (INTEGER_PARAMS.has(param) && !Number.isInteger(v)) throw new Error(`${param} takes integers, got ${v}`);
  }
}

/** Seeds of a sweep: the config's seed and the next ones. */
export function seedList(baseSeed: number, count: number): number[] {
  if (!Number.isInteger(count) || count < 1) throw new Error(`--seeds must be a positive integer, got ${count}`);
  return Array.from({ length: count }, (_, i) => baseSeed + i);
}

/**
 * Overrides that make a swept value take effect: a fixed δ needs the fixed margin loss, a fixed τ the
 * fixed softmax loss (an adaptive config ignores both); and the adaptive counterpart trained beside it as
 * the reference. Other parameters need nothing else and have no reference.
 */
export function lossModeFor(param: string): { swept: string[]; reference: string[] } | null {
  if (param === 'loss.margin') return { swept: ['loss.type="margin"', 'loss.adaptive=false'], reference: ['loss.type="margin"', 'loss.adaptive=true'] };
  if (param === 'loss.temperature') return { swept: ['loss.type="softmax"', 'loss.adaptive=false'], reference: ['loss.type="softmax"', 'loss.adaptive=true'] };
  return null;
}

const newRun = (id: string, over: Partial<SweepRun> & Pick<SweepRun, 'seed' | 'overrides'>): SweepRun => ({
  id,
  value: null,
  variant: null,
  reference: false,
  status: 'queued',
  runDir: null,
  previousRunDirs: [],
  error: null,
  result: null,
  ...over,
});

/** The runs of a sweep of `param` over `values` × `seeds` (value-major), then the reference runs, if any. */
export function planSweep(name: string, param: string, values: number[], seeds: number[]): SweepRun[] {
  checkValues(param, values);
  const mode = lossModeFor(param);
  const leaf = param.split('.').pop() ?? param;
  const runs: SweepRun[] = [];
  for (const v of values) {
    for (const seed of seeds) {
      const runName = slugify(`${name}-${leaf}-${formatValue(v)}-s${seed}`);
      runs.push(
        newRun(`v${formatValue(v)}-s${seed}`, {
          value: v,
          seed,
          overrides: [...(mode?.swept ?? []), `${param}=${formatValue(v)}`, `training.seed=${seed}`, `name=${JSON.stringify(runName)}`],
        }),
      );
    }
  }
  if (mode) {
    for (const seed of seeds) {
      runs.push(
        newRun(`ref-s${seed}`, {
          reference: true,
          seed,
          overrides: [...mode.reference, `training.seed=${seed}`, `name=${JSON.stringify(slugify(`${name}-${leaf}-adaptive-s${seed}`))}`],
        }),
      );
    }
  }
  return runs;
}

/** The loss of a tower variant "<preset>-<family>-<fixed|adaptive|learned>": the variant it runs on that tower. */
const TOWER_LOSS = {
  'margin-fixed': 'margin-fixed',
  'margin-adaptive': 'margin-adaptive-sg-sym',
  'margin-learned': 'margin-learned',
  'softmax-fixed': 'softmax-fixed',
  'softmax-adaptive': 'softmax-adaptive-sg-sym',
  'softmax-learned': 'softmax-learned',
} as const;

/** Human-readable names of the loss variants. */
const LOSS_LABELS = {
  'margin-fixed': 'fixed margin δ',
  'margin-adaptive': 'adaptive margin, no stop-gradient',
  'margin-adaptive-sg': 'adaptive margin + stop-gradient',
  'margin-adaptive-sg-sym': 'adaptive margin + sg + symmetric',
  'softmax-fixed': 'fixed softmax τ',
  'softmax-adaptive': 'adaptive softmax, no stop-gradient',
  'softmax-adaptive-sg': 'adaptive softmax + stop-gradient',
  'softmax-adaptive-sg-sym': 'adaptive softmax + sg + symmetric',
  'margin-learned': 'adaptive margin + sg + sym, learned α δ₀',
  'softmax-learned': 'adaptive softmax + sg + sym, learned α τ₀',
  'softmax-adap-tau': 'softmax + Adap-τ per query + symmetric',
  'margin-fixed-mgdspr': 'fixed margin δ, MGDSPR tower',
  'margin-adaptive-sg-sym-mgdspr': 'adaptive margin + sg + symmetric, MGDSPR tower',
  'softmax-fixed-mgdspr': 'fixed softmax τ, MGDSPR tower',
  'softmax-adaptive-sg-sym-mgdspr': 'adaptive softmax + sg + symmetric, MGDSPR tower',
};

/**
 * The tower a variant trains (model.preset): the "-mgdspr" variants the MGDSPR query tower, the "dpsr-…" and
 * "dssm-…" variants their prefix's tower, the others the base config's (the table's tower column says which ran).
 */
export function variantTower(v: string): TowerPreset {
  if (v.endsWith('-mgdspr')) return 'mgdspr';
  return v.startsWith('dpsr-') ? 'dpsr' : 'dssm';
}

/** "DPSR multi-head · adaptive softmax + sg + symmetric" for each loss of a tower preset. */
function towerVariantLabels<P extends string>(preset: P, name: string): Record<`${P}-${keyof typeof TOWER_LOSS}`, string> {
  const entries = (Object.keys(TOWER_LOSS) as (keyof typeof TOWER_LOSS)[]).map((loss) => [`${preset}-${loss}`, `${name} · ${LOSS_LABELS[TOWER_LOSS[loss]]}`]);
  return Object.fromEntries(entries) as Record<`${P}-${keyof typeof TOWER_LOSS}`, string>;
}

/** Human-readable names of the ablation variants (the rows of the table). */
export const VARIANT_LABELS: Record<AblationVariant, string> = {
  ...LOSS_LABELS,
  ...towerVariantLabels('dssm', 'DSSM'),
  ...towerVariantLabels('dpsr', 'DPSR multi-head'),
};

/** The loss overrides of the variants beyond the paper's table (learned hyper-parameters, Adap-τ). */
const EXTRA_OVERRIDES: Partial<Record<AblationVariant, string[]>> = {
  'margin-learned': ['loss.type="margin"', 'loss.adaptive=true', 'loss.stopGradient=true', 'loss.symmetric=true', 'loss.trainable=["alpha","delta0"]'],
  'softmax-learned': ['loss.type="softmax"', 'loss.adaptive=true', 'loss.stopGradient=true', 'loss.symmetric=true', 'loss.trainable=["alpha","tau0"]'],
  'softmax-adap-tau': ['loss.type="softmax"', 'loss.temperatureRule="adap-tau"', 'loss.symmetric=true'],
};

/**
 * `ablate --variants a,b,…`: the named variants in the table's order; each name must be one of ABLATION_VARIANTS.
 * Absent: the paper's 8.
 */
export function parseVariants(list: string | undefined): AblationVariant[] {
  if (list === undefined) return [...PAPER_VARIANTS];
  const names = list
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  const unknown = names.filter((n) => !(ABLATION_VARIANTS as readonly string[]).includes(n));
  if (unknown.length > 0) throw new Error(`--variants: unknown variant ${unknown.map((n) => `"${n}"`).join(', ')}; known: ${ABLATION_VARIANTS.join(', ')}`);
  if (names.length === 0) throw new Error(`--variants needs at least one of: ${ABLATION_VARIANTS.join(', ')}`);
  return ABLATION_VARIANTS.filter((v) => names.includes(v));
}

/** The loss overrides of an ablation variant (everything else comes from the base config). */
export function variantOverrides(v: AblationVariant): string[] {
  if (v.endsWith('-mgdspr')) return [...variantOverrides(v.slice(0, -'-mgdspr'.length) as AblationVariant), 'model.preset="mgdspr"'];
  const [preset, ...loss] = v.split('-');
  if (preset === 'dssm' || preset === 'dpsr') return [`model.preset="${preset}"`, ...variantOverrides(TOWER_LOSS[loss.join('-') as keyof typeof TOWER_LOSS])];
  const extra = EXTRA_OVERRIDES[v];
  if (extra) return extra;
  const [type, ...rest] = v.split('-');
  const adaptive = rest.includes('adaptive');
  return [
    `loss.type="${type}"`,
    `loss.adaptive=${adaptive}`,
    ...(adaptive ? [`loss.stopGradient=${rest.includes('sg')}`] : []),
    `loss.symmetric=${rest.includes('sym')}`,
  ];
}

/** The runs of an ablation: every variant × seed, variant-major in the table's order. */
export function planAblation(name: string, seeds: number[], variants: readonly AblationVariant[] = PAPER_VARIANTS): SweepRun[] {
  return variants.flatMap((variant) =>
    seeds.map((seed) =>
      newRun(`${variant}-s${seed}`, {
        variant,
        seed,
        overrides: [...variantOverrides(variant), `training.seed=${seed}`, `name=${JSON.stringify(slugify(`${name}-${variant}-s${seed}`))}`],
      }),
    ),
  );
}
