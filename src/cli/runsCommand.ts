import * as fs from 'fs';
import * as path from 'path';
import { listRuns } from '../core/runs/listRuns';
import { diskBytes } from '../core/runs/sharedFiles';
import { formatBytes } from '../core/bytes';
import { say, terminalSafe, warn } from './terminalText';
import { statusLabel } from '../core/runs/status';
import { readRunUser } from '../core/runs/runUser';
import { runFilter } from '../core/runs/runFilter';

/**
 * `retrieval-lens runs [--dir runs] [--filter "tag:x status:completed word"]`: one line per run, newest
 * first (with its size on disk, hard-linked checkpoint files counted once, and its tags and display name
 * from user.json), the runs the filter keeps (core/runs/runFilter.ts), then each run's note and problems
 * (malformed events.jsonl lines with their numbers, torn tail, damaged meta or user.json). A missing folder
 * is an error (exit 2), so a typo does not look like an empty folder.
 */
export function runsCommand(dir: string, filter = ''): number {
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
  const all = listRuns(dir, { checkLines: true });
  if (all.length === 0) {
    say(`no runs in ${dir}`);
    return 0;
  }
  const keep = runFilter(filter);
  const listed = all.map((run) => {
    const read = readRunUser(run.dir);
    const config = run.meta?.configPath ? path.basename(run.meta.configPath) : null;
    return { run, user: read.ok ? read.user : null, userProblem: read.ok ? null : read.message, config };
  });
  const shown = listed.filter(keep);
  if (shown.length === 0) {
    say(`no runs in ${dir} match "${filter}" (${all.length} runs)`);
    return 0;
  }
  const rows = shown.map(({ run: r, user }) =>
    [
      user?.name ? `${r.id} (${user.name})` : r.id,
      statusLabel(r),
      `${r.step}/${r.totalSteps ?? '?'}`,
      r.meta?.backend ?? '?',
      r.lastStep?.loss?.toFixed(4) ?? '–',
      r.lastStep?.verdict.state ?? '–',
      (user?.tags ?? []).join(',') || '–',
      formatBytes(diskBytes(r.dir)),
    ].map(terminalSafe),
  );
  const head = ['RUN', 'STATUS', 'STEP', 'BACKEND', 'LOSS', 'COLLAPSE', 'TAGS', 'SIZE'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  for (const r of [head, ...rows])
    say(
      r
        .map((c, i) => c.padEnd(widths[i]))
        .join('  ')
        .trimEnd(),
    );
  if (shown.length < all.length) say(`(${shown.length} of ${all.length} runs match "${filter}")`);
  for (const { run, user, userProblem } of shown) {
    if (user?.note) say(`  ${terminalSafe(run.id)}: note: ${terminalSafe(user.note.replace(/\s*\n\s*/g, ' / '))}`);
    for (const p of [...run.problems, ...(userProblem ? [userProblem] : [])]) say(`  ${terminalSafe(run.id)}: ${terminalSafe(p)}`);
  }
  return 0;
}
