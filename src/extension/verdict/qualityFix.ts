/**
 * The quality verdict's remedies applied from the dashboard: the remedy (src/core/quality/qualityRemedies.ts)
 * computed from the run's experiment config as it is now (its open editor's text when it is open, unsaved
 * edits included), written as one undoable edit with its reason — as the collapse fixes are. A remedy that
 * would change nothing (hard negatives already set, the batch at its maximum) says so instead.
 */
import * as path from 'path';
import * as vscode from 'vscode';
import { parseConfigText } from '../../core/config/loadConfig';
import { ConfigError } from '../../core/config/configError';
// Not the core/quality barrel: it re-exports the held-out sample, which reaches faiss (never in the extension host).
import { qualityRemedies } from '../../core/quality/qualityRemedies';
import type { QualityRemedyId } from '../../core/quality/qualityVerdict';
import { applyRemedyToConfig, configText } from '../training/trainingNotifications';

/** Applies one quality remedy to the config the run was started from; false when nothing changed. */
export async function applyQualityRemedy(configPath: string | null, id: QualityRemedyId): Promise<boolean> {
  if (!configPath) {
    void vscode.window.showWarningMessage('Retrieval Lens: the run shown has no experiment config to edit (it was built in memory).');
    return false;
  }
  const text = configText(configPath);
  if (text === null) {
    void vscode.window.showWarningMessage(`Retrieval Lens: ${configPath} cannot be read.`);
    return false;
  }
  let remedies;
  try {
    remedies = qualityRemedies([id], parseConfigText(text, configPath).config);
  } catch (e) {
    const why = e instanceof ConfigError ? e.message : String(e);
    void vscode.window.showWarningMessage(`Retrieval Lens: fix the config first — ${why}`);
    return false;
  }
  if (remedies.length === 0) {
    void vscode.window.showInformationMessage(`Retrieval Lens: ${path.basename(configPath)} already has this setting (nothing to change).`);
    return false;
  }
  return applyRemedyToConfig(configPath, remedies[0]);
}
