/**
 * Managing runs from the Runs tree (context menu) or the palette (then a quick pick asks which run): rename
 * (a display name), note and tags — stored in the run's user.json (core/runs/runUser.ts) — filter the tree,
 * and archive or delete a run, each after a modal confirmation naming the run and what happens to it; show the
 * archived runs and restore one. `retrieval-lens runs …` does the same from the terminal with the same modules.
 */
import * as path from 'path';
import * as vscode from 'vscode';
import { parseTags, readRunUser, updateRunUser } from '../../core/runs/runUser';
import { archiveRun, deleteRun, restoreRun, ARCHIVE_DIR } from '../../core/runs/runArchive';
import { pickRun, runDirOf } from '../commands';
import { runDescription } from './runItems';
import type { Services } from '../services';
import { resumeRun } from './resumeRunCommand';

/** The run of a command: the tree item / path it was invoked on, else a quick pick. */
async function targetRun(s: Services, arg: unknown, placeHolder: string): Promise<string | undefined> {
  return runDirOf(arg) ?? (await pickRun(s, placeHolder, undefined, s.shown.runDir ?? undefined));
}

/** Apply a user.json change, saying why when it cannot be written. */
function saveUser(s: Services, dir: string, patch: Parameters<typeof updateRunUser>[1]): boolean {
  try {
    updateRunUser(dir, patch);
    s.registry.refreshSoon();
    return true;
  } catch (e) {
    void vscode.window.showErrorMessage(`Retrieval Lens: ${(e as Error).message}`);
    return false;
  }
}

function currentUser(dir: string) {
  const read = readRunUser(dir);
  return read.ok ? read.user : { version: 1 as const };
}

/** Ask which run (unless given), then one user.json field in an input box titled "<title> <run folder>". */
async function editUser(
  s: Services,
  arg: unknown,
  o: { which: string; title: string; prompt: string; value: (dir: string) => string; patch: (text: string) => Parameters<typeof updateRunUser>[1] },
): Promise<void> {
  const dir = await targetRun(s, arg, o.which);
  if (!dir) return;
  const text = await vscode.window.showInputBox({ title: `${o.title} ${path.basename(dir)}`, prompt: o.prompt, value: o.value(dir) });
  if (text !== undefined) saveUser(s, dir, o.patch(text));
}

/** Archive or restore a run folder (`move` returns where it went), saying where or why not; then relist. */
async function moveRun(s: Services, dir: string, done: 'archived' | 'restored', move: (dir: string) => string): Promise<void> {
  try {
    const to = move(dir);
    s.log.info(`${done} ${dir} to ${to}`);
    void vscode.window.showInformationMessage(`Retrieval Lens: ${done} ${path.basename(dir)} to ${vscode.workspace.asRelativePath(to)}.`);
  } catch (e) {
    void vscode.window.showErrorMessage(`Retrieval Lens: ${(e as Error).message}`);
  }
  await s.registry.rescan();
  s.runsTree.refresh();
}

export function registerRunCommands(s: Services): vscode.Disposable[] {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const reg = (id: string, fn: (...args: any[]) => unknown) => vscode.commands.registerCommand(id, fn);
  return [
    reg('retrievalLens.renameRun', (arg?: unknown) =>
      editUser(s, arg, {
        which: 'Rename which run?',
        title: 'Rename',
        prompt:
          'Display name in the Runs view (stored in the run folder’s user.json; the run folder and meta.json keep their names). Empty: the experiment name again.',
        value: (dir) => currentUser(dir).name ?? s.registry.find(dir)?.name ?? '',
        patch: (name) => ({ name }),
      }),
    ),
    reg('retrievalLens.editRunNote', (arg?: unknown) =>
      editUser(s, arg, {
        which: 'Note on which run?',
        title: 'Note on',
        prompt: 'A note kept in the run folder’s user.json (shown in the tooltip and by retrieval-lens runs). Empty: no note.',
        value: (dir) => currentUser(dir).note ?? '',
        patch: (note) => ({ note }),
      }),
    ),
    reg('retrievalLens.editRunTags', (arg?: unknown) =>
      editUser(s, arg, {
        which: 'Tags of which run?',
        title: 'Tags of',
        prompt: 'Tags separated by commas or spaces (filter with tag:NAME). Empty: no tags.',
        value: (dir) => (currentUser(dir).tags ?? []).join(', '),
        patch: (text) => ({ tags: parseTags(text) }),
      }),
    ),
    reg('retrievalLens.filterRuns', async () => {
      const text = await vscode.window.showInputBox({
        title: 'Filter Runs',
        prompt:
          'Words that must all match: tag:NAME, status:completed|running|failed|stopped, config:FILE, or text in the name, folder, note or tags. Empty: every run.',
        value: s.runsTree.filter,
      });
      if (text !== undefined) s.runsTree.setFilter(text);
    }),
    reg('retrievalLens.clearRunsFilter', () => s.runsTree.setFilter('')),
    reg('retrievalLens.resumeRun', (arg?: unknown) => resumeRun(s, arg)),
    reg('retrievalLens.archiveRun', async (arg?: unknown) => {
      const dir = await targetRun(s, arg, 'Archive which run?');
      if (!dir) return;
      const choice = await vscode.window.showWarningMessage(
        `Archive ${path.basename(dir)}?`,
        {
          modal: true,
          detail: `It moves to ${path.join(path.basename(path.dirname(dir)), ARCHIVE_DIR)}/ and leaves the Runs view; nothing is deleted (Show Archived Runs, then Restore Run brings it back).`,
        },
        'Archive',
      );
      if (choice === 'Archive') await moveRun(s, dir, 'archived', archiveRun);
    }),
    reg('retrievalLens.showArchivedRuns', () => s.runsTree.setShowArchived(true)),
    reg('retrievalLens.hideArchivedRuns', () => s.runsTree.setShowArchived(false)),
    reg('retrievalLens.restoreRun', async (arg?: unknown) => {
      let dir = runDirOf(arg);
      if (!dir) {
        const archived = s.registry.archivedRuns();
        if (archived.length === 0) {
          void vscode.window.showInformationMessage('Retrieval Lens: no archived runs in the runs folders of this workspace.');
          return;
        }
        const picked = await vscode.window.showQuickPick(
          archived.map((r) => ({ label: r.name, description: runDescription(r), detail: vscode.workspace.asRelativePath(r.dir), dir: r.dir })),
          { placeHolder: 'Restore which archived run?', matchOnDescription: true, matchOnDetail: true },
        );
        dir = picked?.dir;
      }
      if (dir) await moveRun(s, dir, 'restored', restoreRun);
    }),
    reg('retrievalLens.deleteRun', async (arg?: unknown) => {
      const dir = await targetRun(s, arg, 'Delete which run?');
      if (!dir) return;
      const choice = await vscode.window.showWarningMessage(
        `Delete ${path.basename(dir)} permanently?`,
        { modal: true, detail: 'The run folder is removed with its events, checkpoints and evaluations. This cannot be undone; Archive keeps it instead.' },
        'Delete',
      );
      if (choice !== 'Delete') return;
      try {
        deleteRun(dir);
        s.log.info(`deleted ${dir}`);
      } catch (e) {
        void vscode.window.showErrorMessage(`Retrieval Lens: ${(e as Error).message}`);
      }
      await s.registry.rescan();
    }),
  ];
}
