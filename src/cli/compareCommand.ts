/**
 * `retrieval-lens compare <run> <run>… [--failures N] [--search exact|ann]`: the runs, the config keys that
 * differ, the final metrics side by side and the failing-query diff (counts, then the first N queries of
 * each group with their data file:line). Read-only.
 */
import * as fs from 'fs';
import * as path from 'path';
import { compareRuns, type RunComparison } from '../core/experiments/compareRuns';
import type { FailureDiffRow, FailureSearch } from '../core/experiments/failureDiff';
import { EVENTS_FILE, META_FILE } from '../core/runs/meta';
import { say, terminalSafe, warn } from './terminalText';

export interface CompareCommandOptions {
  runs: string[];
  /** Failing queries listed per group (default 10). */
  failures: number;
  search: FailureSearch;
}

/** A cell: numbers to 4 significant digits, null as "–". */
function cell(v: unknown): string {
  if (v === null || v === undefined) return '–';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : String(+v.toPrecision(4));
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** Left-aligned columns separated by two spaces. */
function table(head: string[], rows: string[][]): string[] {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  return [head, ...rows].map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  '));
}

/** The runs' column names: A, B, C, … */
export const runLetter = (i: number): string => (i < 26 ? String.fromCharCode(65 + i) : `R${i + 1}`);

/** The report as lines (what `compare` prints). */
export function formatComparison(c: RunComparison, opts: { failures: number; cwd?: string }): string[] {
  const cwd = opts.cwd ?? process.cwd();
  const rel = (p: string) => {
    const r = path.relative(cwd, p);
    return r && !r.startsWith('..') && !path.isAbsolute(r) ? r : p;
  };
  const L = c.runs.map((_, i) => runLetter(i));
  const out: string[] = ['runs:'];
  c.runs.forEach((r, i) =>
    out.push(`  ${L[i]}  ${rel(r.dir)}  (${r.status}, step ${r.step}${r.totalSteps ? `/${r.totalSteps}` : ''}${r.backend ? `, ${r.backend}` : ''})`),
  );
  for (const [i, r] of c.runs.entries()) for (const p of r.problems) out.push(`  ${L[i]}: ${p}`);
  for (const n of c.notes) out.push(`note: ${n}`);

  out.push('', `config keys that differ (${c.configDifferences.length}):`);
  if (c.configDifferences.length === 0) out.push('  (none: the configs are identical)');
  else
    out.push(
      ...table(
        ['  KEY', ...L],
        c.configDifferences.map((d) => [`  ${d.path}`, ...d.values.map((v) => (v === undefined ? '(absent)' : cell(v)))]),
      ),
    );

  out.push('', 'final metrics:');
  out.push(
    ...table(
      ['  METRIC', ...L],
      c.metrics.map((m) => [`  ${m.label}`, ...m.values.map(cell)]),
    ),
  );

  const f = c.failures;
  const searchName = f.search === 'exact' ? 'exact search' : 'IVF-PQ search';
  out.push('', `failing queries (${searchName}, latest full evaluation):`);
  out.push(
    `  ${f.totals.map((t, i) => `${L[i]}: ${t === null ? 'not evaluated' : `${t} failing${f.steps[i] !== null ? ` at step ${f.steps[i]}` : ''}`}`).join(' · ')}`,
  );
  const evaluated = f.evaluated.map((e, i) => (e ? i : -1)).filter((i) => i >= 0);
  if (evaluated.length < 2) {
    out.push('  no diff: fewer than two of the runs have a failures file (evaluate them first: retrieval-lens eval <run>)');
  } else {
    out.push(`  ${evaluated.map((i) => `fail only in ${L[i]}: ${f.onlyIn[i]}`).join(' · ')} · fail in all: ${f.inAll} · fail in some: ${f.rows.length}`);
    const groups = new Map<string, FailureDiffRow[]>();
    for (const r of f.rows) {
      const name = r.runs.flatMap((s, i) => (s ? [L[i]] : [])).join('+');
      if (!groups.has(name)) groups.set(name, []);
      groups.get(name)!.push(r);
    }
    for (const [name, rows] of groups) {
      const passing = evaluated.filter((i) => !rows[0].runs[i]).map((i) => L[i]);
      out.push(`  fail in ${name}, pass in ${passing.join('+')} (${rows.length}${rows.length > opts.failures ? `, first ${opts.failures}` : ''}):`);
      for (const r of rows.slice(0, opts.failures)) {
        const sides = r.runs
          .map((s, i) => (s ? `${L[i]} rank ${s.rank ?? '>cutoff'} ${s.label}` : null))
          .filter((s) => s !== null)
          .join('; ');
        out.push(`    ${rel(r.file)}:${r.line}  ${r.queryId}  ${JSON.stringify(r.query)}  (${sides})`);
      }
    }
  }
  for (const p of f.problems) out.push(`  ⚠ ${p}`);
  return out;
}

/** Runs the command; exit code 0, or 2 for bad arguments (a folder that is not a run). */
export function compareCommand(opts: CompareCommandOptions): number {
  if (opts.runs.length < 2) {
    warn(`retrieval-lens: compare needs two or more run folders, got ${opts.runs.length}`);
    return 2;
  }
  for (const r of opts.runs) {
    const abs = path.resolve(r);
    if (!fs.existsSync(path.join(abs, META_FILE)) && !fs.existsSync(path.join(abs, EVENTS_FILE))) {
      warn(`retrieval-lens: not a run folder (no ${META_FILE} or ${EVENTS_FILE}): ${abs}`);
      return 2;
    }
  }
  const c = compareRuns(
    opts.runs.map((r) => path.resolve(r)),
    { search: opts.search },
  );
  say(formatComparison(c, { failures: opts.failures }).map(terminalSafe).join('\n'));
  return 0;
}
