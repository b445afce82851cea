/**
 * The sweep commands: "Run Sweep…" (also the "Sweep…" lenses: the config's Uri and the parameter as
 * arguments), "Run Ablation", "Resume Sweep…", "Cancel Sweep".
 */
import * as vscode from 'vscode';
import { activeConfig, pickConfig } from '../commands';
import { isExperimentConfig } from '../configEditor/experimentFiles';
import type { Services } from '../services';
import type { SweepController } from './sweepController';
import { requireTrust } from '../shared/workspaceTrust';

export function registerSweepCommands(s: Services, sweeps: SweepController): vscode.Disposable[] {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const reg = (id: string, fn: (...args: any[]) => unknown) => vscode.commands.registerCommand(id, fn);
  const configOf = async (uri: unknown, what: string) =>
    uri instanceof vscode.Uri && isExperimentConfig(uri.fsPath) ? uri.fsPath : (activeConfig() ?? (await pickConfig(s, what)));
  return [
    reg('retrievalLens.runSweep', async (uri?: unknown, param?: unknown) => {
      if (!requireTrust('Sweeps')) return;
      const configPath = await configOf(uri, 'Sweep which experiment?');
      if (configPath) await sweeps.startSweep(configPath, typeof param === 'string' ? param : undefined);
    }),
    reg('retrievalLens.runAblation', async (uri?: unknown) => {
      if (!requireTrust('Ablations')) return;
      const configPath = await configOf(uri, 'Ablation of which experiment?');
      if (configPath) await sweeps.startAblation(configPath);
    }),
    reg('retrievalLens.resumeSweep', async () => {
      if (!requireTrust('Sweeps')) return;
      await s.registry.ensureScanned();
      await sweeps.pickAndResume(s.registry.configPaths);
    }),
    reg('retrievalLens.cancelSweep', () => sweeps.cancel()),
  ];
}
