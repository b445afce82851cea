/**
 * The Experiments commands: "Compare Runs…" (palette: a multi-select quick pick of the workspace's runs),
 * "Compare Selected Runs" (Runs tree context menu on a multi-selection) and `retrievalLens.showSweep` (a
 * thin command: `(sweepDir, view)`, `(view)` or `(sweepDir)`, a folder alone read with core/experiments/sweepView.ts).
 */
import * as vscode from 'vscode';
import { parseToExperiments, type SweepView } from '../../webview/experiments/protocol';
import { isRunFolder, type ExperimentsPanels } from './experimentsPanel';
import type { RunRegistry } from '../runs/runRegistry';
import { runDescription } from '../runs/runItems';
import type { RunsNode } from '../runs/runsTree';
import { sweepViewOf } from '../../core/experiments/sweepView';

/** Run folders of command arguments: paths, Uris or Runs tree nodes (the clicked one and the selection). */
function runDirsOf(args: unknown[]): string[] {
  const dirs: string[] = [];
  const add = (a: unknown) => {
    if (Array.isArray(a)) return a.forEach(add);
    const dir =
      typeof a === 'string'
        ? a
        : a instanceof vscode.Uri
          ? a.fsPath
          : (a as RunsNode | undefined)?.kind === 'run'
            ? (a as Extract<RunsNode, { kind: 'run' }>).run.dir
            : undefined;
    if (dir && !dirs.includes(dir)) dirs.push(dir);
  };
  args.forEach(add);
  return dirs;
}

/** A multi-select quick pick of the workspace's runs (`preselected` ticked); undefined when dismissed. */
async function pickRuns(registry: RunRegistry, preselected: readonly string[]): Promise<string[] | undefined> {
  await registry.ensureScanned();
  const runs = registry.allRuns();
  if (runs.length < 2) {
    void vscode.window.showInformationMessage(`Retrieval Lens: comparing needs two or more runs; this workspace has ${runs.length}.`);
    return undefined;
  }
  const items = runs.map((r) => ({
    label: `${r.status === 'running' ? '$(sync~spin) ' : ''}${r.name}`,
    description: runDescription(r),
    detail: vscode.workspace.asRelativePath(r.dir),
    picked: preselected.includes(r.dir),
    dir: r.dir,
  }));
  const picked = await vscode.window.showQuickPick(items, {
    canPickMany: true,
    placeHolder: 'Compare which runs? (two or more)',
    matchOnDescription: true,
    matchOnDetail: true,
  });
  return picked?.map((p) => p.dir);
}

async function compare(panels: ExperimentsPanels, registry: RunRegistry, dirs: string[], log: vscode.LogOutputChannel): Promise<void> {
  const chosen = dirs.length >= 2 ? dirs : await pickRuns(registry, dirs);
  if (!chosen) return;
  if (chosen.length < 2) {
    void vscode.window.showWarningMessage('Retrieval Lens: pick two or more runs to compare.');
    return;
  }
  const missing = chosen.filter((d) => !isRunFolder(d));
  if (missing.length) {
    void vscode.window.showErrorMessage(`Retrieval Lens: not a run folder (no meta.json or events.jsonl): ${missing.join(', ')}`);
    return;
  }
  try {
    panels.showComparison(chosen);
  } catch (e) {
    log.error(`compare ${chosen.join(' ')}: ${(e as Error).stack ?? e}`);
    void vscode.window.showErrorMessage(`Retrieval Lens: cannot compare the runs: ${(e as Error).message}`);
  }
}

export function registerExperimentCommands(panels: ExperimentsPanels, registry: RunRegistry, log: vscode.LogOutputChannel): vscode.Disposable[] {
  return [
    // From the palette: no arguments (quick pick); from a menu: (clicked node, selected nodes).
    vscode.commands.registerCommand('retrievalLens.compareRuns', (...args: unknown[]) => compare(panels, registry, runDirsOf(args), log)),
    vscode.commands.registerCommand('retrievalLens.compareSelectedRuns', (...args: unknown[]) => compare(panels, registry, runDirsOf(args), log)),
    // (sweepDir, view?) or (view): a built view is shown as is (its metric selector re-reads the folder when a
    // folder is given); a folder alone is read from its sweep.json.
    vscode.commands.registerCommand('retrievalLens.showSweep', async (a: unknown, b?: unknown) => {
      try {
        const dir = typeof a === 'string' ? a : null;
        const given = typeof a === 'object' && a !== null ? a : typeof b === 'object' && b !== null ? b : null;
        const rebuild = dir ? (m: string) => sweepViewOf(dir, m) : undefined;
        if (given) {
          const r = parseToExperiments({ type: 'sweep', view: given });
          if (!r.ok) throw new Error(`not a sweep view: ${r.reason}`);
          panels.showSweepView(given as SweepView, rebuild);
        } else if (dir) {
          panels.showSweepView(sweepViewOf(dir, typeof b === 'string' ? b : undefined), (m) => sweepViewOf(dir, m));
        } else throw new Error('retrievalLens.showSweep takes a sweep folder and/or a sweep view');
      } catch (e) {
        void vscode.window.showErrorMessage(`Retrieval Lens: cannot show the sweep: ${(e as Error).message}`);
      }
    }),
  ];
}
