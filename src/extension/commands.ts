/**
 * The command handlers (every command is in the palette as "Retrieval Lens: …", except the internal
 * ones used by tree items): start / stop training, dashboards, runs, evaluation, failing queries,
 * the log, and a new experiment from the bundled example.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import { isPidAlive } from '../core/runs/status';
import { readMeta } from '../core/runs/meta';
import { evaluationSummary } from './evaluation/evaluationSummary';
import { nprobeEdit, suggestedNprobe } from './evaluation/nprobeFix';
import { readMetrics } from '../core/eval/evalOutputs';
import type { RunSummary } from '../core/runs/readRun';
import { failuresPath } from './failures/failureRecords';
import { copyExample } from './configEditor/exampleProject';
import { newExperiment } from './configEditor/newExperimentCommand';
import { isExperimentConfig, samePath } from './configEditor/experimentFiles';
import { runDescription, hasCheckpoint } from './runs/runItems';
import type { RunsNode } from './runs/runsTree';
import { distinctRunLabels } from '../core/runs/runLabels';
import type { Services } from './services';
import { enableCollapseFix } from './training/trainingNotifications';
import { requireTrust } from './shared/workspaceTrust';
import { trainConflict } from './training/trainConflict';

/** A run folder from a command argument: a path, a Uri, or a Runs tree node. */
export function runDirOf(arg: unknown): string | undefined {
  if (typeof arg === 'string' && arg !== '') return arg;
  if (arg instanceof vscode.Uri) return arg.fsPath;
  const node = arg as RunsNode | undefined;
  if (node && typeof node === 'object' && node.kind === 'run') return node.run.dir;
  return undefined;
}

export function registerCommands(s: Services): vscode.Disposable[] {
  // Command arguments come from VS Code (menus, lenses, the palette): each handler declares what it takes.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const reg = (id: string, fn: (...args: any[]) => unknown) => vscode.commands.registerCommand(id, fn);
  return [
    reg('retrievalLens.startTraining', (uri?: vscode.Uri) => startTraining(s, uri)),
    reg('retrievalLens.stopTraining', () => stopTraining(s)),
    reg('retrievalLens.showDashboard', async (arg?: unknown) => {
      const dir = runDirOf(arg);
      if (dir) s.shown.show(dir);
      else await ensureSomethingShown(s);
      await s.dashboardView.reveal();
    }),
    reg('retrievalLens.openDashboardInEditor', async (arg?: unknown) => {
      const dir = runDirOf(arg);
      if (dir) s.shown.show(dir);
      else await ensureSomethingShown(s);
      s.dashboardPanel.open();
    }),
    reg('retrievalLens.openRun', async (arg?: unknown) => {
      const dir = runDirOf(arg) ?? (await pickRun(s, 'Open a run in the dashboard'));
      if (!dir) return;
      s.shown.show(dir);
      s.runsTree.refresh();
      followFailuresOf(s, dir);
      await s.dashboardView.reveal();
    }),
    reg('retrievalLens.evaluateRun', (arg?: unknown) => evaluateRun(s, runDirOf(arg))),
    reg('retrievalLens.applySuggestedNprobe', (arg?: unknown) => applySuggestedNprobe(s, runDirOf(arg))),
    reg('retrievalLens.nextFailingQuery', () => s.navigator.step(1)),
    reg('retrievalLens.previousFailingQuery', () => s.navigator.step(-1)),
    reg('retrievalLens.openFailure', (key: string) => s.navigator.openKey(key)),
    reg('retrievalLens.showEmbeddingMap', (arg?: unknown) => showEmbeddingMap(s, runDirOf(arg))),
    reg('retrievalLens.switchFailuresSearch', () => {
      if (s.failures.switchSearch() < 0)
        void vscode.window.showInformationMessage('Retrieval Lens: this evaluation has failing queries of the exact search only.');
      s.failuresView.message = s.failures.summary;
      void s.navigator.afterSearchSwitch();
    }),
    reg('retrievalLens.showLog', () => s.log.show(true)),
    reg('retrievalLens.refreshRuns', () => s.registry.rescan()),
    reg('retrievalLens.newExperimentFromExample', () => newExperimentFromExample(s)),
    reg('retrievalLens.newExperiment', () => newExperiment(s)),
    // From the palette / editor title (a Uri) or a notification's command link (the config's path).
    reg('retrievalLens.enableCollapseFix', async (arg?: vscode.Uri | string) => {
      const configPath =
        (typeof arg === 'string' && arg !== '' ? arg : arg instanceof vscode.Uri ? arg.fsPath : undefined) ??
        activeConfig() ??
        (await pickConfig(s, 'Which experiment?'));
      if (configPath) await enableCollapseFix(configPath);
    }),
    reg('retrievalLens.revealRunFolder', async (arg?: unknown) => {
      const dir = runDirOf(arg);
      if (dir) await vscode.commands.executeCommand('revealFileInOS', vscode.Uri.file(path.join(dir, 'meta.json')));
    }),
  ];
}

