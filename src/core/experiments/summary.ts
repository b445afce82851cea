/**
 * What a sweep's runs say, computed from sweep.json's per-run results: the points of the sensitivity
 * picture (mean ± std over seeds per swept value, the adaptive reference, BM25) and the ablation table
 * (one row per variant, the best value of each column marked, whoever it belongs to).
 */
import { compareArms } from './claim';
import { VARIANT_LABELS, variantTower } from './sweepPlan';
import { queryHeadsOf, towerPreset } from '../model/towers/presets';
import type { ModelConfig } from '../config/types';
import {
  ABLATION_VARIANTS,
  PAPER_VARIANTS,
  SWEEP_FORMAT_VERSION,
  type AblationFile,
  type AblationRow,
  type AblationVariant,
  type MeanStd,
  type SweepFile,
  type SweepRun,
  type SweepRunResult,
  type SweepSummary,
} from './sweepFile';

/** mean and sample standard deviation (n − 1; null below 2 values) of finite values. */
export function meanStd(values: number[]): MeanStd {
  const v = values.filter((x) => Number.isFinite(x));
  const n = v.length;
  if (n === 0) return { n: 0, mean: null, std: null, values: [] };
  const mean = v.reduce((a, b) => a + b, 0) / n;
  const std = n < 2 ? null : Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1));
  return { n, mean, std, values: v };
}

