/**
 * What the dashboard's drill-down asks of the extension: the texts of sampled pairs (pairTexts.ts), opening a
 * training line, and the suspected-false-negatives remedy (data.maskDuplicateNegatives, one undoable config edit).
 */
import * as path from 'path';
import * as vscode from 'vscode';
import type { DashboardActions } from './dashboardHost';
import { isRunDataFile, PairTextReader, runDuplicateGroups } from './pairTexts';
import { renderDuplicateGroups } from '../../core/data/duplicateGroups';
import { applyRemedyToConfig } from '../training/trainingNotifications';

export function drilldownActions(
  runDir: () => string | null,
  configPath: () => string | null,
): Pick<DashboardActions, 'pairTexts' | 'openLine' | 'maskDuplicateNegatives' | 'duplicateGroups'> {
  const reader = new PairTextReader();
  return {
    pairTexts: async (refs) => {
      const dir = runDir();
      return dir ? reader.texts(dir, refs) : refs.map(() => null);
    },
    openLine: (file, line) => {
      const dir = runDir();
      if (!dir || !isRunDataFile(dir, file)) {
        void vscode.window.showWarningMessage(`Retrieval Lens: ${file} is not a data file of the run shown.`);
        return;
      }
      const pos = new vscode.Position(line - 1, 0);
      void vscode.window.showTextDocument(vscode.Uri.file(path.resolve(file)), { selection: new vscode.Range(pos, pos), preview: true });
    },
    maskDuplicateNegatives: () => {
      const config = configPath();
      if (!config) {
        void vscode.window.showWarningMessage('Retrieval Lens: the run shown has no experiment config to edit (it was built in memory).');
        return;
      }
      void applyRemedyToConfig(config, {
        label: 'Mask same-text negatives',
        why: 'many in-batch negatives have their positive’s text or most of its words (suspected false negatives); data.maskDuplicateNegatives masks the same-text ones in both trainers',
        settings: [[['data', 'maskDuplicateNegatives'], true]],
      });
    },
    duplicateGroups: () => {
      const dir = runDir();
      if (!dir) return;
      void vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'Retrieval Lens: finding duplicate groups…' }, async () => {
        try {
          const { report, source } = await runDuplicateGroups(dir);
          const doc = await vscode.workspace.openTextDocument({ language: 'markdown', content: renderDuplicateGroups(report, source) });
          await vscode.window.showTextDocument(doc, { preview: false });
        } catch (e) {
          void vscode.window.showWarningMessage(`Retrieval Lens: the duplicate groups could not be read: ${(e as Error).message}`);
        }
      });
    },
  };
}