/** The active editor's experiment config, if any. */
export function activeConfig(): string | undefined {
  const doc = vscode.window.activeTextEditor?.document;
  return doc && doc.uri.scheme === 'file' && isExperimentConfig(doc.uri.fsPath) ? doc.uri.fsPath : undefined;
}

/** Pick one of the workspace's configs (the only one without asking); undefined when none / dismissed. */
export async function pickConfig(s: Services, placeHolder: string): Promise<string | undefined> {
  await s.registry.ensureScanned();
  const configs = s.registry.configPaths;
  if (configs.length === 1) return configs[0];
  if (configs.length === 0) {
    const choice = await vscode.window.showInformationMessage(
      'Retrieval Lens: this workspace has no experiment (*.rlens.json).',
      'New Experiment from Example',
    );
    if (choice) await vscode.commands.executeCommand('retrievalLens.newExperimentFromExample');
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(
    configs.map((c) => ({ label: path.basename(c), description: vscode.workspace.asRelativePath(path.dirname(c)), configPath: c })),
    { placeHolder },
  );
  return picked?.configPath;
}

async function startTraining(s: Services, uri?: vscode.Uri): Promise<void> {
  if (!requireTrust('Training')) return;
  const configPath = uri && isExperimentConfig(uri.fsPath) ? uri.fsPath : (activeConfig() ?? (await pickConfig(s, 'Train which experiment?')));
  if (!configPath) return;
  const live = s.training.current;
  if (live) {
    const choice = await vscode.window.showWarningMessage(
      `Retrieval Lens: ${path.basename(live.configPath)} is already training (one run at a time).`,
      'Show Dashboard',
      'Stop It',
    );
    if (choice === 'Show Dashboard') await vscode.commands.executeCommand('retrievalLens.showDashboard', live.runDir ?? undefined);
    else if (choice === 'Stop It') s.training.stop();
    return;
  }
  if (!(await askIfAlreadyTraining(s, configPath))) return;
  const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(configPath));
  if (doc.isDirty && !(await doc.save())) {
    void vscode.window.showErrorMessage(`Retrieval Lens: could not save ${path.basename(configPath)} before training.`);
    return;
  }
  const problems = s.configDiagnostics.problemCount(doc);
  if (problems > 0) {
    const choice = await vscode.window.showErrorMessage(
      `Retrieval Lens: ${path.basename(configPath)} has ${problems} problem${problems === 1 ? '' : 's'}; fix ${problems === 1 ? 'it' : 'them'} before training.`,
      'Show Problems',
    );
    if (choice) await vscode.commands.executeCommand('workbench.actions.view.problems');
    return;
  }
  s.training.start(configPath);
  await s.dashboardView.reveal();
}

/**
 * A run of the config is running (a sweep's, or one started elsewhere): ask before training it again — start
 * another, show the running one, or cancel. True: go on.
 */