/** The value of `metric` in a result; null when it was not measured. */
export function metricOf(r: SweepRunResult | null, metric: string): number | null {
  const v = r?.metrics[metric];
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

const completedValues = (runs: SweepRun[], pick: (r: SweepRunResult) => number | null): number[] =>
  runs
    .filter((r) => r.status === 'completed' && r.result)
    .sort((a, b) => a.seed - b.seed)
    .map((r) => pick(r.result as SweepRunResult))
    .filter((x): x is number => x !== null);

/** The summary of sweep.json from its runs. */
export function summarizeSweep(file: Pick<SweepFile, 'values' | 'metric' | 'runs'>): SweepSummary {
  const metric = file.metric;
  const points = file.values.map((value) => ({
    value,
    ...meanStd(
      completedValues(
        file.runs.filter((r) => !r.reference && r.variant === null && r.value === value),
        (res) => metricOf(res, metric),
      ),
    ),
  }));
  const refRuns = file.runs.filter((r) => r.reference);
  const reference = refRuns.length > 0 ? meanStd(completedValues(refRuns, (res) => metricOf(res, metric))) : null;
  const bm25Values = completedValues(file.runs, (res) => {
    const v = res.bm25?.[metric];
    return typeof v === 'number' ? v : null;
  });
  const counts: Record<string, number> = {};
  for (const r of file.runs) counts[r.status] = (counts[r.status] ?? 0) + 1;
  let bestValue: number | null = null;
  let bestMean = -Infinity;
  for (const p of points) {
    if (p.mean !== null && p.mean > bestMean) {
      bestMean = p.mean;
      bestValue = p.value;
    }
  }
  return { metric, points, reference, bm25: bm25Values.length > 0 ? meanStd(bm25Values) : null, bestValue, counts };
}

/** Columns of the ablation table, and whether lower is better. */
export const ABLATION_COLUMNS: { key: string; head: string; lowerIsBetter: boolean; percent: boolean }[] = [
  { key: 'recall@1', head: 'R@1', lowerIsBetter: false, percent: true },
  { key: 'recall@5', head: 'R@5', lowerIsBetter: false, percent: true },
  { key: 'recall@10', head: 'R@10', lowerIsBetter: false, percent: true },
  { key: 'mrr@10', head: 'MRR@10', lowerIsBetter: false, percent: true },
  { key: 'ndcg@10', head: 'nDCG@10', lowerIsBetter: false, percent: true },
  { key: 'ratio', head: 'R (final)', lowerIsBetter: false, percent: false },
  { key: 'violationRate', head: 'violations', lowerIsBetter: true, percent: true },
  { key: 'itemCosine', head: 'item cos', lowerIsBetter: true, percent: false },
  { key: 'trainingMs', head: 'train s', lowerIsBetter: true, percent: false },
];

function columnValue(res: SweepRunResult, key: string): number | null {
  if (key === 'ratio' || key === 'violationRate' || key === 'itemCosine' || key === 'trainingMs') return res[key];
  return metricOf(res, key);
}

/** The towers of runs as trained ("dssm", "mgdspr", "dpsr K=2"; runs that differ are joined with " / "); "–" before any completed. */
function towerOfRuns(configs: Record<string, unknown>[]): string {
  const names = new Set(
    configs.map((c) => {
      const model = (c.model ?? {}) as Partial<ModelConfig>;
      const preset = towerPreset(model);
      return preset === 'dpsr' ? `dpsr K=${queryHeadsOf(model)}` : preset;
    }),
  );
  return names.size === 0 ? '–' : [...names].join(' / ');
}

/** The ablation table from sweep.json's runs. */
export function ablationTable(file: SweepFile): AblationFile {
  const rows: AblationRow[] = [];
  for (const variant of ABLATION_VARIANTS) {
    const runs = file.runs.filter((r) => r.variant === variant).sort((a, b) => a.seed - b.seed);
    if (runs.length === 0) continue;
    const done = runs.filter((r) => r.status === 'completed' && r.result);
    const columns: Record<string, MeanStd> = {};
    for (const c of ABLATION_COLUMNS) columns[c.key] = meanStd(completedValues(runs, (res) => columnValue(res, c.key)));
    rows.push({
      variant,
      label: VARIANT_LABELS[variant],
      completed: done.length,
      planned: runs.length,
      columns,
      verdicts: done.map((r) => (r.result as SweepRunResult).verdict),
      runDirs: done.map((r) => r.runDir ?? ''),
      tower: towerOfRuns(done.map((r) => (r.result as SweepRunResult).config)),
    });
  }
  const best: Record<string, string> = {};
  for (const c of ABLATION_COLUMNS) {
    let pick: { variant: string; mean: number } | null = null;
    for (const row of rows) {
      const m = row.columns[c.key]?.mean;
      if (m === null || m === undefined) continue;
      if (!pick || (c.lowerIsBetter ? m < pick.mean : m > pick.mean)) pick = { variant: row.variant, mean: m };
    }
    if (pick) best[c.key] = pick.variant;
  }
  const sources = new Set(file.runs.filter((r) => r.result).map((r) => (r.result as SweepRunResult).source));
  const fixedValue = (variant: AblationVariant, key: 'margin' | 'temperature'): number | null => {
    const loss = file.runs.find((r) => r.variant === variant && r.result)?.result?.config.loss as Record<string, unknown> | undefined;
    return typeof loss?.[key] === 'number' ? loss[key] : null;
  };
  return {
    version: SWEEP_FORMAT_VERSION,
    configPath: file.configPath,
    seeds: file.seeds,
    steps: file.steps,
    source: sources.size === 1 ? [...sources][0] : sources.size === 0 ? 'in-batch' : 'mixed',
    columns: ABLATION_COLUMNS.map((c) => c.key),
    best,
    rows,
    code: file.code,
    fixed: { margin: fixedValue('margin-fixed', 'margin'), temperature: fixedValue('softmax-fixed', 'temperature') },
  };
}

/** "41.2 ± 1.3" (percent columns), "1.234 ± 0.020", "12.3" (seconds), "–" when not measured. */
export function formatCell(m: MeanStd | undefined, key: string): string {
  if (!m || m.mean === null) return '–';
  const col = ABLATION_COLUMNS.find((c) => c.key === key);
  const scale = key === 'trainingMs' ? 1 / 1000 : col?.percent ? 100 : 1;
  const digits = key === 'trainingMs' || col?.percent ? 1 : 3;
  const mean = (m.mean * scale).toFixed(digits);
  return m.std === null ? mean : `${mean} ± ${(m.std * scale).toFixed(digits)}`;
}

/** Verdicts of a row: "healthy ×3", or "healthy ×2, collapsed ×1". */
export function formatVerdicts(verdicts: string[]): string {
  if (verdicts.length === 0) return '–';
  const counts = new Map<string, number>();
  for (const v of verdicts) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts].map(([v, n]) => `${v} ×${n}`).join(', ');
}

/** The ablation table as rows of cells (header first); the best value of each column is marked with `mark`. */
export function ablationCells(t: AblationFile, mark: (cell: string) => string): string[][] {
  const head = ['variant', 'tower', ...ABLATION_COLUMNS.map((c) => c.head), 'verdict', 'runs'];
  const body = t.rows.map((row) => [
    row.label,
    row.tower ?? variantTower(row.variant),
    ...ABLATION_COLUMNS.map((c) => {
      const cell = formatCell(row.columns[c.key], c.key);
      return t.best[c.key] === row.variant && cell !== '–' ? mark(cell) : cell;
    }),
    formatVerdicts(row.verdicts),
    `${row.completed}/${row.planned}`,
  ]);
  return [head, ...body];
}

