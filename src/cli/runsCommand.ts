import * as fs from 'fs';
import * as path from 'path';
import { listRuns } from '../core/runs/listRuns';
import { diskBytes } from '../core/runs/sharedFiles';
import { formatBytes } from '../core/bytes';
import { say, terminalSafe, warn } from './terminalText';
import { statusLabel } from '../core/runs/status';
import { readRunUser } from '../core/runs/runUser';
import { runFilter } from '../core/runs/runFilter';
import { parseTags, updateRunUser } from '../core/runs/runUser';
import { ARCHIVE_DIR, archiveRun, deleteRun, restoreRun } from '../core/runs/runArchive';
import { EVENTS_FILE, META_FILE } from '../core/runs/meta';

/**
 * `retrieval-lens runs [--dir runs] [--filter "tag:x status:completed word"]`: one line per run, newest
 * first (with its size on disk, hard-linked checkpoint files counted once, and its tags and display name
 * from user.json), the runs the filter keeps (core/runs/runFilter.ts), then each run's note and problems
 * (malformed events.jsonl lines with their numbers, torn tail, damaged meta or user.json). A missing folder
 * is an error (exit 2), so a typo does not look like an empty folder. `archived`: the runs in
 * `<dir>/.archive/` instead (the ones `runs restore` can bring back).
 */
export function runsCommand(dir: string, filter = '', archived = false): number {
  if (archived) {
    const archive = path.join(dir, ARCHIVE_DIR);
    if (!fs.statSync(archive, { throwIfNoEntry: false })?.isDirectory()) {
      say(`no archived runs in ${dir}`);
      return 0;
    }
    return runsCommand(archive, filter);
  }
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

/** The actions of `retrieval-lens runs <action> <run> …`. */
export const RUN_ACTIONS = ['rename', 'note', 'tag', 'archive', 'restore', 'delete'] as const;
export type RunAction = (typeof RUN_ACTIONS)[number];

/** Thrown for a bad command line or a run that cannot be acted on: printed as is, exit 2. */
export class RunActionError extends Error {}

/**
 * The run folder a command names: a path to a run folder, else a folder name in `dir` (for `restore`, in
 * `dir/.archive`). A name that is no run says where it was looked for.
 */
export function resolveRunRef(ref: string, dir: string, archived: boolean): string {
  const isRun = (d: string) => fs.existsSync(path.join(d, META_FILE)) || fs.existsSync(path.join(d, EVENTS_FILE));
  const asPath = path.resolve(ref);
  if (fs.statSync(asPath, { throwIfNoEntry: false })?.isDirectory() && isRun(asPath)) return asPath;
  const where = archived ? path.join(dir, ARCHIVE_DIR) : dir;
  const named = path.resolve(where, ref);
  if (path.dirname(named) === path.resolve(where) && fs.statSync(named, { throwIfNoEntry: false })?.isDirectory() && isRun(named)) return named;
  const list = archived ? `retrieval-lens runs --archived --dir ${dir}` : `retrieval-lens runs --dir ${dir}`;
  throw new RunActionError(`no run "${ref}": not a run folder, nor a run in ${where}${path.sep} (${list} lists them)`);
}

/** Asks a yes/no question on the terminal; false unless the answer starts with y. */
async function confirm(question: string): Promise<boolean> {
  const readline = await import('readline/promises');
  const rl = readline.createInterface({ input: process.stdin, output: process.stdout });
  try {
    return /^y/i.test((await rl.question(`${question} [y/N] `)).trim());
  } finally {
    rl.close();
  }
}

/**
 * `retrieval-lens runs rename|note|tag|archive|restore|delete <run> …`: the Runs tree's commands from the
 * terminal, over the same files (user.json through core/runs/runUser.ts, the archive through
 * core/runs/runArchive.ts). rename / note / tag take one text ("" removes it; tags separated by commas or
 * spaces, replacing the run's tags). archive / delete / restore refuse a run that is training; delete asks on
 * a terminal and needs `--yes` otherwise. Exit 0 done, 1 declined, 2 refused (the reason printed).
 */
export async function runActionCommand(o: { action: RunAction; args: string[]; dir: string; yes: boolean }): Promise<number> {
  const { action, args, dir } = o;
  const takesText = action === 'rename' || action === 'note' || action === 'tag';
  if (args.length !== (takesText ? 2 : 1))
    throw new RunActionError(
      takesText
        ? `runs ${action} takes a run and one text (quote it; "" removes it), got ${args.length} argument${args.length === 1 ? '' : 's'}`
        : `runs ${action} takes one run, got ${args.length} arguments`,
    );
  const run = resolveRunRef(args[0], dir, action === 'restore');
  const shown = terminalSafe(path.relative(process.cwd(), run) || run);
  try {
    if (takesText) {
      const text = args[1];
      const user = updateRunUser(run, action === 'rename' ? { name: text } : action === 'note' ? { note: text } : { tags: parseTags(text) });
      const now = action === 'rename' ? user.name : action === 'note' ? user.note : user.tags?.join(', ');
      say(`${shown}: ${action === 'rename' ? 'name' : action === 'note' ? 'note' : 'tags'} ${now === undefined ? 'removed' : `"${terminalSafe(now)}"`}`);
      return 0;
    }
    if (action === 'archive') {
      say(`${shown}: archived to ${terminalSafe(path.relative(process.cwd(), archiveRun(run)))} (retrieval-lens runs restore brings it back)`);
      return 0;
    }
    if (action === 'restore') {
      say(`${shown}: restored to ${terminalSafe(path.relative(process.cwd(), restoreRun(run)))}`);
      return 0;
    }
    if (!o.yes) {
      if (!process.stdin.isTTY)
        throw new RunActionError(`runs delete ${shown}: add --yes to delete it (it removes the folder with its events and checkpoints)`);
      if (!(await confirm(`Delete ${shown} permanently (events, checkpoints, evaluations)?`))) {
        say('not deleted');
        return 1;
      }
    }
    deleteRun(run);
    say(`${shown}: deleted`);
    return 0;
  } catch (e) {
    if (e instanceof RunActionError) throw e;
    throw new RunActionError(`runs ${action}: ${(e as Error).message}`);
  }
}