async function askIfAlreadyTraining(s: Services, configPath: string): Promise<boolean> {
  await s.registry.ensureScanned();
  s.registry.relistNow(); // not only what file events have reported so far (a CLI run started a moment ago)
  const running = s.registry.runsOfConfig(configPath).filter((r) => r.status === 'running');
  const conflict = trainConflict(configPath, running, s.sweeps?.runDirs() ?? new Set());
  if (!conflict) return true;
  const another = 'Start Another';
  const show = 'Show the Running One';
  const choice = await vscode.window.showWarningMessage(`Retrieval Lens: ${conflict.message}`, { modal: true }, another, show);
  if (choice === show) await vscode.commands.executeCommand('retrievalLens.showDashboard', conflict.runDir);
  return choice === another;
}

async function stopTraining(s: Services): Promise<void> {
  if (s.training.stop()) return;
  const h = s.shown.header;
  if (h?.status === 'running') {
    await explainRunElsewhere(h.runDir);
    return;
  }
  void vscode.window.showInformationMessage('Retrieval Lens: no training is running.');
}

/** The run shown is running but not from this window: say so, and offer to signal its process when it is local. */
export async function explainRunElsewhere(runDir: string): Promise<void> {
  const read = readMeta(runDir);
  const meta = read.ok ? read.meta : null;
  const local = !!meta && meta.host === os.hostname() && meta.pid !== null && isPidAlive(meta.pid);
  const where = meta ? `process ${meta.pid ?? '?'} on ${meta.host}` : 'another process';
  const message = `Retrieval Lens: ${path.basename(runDir)} was started outside this window (${where}); stop it where it runs (Ctrl-C in its terminal).`;
  if (!local || !meta?.pid) {
    void vscode.window.showInformationMessage(message);
    return;
  }
  const pid = meta.pid;
  const choice = await vscode.window.showInformationMessage(message, 'Send Stop Signal (SIGINT)');
  if (choice) {
    try {
      process.kill(pid, 'SIGINT');
    } catch (e) {
      void vscode.window.showErrorMessage(`Retrieval Lens: could not signal process ${pid}: ${(e as Error).message}`);
    }
  }
}

/** Show the most relevant run when nothing is shown yet: the live one, else the newest. */
async function ensureSomethingShown(s: Services): Promise<void> {
  if (s.shown.runDir) return;
  await s.registry.ensureScanned();
  const dir = s.training.current?.runDir ?? s.registry.allRuns()[0]?.dir;
  if (dir) {
    s.shown.show(dir);
    loadFailuresOf(s, dir);
  }
}

/** Show `runDir`'s failures in the tree (when it has an evaluation). */
export function loadFailuresOf(s: Services, runDir: string): void {
  const n = s.failures.load(runDir);
  s.failuresView.message = n >= 0 ? s.failures.summary : undefined;
}

/**
 * The dashboard moved to `runDir` (a training started, a run was opened): its failing queries replace the
 * list when it has an evaluation; a run without one leaves the list the user chose as it is (its message
 * names its run), so the view does not empty whenever the dashboard switches to an unevaluated run.
 */
export function followFailuresOf(s: Services, runDir: string): void {
  if (s.failures.runDir !== null && !fs.existsSync(failuresPath(runDir)) && !fs.existsSync(failuresPath(runDir, 'ann'))) return;
  loadFailuresOf(s, runDir);
}

/**
 * The run a command acts on when its invocation names none (the palette): the only candidate, else a quick
 * pick with the dashboard's run first. Never a run chosen silently among several.
 */
export async function whichRun(s: Services, placeHolder: string, ok: (r: RunSummary) => boolean): Promise<string | undefined> {
  await s.registry.ensureScanned();
  const candidates = s.registry.allRuns().filter(ok);
  if (candidates.length === 1) return candidates[0].dir;
  const shown = s.shown.runDir;
  return pickRun(s, placeHolder, (d) => candidates.some((r) => samePath(r.dir, d)), shown ?? undefined);
}