/**
 * Plain-text notes under the table: the metric source, then per loss family the paper's method as configured
 * (adaptive + stop-gradient + symmetric) against the fixed loss, decided by the one rule of claim.ts (no claim
 * below 2 seeds), naming the fixed δ / τ used (the config's values, not tuned ones); the other adaptive variants
 * follow by the same rule, marked as not the paper's method.
 */
export function ablationNotes(t: AblationFile): string[] {
  const notes = [
    t.source === 'corpus'
      ? 'Retrieval metrics: exact search over the corpus (data.test), in percent.'
      : t.source === 'in-batch'
        ? 'No test data: recall is in-batch recall of the last logged step (MRR@10 and nDCG@10 need a corpus), in percent.'
        : 'Rows mix corpus and in-batch recall (some runs had no evaluation).',
    `Mean ± sample std over seeds ${t.seeds.join(', ')}; the best value of each column is marked. R (final), violations and item cos are from the last logged step; violations and item cos: lower is better.`,
    'A "beats" is claimed only with 2 or more seeds an arm and Welch\'s two-sided t-test at p < 0.05 (README, "Sweeps and ablations").',
  ];
  const values = (variant: string) => t.rows.find((r) => r.variant === variant)?.columns['recall@10']?.values ?? [];
  for (const family of ['margin', 'softmax'] as const) {
    const fixedRow = t.rows.find((r) => r.variant === `${family}-fixed`);
    if (!fixedRow) continue;
    const v = family === 'margin' ? t.fixed?.margin : t.fixed?.temperature;
    const fixedLabel = `${fixedRow.label}${v != null ? ` = ${+v.toPrecision(4)}` : ''} (the config's value, not tuned: a sweep of loss.${family === 'margin' ? 'margin' : 'temperature'} finds the best fixed one)`;
    const fixed = { label: fixedLabel, values: fixedRow.columns['recall@10']?.values ?? [] };
    const paper = t.rows.find((r) => r.variant === `${family}-adaptive-sg-sym`);
    if (paper) notes.push(`${family}, the paper's method: ${compareArms({ label: paper.label, values: values(paper.variant) }, fixed, 'recall@10').text}.`);
    for (const other of t.rows.filter(
      (r) => isPaperVariant(r.variant) && r.variant.startsWith(`${family}-adaptive`) && r.variant !== `${family}-adaptive-sg-sym`,
    )) {
      notes.push(
        `${family}, ablated (not the paper's method): ${compareArms({ label: other.label, values: values(other.variant) }, { label: fixedRow.label, values: fixed.values }, 'recall@10').text}.`,
      );
    }
  }
  notes.push(...beyondPaperNotes(t), ...towerNotes(t));
  return notes;
}

/**
 * The tower-preset rows (dssm-…, dpsr-…): on each tower the adaptive loss against the fixed one and the learned
 * against the adaptive one; and each DPSR row against the DSSM row of the same loss. The rule of claim.ts throughout.
 */
function towerNotes(t: AblationFile): string[] {
  const notes: string[] = [];
  const row = (v: string) => t.rows.find((r) => r.variant === v);
  const arm = (r: AblationRow) => ({ label: r.label, values: r.columns['recall@10']?.values ?? [] });
  const pair = (a: AblationRow | undefined, b: AblationRow | undefined, what: string) => {
    if (a && b) notes.push(`${what}: ${compareArms(arm(a), arm(b), 'recall@10').text}.`);
  };
  for (const family of ['margin', 'softmax'])
    for (const preset of ['dssm', 'dpsr']) {
      pair(row(`${preset}-${family}-adaptive`), row(`${preset}-${family}-fixed`), `${preset} tower, ${family}`);
      pair(row(`${preset}-${family}-learned`), row(`${preset}-${family}-adaptive`), `${preset} tower, ${family}`);
    }
  for (const loss of ['margin-fixed', 'margin-adaptive', 'margin-learned', 'softmax-fixed', 'softmax-adaptive', 'softmax-learned'])
    pair(row(`dpsr-${loss}`), row(`dssm-${loss}`), `towers, ${loss}`);
  return notes;
}

/**
 * The variants beyond the paper's table (learned α/δ₀/τ₀, Adap-τ), each against the paper's method of its family
 * when that row was trained, else against the fixed loss; the same rule (claim.ts: no "beats" below 2 seeds an arm).
 */
