/**
 * VS Code entry point (the only place that imports `vscode`). This first version starts and stops
 * training of the active `*.rlens.json` in the background trainer process and shows its log; the
 * dashboard, runs tree, failing queries and lenses build on it.
 */
import * as path from 'path';
import * as vscode from 'vscode';
import { startTrainer, type TrainerHandle } from '../trainer/client';

let active: TrainerHandle | undefined;

export function activate(context: vscode.ExtensionContext): void {
  const log = vscode.window.createOutputChannel('Retrieval Lens', { log: true });
  context.subscriptions.push(log);

  context.subscriptions.push(
    vscode.commands.registerCommand('retrievalLens.startTraining', async (uri?: vscode.Uri) => {
      const target = uri ?? vscode.window.activeTextEditor?.document.uri;
      const configUri = target?.fsPath.endsWith('.rlens.json')
        ? target
        : (await vscode.window.showOpenDialog({ filters: { 'Retrieval Lens experiment': ['rlens.json'] }, canSelectMany: false }))?.[0];
      if (!configUri) return;
      if (active) {
        void vscode.window.showWarningMessage('Retrieval Lens: a training run is already active.');
        return;
      }
      log.info(`starting training of ${configUri.fsPath}`);
      active = startTrainer({ configPath: configUri.fsPath, overrides: [] }, (m) => {
        if (m.type === 'log') log[m.level === 'warn' ? 'warn' : m.level === 'error' ? 'error' : 'info'](m.message);
        else if (m.type === 'started') log.info(`run ${m.runDir} (${m.backend}, ${m.totalSteps} steps)`);
        else if (m.type === 'step') log.trace(`step ${m.event.step} loss ${m.event.loss} ${m.event.verdict.state}`);
        else if (m.type === 'error') void vscode.window.showErrorMessage(`Retrieval Lens: ${m.message}`, 'Show Log').then((a) => a && log.show());
        else if (m.type === 'done') {
          log.info(`run ${m.status} at step ${m.step}${m.runDir ? `: ${path.basename(m.runDir)}` : ''}`);
          active = undefined;
        }
      }, { onInvalid: (r) => log.warn(`invalid trainer message: ${r}`), stderr: (s) => log.debug(s.trimEnd()) });
    }),
    vscode.commands.registerCommand('retrievalLens.stopTraining', () => active?.stop()),
    vscode.commands.registerCommand('retrievalLens.showLog', () => log.show()),
    { dispose: () => active?.stop() },
  );
}

export function deactivate(): void {
  active?.stop();
}