/** Quick pick of all runs (newest first, live/running marked), plus "Browse…" for a run folder elsewhere. */
export async function pickRun(s: Services, placeHolder: string, filter: (dir: string) => boolean = () => true, first?: string): Promise<string | undefined> {
  await s.registry.ensureScanned();
  type Item = vscode.QuickPickItem & { dir?: string; browse?: boolean };
  const listed = s.registry.allRuns().filter((r) => filter(r.dir));
  const runs = [...listed.filter((r) => samePath(r.dir, first)), ...listed.filter((r) => !samePath(r.dir, first))];
  const labels = distinctRunLabels(runs.map((r) => ({ name: r.name, id: r.id, startedAt: r.startedAt, userName: s.registry.userOf(r.dir)?.name })));
  const items: Item[] = runs.map((r, i) => {
    const tags = s.registry.userOf(r.dir)?.tags ?? [];
    return {
      label: `${r.status === 'running' ? '$(sync~spin) ' : ''}${labels[i]}`,
      description: [samePath(r.dir, first) ? '◉ in the dashboard ·' : '', runDescription(r), ...tags.map((t) => `#${t}`)].filter((x) => x).join(' '),
      detail: vscode.workspace.asRelativePath(r.dir),
      dir: r.dir,
    };
  });
  items.push({ label: '$(folder-opened) Browse for a run folder…', browse: true });
  const picked = await vscode.window.showQuickPick(items, { placeHolder, matchOnDescription: true, matchOnDetail: true });
  if (!picked) return undefined;
  if (!picked.browse) return picked.dir;
  const folder = await vscode.window.showOpenDialog({
    canSelectFolders: true,
    canSelectFiles: false,
    openLabel: 'Open Run',
    title: 'A run folder (with meta.json)',
  });
  const dir = folder?.[0]?.fsPath;
  if (dir && !fs.existsSync(path.join(dir, 'meta.json')) && !fs.existsSync(path.join(dir, 'events.jsonl'))) {
    void vscode.window.showErrorMessage(`Retrieval Lens: ${dir} is not a run folder (no meta.json or events.jsonl).`);
    return undefined;
  }
  return dir;
}

async function evaluateRun(s: Services, dir?: string): Promise<void> {
  if (!requireTrust('Evaluation')) return;
  await s.registry.ensureScanned();
  const runDir = dir ?? (await whichRun(s, 'Evaluate which run?', (r) => hasCheckpoint(r) && r.status !== 'running'));
  if (!runDir) return;
  if (s.training.isLiveRun(runDir)) {
    void vscode.window.showWarningMessage('Retrieval Lens: this run is still training; stop it or wait for it to finish, then evaluate.');
    return;
  }
  const result = await s.evaluation.evaluate(runDir);
  if (!result) return;
  s.shown.show(result.runDir);
  loadFailuresOf(s, result.runDir);
  s.runsTree.refresh();
  const nprobe = suggestedNprobe(result.entry);
  const setNprobe = nprobe ? `Set nprobe ${nprobe.nprobe}` : null;
  const choice = await vscode.window.showInformationMessage(
    `Retrieval Lens: ${path.basename(result.runDir)} — ${evaluationSummary(result.entry)}.`,
    'Show Failing Queries',
    'Show Embedding Map',
    ...(setNprobe ? [setNprobe] : []),
  );
  if (choice === 'Show Failing Queries') await vscode.commands.executeCommand('retrievalLens.failures.focus');
  else if (choice === 'Show Embedding Map') s.embeddingMaps.show(result.runDir);
  else if (choice && choice === setNprobe) await applySuggestedNprobe(s, result.runDir);
}

/**
 * Command "Set IVF-PQ nprobe from the Last Evaluation": the run's latest evaluation's suggested nprobe
 * (nprobeFix.ts) written into its config file as one undoable edit.
 */