function beyondPaperNotes(t: AblationFile): string[] {
  const notes: string[] = [];
  for (const row of t.rows.filter((r) => !isPaperVariant(r.variant))) {
    const family = row.variant.split('-')[0];
    // A tower's paper method against the fixed loss on that tower, a tower's fixed loss against the DSSM one.
    const tower = variantTower(row.variant) === 'mgdspr' ? '-mgdspr' : '';
    const base = tower
      ? t.rows.find((r) => r.variant === (row.variant.includes('-fixed') ? `${family}-fixed` : `${family}-fixed${tower}`))
      : (t.rows.find((r) => r.variant === `${family}-adaptive-sg-sym`) ?? t.rows.find((r) => r.variant === `${family}-fixed`));
    if (!base) continue;
    const arm = (r: AblationRow) => ({ label: r.label, values: r.columns['recall@10']?.values ?? [] });
    notes.push(`${family}, beyond the paper: ${compareArms(arm(row), arm(base), 'recall@10').text}.`);
  }
  return notes;
}

function isPaperVariant(v: string): boolean {
  return (PAPER_VARIANTS as readonly string[]).includes(v);
}

/** ablation.md: a Markdown table (best values in bold) and its notes. */
export function ablationMarkdown(t: AblationFile): string {
  const [head, ...body] = ablationCells(t, (c) => `**${c}**`);
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [
    `# Ablation of ${t.configPath}`,
    '',
    `Steps: ${t.steps ?? 'as configured'} · seeds: ${t.seeds.join(', ')} · Retrieval Lens ${t.code.retrievalLens}${t.code.gitCommit ? ` (git ${t.code.gitCommit})` : ''}`,
    '',
    line(head),
    line(head.map((_, i) => (i <= 1 || i >= head.length - 2 ? '---' : '---:'))),
    ...body.map(line),
    '',
    ...ablationNotes(t).map((n) => `- ${n}`),
    '',
  ].join('\n');
}

/** The ablation table for a terminal: aligned columns, best values marked with `*`. */
export function ablationText(t: AblationFile): string {
  const rows = ablationCells(t, (c) => `*${c}`);
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const out = rows.map((r) => r.map((c, i) => (i <= 1 || i >= r.length - 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  '));
  out.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('  '));
  return [...out, '', ...ablationNotes(t).map((n) => `* ${n.replace(/^Mean/, 'mean')}`)].join('\n');
}

/** The sweep summary for a terminal / output channel. */
export function sweepSummaryText(file: Pick<SweepFile, 'param' | 'metric' | 'summary'>): string {
  const s = file.summary;
  const fmt = (m: MeanStd | null) =>
    m && m.mean !== null ? `${(100 * m.mean).toFixed(1)}${m.std !== null ? ` ± ${(100 * m.std).toFixed(1)}` : ''} (n=${m.n})` : '–';
  const lines = [`${file.metric} (%) against ${file.param ?? 'value'}:`];
  for (const p of s.points)
    lines.push(`  ${String(p.value).padEnd(12)} ${fmt(p)}${p.value === s.bestValue ? (s.reference ? '  ← best fixed value' : '  ← best') : ''}`);
  if (s.reference) lines.push(`  ${'adaptive'.padEnd(12)} ${fmt(s.reference)}  (reference)`);
  if (s.bm25) lines.push(`  ${'BM25'.padEnd(12)} ${fmt(s.bm25)}`);
  const claim = sweepClaim(s);
  if (claim) lines.push(claim);
  lines.push(
    `runs: ${Object.entries(s.counts)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ')}`,
  );
  return lines.join('\n');
}

/**
 * The adaptive reference against the best fixed value of a sweep, by the one rule of claim.ts (no claim below
 * 2 seeds an arm). The best fixed value is chosen after the fact, which favours it; the sentence says so.
 * Null when either arm has no value.
 */
export function sweepClaim(s: Pick<SweepSummary, 'points' | 'reference' | 'bestValue' | 'metric'>): string | null {
  const best = s.points.find((p) => p.value === s.bestValue);
  if (!s.reference || s.reference.n === 0 || !best || best.n === 0) return null;
  const claim = compareArms(
    { label: 'the adaptive loss', values: s.reference.values },
    { label: `the best fixed value (${best.value}, picked after the fact)`, values: best.values },
    s.metric,
  );
  return claim.text;
}
