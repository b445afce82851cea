import * as fs from 'fs';
import * as path from 'path';
import { listRuns } from '../core/runs/listRuns';
import { diskBytes } from '../core/runs/sharedFiles';
import { formatBytes } from '../core/bytes';
import { say, terminalSafe, warn } from './terminalText';
import { statusLabel } from '../core/runs/status';

/**
 * `retrieval-lens runs [--dir runs]`: one line per run, newest first (with its size on disk, hard-linked
 * checkpoint files counted once), then each run's problems
 * (malformed events.jsonl lines with their numbers, torn tail, damaged meta). A missing folder is
 * an error (exit 2), so a typo does not look like an empty folder.
 */
export function runsCommand(dir: string): number {
  const abs = path.resolve(dir);
  const st = fs.statSync(abs, { throwIfNoEntry: false });
  if (!st) {
    warn(`retrieval-lens: runs folder not found: ${abs}`);
    return 2;
  }
  if (!st.isDirectory()) {
    warn(`retrieval-lens: ${abs} is not a folder`);
    return 2;
  }
  const runs = listRuns(dir, { checkLines: true });
  if (runs.length === 0) {
    say(`no runs in ${dir}`);
    return 0;
  }
  const rows = runs.map((r) =>
    [
      r.id,
      statusLabel(r),
      `${r.step}/${r.totalSteps ?? '?'}`,
      r.meta?.backend ?? '?',
      r.lastStep?.loss?.toFixed(4) ?? '–',
      r.lastStep?.verdict.state ?? '–',
      formatBytes(diskBytes(r.dir)),
    ].map(terminalSafe),
  );
  const head = ['RUN', 'STATUS', 'STEP', 'BACKEND', 'LOSS', 'COLLAPSE', 'SIZE'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  for (const r of [head, ...rows])
    say(
      r
        .map((c, i) => c.padEnd(widths[i]))
        .join('  ')
        .trimEnd(),
    );
  for (const r of runs) for (const p of r.problems) say(`  ${r.id}: ${p}`);
  return 0;
}
