/**
 * Saving a dashboard chart the webview exported (`exportChart`: a PNG of the canvas or the chart's data as
 * CSV): the file name suggested from the chart's name, the bytes checked, a save dialog, the file written.
 * Nothing is written without the user choosing where.
 */
import * as path from 'path';
import * as vscode from 'vscode';
import { chartExportBytes, chartExportFileName } from './chartExportFile';
import type { FromDashboard } from '../../webview/dashboard/protocol';

export async function saveChartExport(m: Extract<FromDashboard, { type: 'exportChart' }>, runDir: string | null, log: vscode.LogOutputChannel): Promise<void> {
  const bytes = chartExportBytes(m.format, m.data);
  if (!bytes.ok) {
    log.warn(`chart export ignored: ${bytes.reason}`);
    void vscode.window.showErrorMessage(`Retrieval Lens: could not export the chart: ${bytes.reason}`);
    return;
  }
  const name = chartExportFileName(m.name, m.format);
  const folder = runDir ?? vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  const target = await vscode.window.showSaveDialog({
    title: m.format === 'png' ? 'Save chart as PNG' : 'Save chart data as CSV',
    defaultUri: folder ? vscode.Uri.file(path.join(folder, name)) : undefined,
    filters: m.format === 'png' ? { 'PNG image': ['png'] } : { CSV: ['csv'] },
  });
  if (!target) return;
  await vscode.workspace.fs.writeFile(target, bytes.value);
  log.info(`chart exported to ${target.fsPath}`);
}