async function applySuggestedNprobe(s: Services, dir?: string): Promise<void> {
  await s.registry.ensureScanned();
  const runDir = dir ?? (await whichRun(s, 'Set nprobe from the last evaluation of which run?', (r) => !!r.lastEval));
  if (!runDir) return;
  const entry = readMetrics(runDir)
    .evaluations.filter((e) => !e.queries.subset)
    .pop();
  const meta = readMeta(runDir);
  const configPath = meta.ok ? meta.meta.configPath : null;
  const suggestion = entry ? suggestedNprobe(entry) : null;
  if (!entry?.nprobeCurve || !suggestion || !configPath) {
    void vscode.window.showInformationMessage(
      `Retrieval Lens: ${path.basename(runDir)} has ${!entry?.nprobeCurve ? 'no nprobe curve (evaluate it with an IVF-PQ index and the exact search)' : !configPath ? 'no config file recorded' : 'the suggested nprobe configured already'}.`,
    );
    return;
  }
  const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(configPath));
  const editor = await vscode.window.showTextDocument(doc, { preview: false });
  const edit = nprobeEdit(doc.getText(), suggestion.nprobe, {
    insertSpaces: editor.options.insertSpaces !== false,
    tabSize: typeof editor.options.tabSize === 'number' ? editor.options.tabSize : 2,
    eol: doc.eol === vscode.EndOfLine.CRLF ? '\r\n' : '\n',
  });
  if (!edit) {
    void vscode.window.showInformationMessage(`Retrieval Lens: ${path.basename(configPath)} already sets nprobe ${suggestion.nprobe}.`);
    return;
  }
  const we = new vscode.WorkspaceEdit();
  we.replace(doc.uri, new vscode.Range(doc.positionAt(edit.offset), doc.positionAt(edit.offset + edit.length)), edit.content);
  if (await vscode.workspace.applyEdit(we))
    void vscode.window.showInformationMessage(
      `Retrieval Lens: evaluation.index.nprobe ${suggestion.nprobe} in ${path.basename(configPath)} — ${suggestion.why}. Undo with Ctrl+Z.`,
    );
}

/** The embedding map of a run with a checkpoint: the shown run, the failures' run, or one picked. */
async function showEmbeddingMap(s: Services, dir?: string): Promise<void> {
  if (!requireTrust('The embedding map')) return;
  await s.registry.ensureScanned();
  const runDir = dir ?? (await whichRun(s, 'Embedding map of which run?', (r) => hasCheckpoint(r)));
  if (runDir) s.embeddingMaps.show(runDir);
}

async function newExperimentFromExample(s: Services): Promise<void> {
  const folders = vscode.workspace.workspaceFolders ?? [];
  let parent: string | undefined;
  if (folders.length === 1) parent = folders[0].uri.fsPath;
  else if (folders.length > 1)
    parent = (await vscode.window.showWorkspaceFolderPick({ placeHolder: 'Create the example experiment in which folder?' }))?.uri.fsPath;
  else {
    const picked = await vscode.window.showOpenDialog({
      canSelectFolders: true,
      canSelectFiles: false,
      openLabel: 'Create Here',
      title: 'Folder for the example experiment',
    });
    parent = picked?.[0]?.fsPath;
  }
  if (!parent) return;
  let configPath: string;
  try {
    configPath = copyExample(s.context.extensionUri.fsPath, parent);
  } catch (e) {
    void vscode.window.showErrorMessage(`Retrieval Lens: could not create the example: ${(e as Error).message}`);
    return;
  }
  s.log.info(`created the example experiment ${configPath}`);
  if (folders.length === 0) {
    await vscode.commands.executeCommand('vscode.openFolder', vscode.Uri.file(path.dirname(configPath)));
    return;
  }
  await s.registry.rescan();
  const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(configPath));
  await vscode.window.showTextDocument(doc);
  const train = vscode.workspace.isTrusted ? 'Start Training' : undefined;
  const choice = await vscode.window.showInformationMessage(
    `Retrieval Lens: created ${vscode.workspace.asRelativePath(configPath)} (a synthetic shop search data set).`,
    ...(train ? [train] : []),
  );
  if (choice === train && samePath(configPath, doc.uri.fsPath)) await vscode.commands.executeCommand('retrievalLens.startTraining', doc.uri);
}
