import { listRuns } from '../core/runs/listRuns';

/** `retrieval-lens runs [--dir runs]`: one line per run, newest first. */
export function runsCommand(dir: string): number {
  const runs = listRuns(dir);
  if (runs.length === 0) {
    console.log(`no runs in ${dir}`);
    return 0;
  }
  const rows = runs.map((r) => [
    r.id,
    r.status,
    `${r.step}/${r.totalSteps ?? '?'}`,
    r.meta?.backend ?? '?',
    r.lastStep?.loss?.toFixed(4) ?? '–',
    r.lastStep?.verdict.state ?? '–',
  ]);
  const head = ['RUN', 'STATUS', 'STEP', 'BACKEND', 'LOSS', 'COLLAPSE'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  for (const r of [head, ...rows]) console.log(r.map((c, i) => c.padEnd(widths[i])).join('  '));
  for (const r of runs) for (const p of r.problems) console.log(`  ${r.id}: ${p}`);
  return 0;
}
