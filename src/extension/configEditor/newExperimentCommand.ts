/**
 * "Retrieval Lens: New Experiment…": asks for the training data (a pairs file or a BEIR folder of the
 * workspace, or one browsed for), the test data and the corpus, detects each with the trainer's readers
 * (core/config/newExperiment.ts: format, record shape, id fields — what the run log says at the start of
 * training), shows what it found in each next step's title, asks the steps and the name, and writes
 * `<name>.rlens.json` beside the workspace folder's root (an existing file only after a modal "Overwrite").
 */
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import {
  inspectData,
  newExperimentText,
  NEW_EXPERIMENT_STEPS,
  suggestedName,
  writeNewExperiment,
  type DataFinding,
  type DataRole,
} from '../../core/config/newExperiment';
import { CONFIG_SUFFIX } from './experimentFiles';
import type { Services } from '../services';

/** Data files and BEIR folders of the workspace offered in the pickers (at most this many files searched). */
const MAX_CANDIDATES = 500;
/** Folders never offered as data: dependencies, builds, and run / sweep outputs. */
const DATA_EXCLUDE_GLOB = '**/{node_modules,.git,.cache,dist,out,runs,sweeps}/**';

type Choice = vscode.QuickPickItem & { path?: string; browse?: boolean; none?: boolean; same?: boolean };

/** Data files (*.jsonl, *.tsv, gzipped too) and BEIR folders (holding corpus.jsonl) of the workspace, relative paths sorted. */
async function candidates(): Promise<{ files: string[]; beir: string[] }> {
  const uris = await vscode.workspace.findFiles('**/*.{jsonl,tsv,jsonl.gz,tsv.gz}', DATA_EXCLUDE_GLOB, MAX_CANDIDATES);
  const files = uris.map((u) => u.fsPath).sort();
  const beir = [...new Set(files.filter((f) => path.basename(f) === 'corpus.jsonl').map((f) => path.dirname(f)))].filter((d) =>
    fs.existsSync(path.join(d, 'queries.jsonl')),
  );
  return { files: files.filter((f) => !beir.some((d) => path.dirname(f) === d || path.dirname(f) === path.join(d, 'qrels'))), beir };
}

/** Quick pick of a data path for `role`; undefined when dismissed. Loops until the picked data can serve. */
async function pickData(title: string, role: DataRole, extra: Choice[]): Promise<DataFinding | 'none' | 'same' | undefined> {
  const { files, beir } = await candidates();
  const rel = (p: string) => vscode.workspace.asRelativePath(p);
  const items: Choice[] = [
    ...extra,
    ...beir.map((d) => ({ label: `$(folder) ${rel(d)}`, description: 'BEIR folder', path: d })),
    ...files.map((f) => ({ label: `$(file) ${rel(f)}`, path: f })),
    { label: '$(folder-opened) Browse…', description: 'a file or a BEIR folder outside this list', browse: true },
  ];
  for (;;) {
    const picked = await vscode.window.showQuickPick(items, {
      title,
      placeHolder: 'Type to filter; Enter to choose',
      matchOnDescription: true,
      ignoreFocusOut: true,
    });
    if (!picked) return undefined;
    if (picked.none) return 'none';
    if (picked.same) return 'same';
    let target = picked.path;
    if (picked.browse) {
      const uri = await vscode.window.showOpenDialog({ canSelectFiles: true, canSelectFolders: true, canSelectMany: false, title });
      target = uri?.[0]?.fsPath;
      if (!target) continue;
    }
    if (!target) continue;
    try {
      return await inspectData(target, role);
    } catch (e) {
      void vscode.window.showErrorMessage(`Retrieval Lens: ${(e as Error).message}`);
    }
  }
}

/** The folder the config goes in: the only workspace folder, a picked one, or (no folder open) one chosen. */
async function targetFolder(): Promise<string | undefined> {
  const folders = vscode.workspace.workspaceFolders ?? [];
  if (folders.length === 1) return folders[0].uri.fsPath;
  if (folders.length > 1) return (await vscode.window.showWorkspaceFolderPick({ placeHolder: 'Create the experiment in which folder?' }))?.uri.fsPath;
  void vscode.window.showInformationMessage('Retrieval Lens: open the folder holding your data first (File › Open Folder), then run New Experiment… again.');
  return undefined;
}

export async function newExperiment(s: Services): Promise<void> {
  const folder = await targetFolder();
  if (!folder) return;
  const train = await pickData('New Experiment (1/5): training data — a pairs file (JSONL / TSV) or a BEIR folder', 'train', []);
  if (!train || train === 'none' || train === 'same') return;
  const found = [`train: ${train.description}`];
  const sameBeir = train.format === 'beir' && train.splits?.includes('test');
  const test = await pickData(`New Experiment (2/5): test data — train: ${train.description}`, 'test', [
    ...(sameBeir ? [{ label: '$(folder) The same BEIR folder', description: 'its qrels/test.tsv', same: true }] : []),
    { label: '$(circle-slash) None', description: 'train only (no evaluation until data.test is set)', none: true },
  ]);
  if (!test) return;
  const testFinding = test === 'same' ? await inspectData(train.path, 'test') : test === 'none' ? undefined : test;
  if (testFinding) found.push(`test: ${testFinding.description}`);
  let corpus: DataFinding | undefined;
  if (testFinding && testFinding.format !== 'beir') {
    const c = await pickData(`New Experiment (3/5): corpus — test: ${testFinding.description}`, 'corpus', [
      { label: '$(circle-slash) None', description: 'the corpus is every item of the training and test data', none: true },
    ]);
    if (!c) return;
    if (c !== 'none' && c !== 'same') {
      corpus = c;
      found.push(`corpus: ${c.description}`);
    }
  }
  const stepsText = await vscode.window.showInputBox({
    title: 'New Experiment (4/5): training steps',
    prompt: found.join(' · '),
    value: String(NEW_EXPERIMENT_STEPS),
    ignoreFocusOut: true,
    validateInput: (v) => (/^[1-9]\d{0,8}$/.test(v.trim()) ? undefined : 'a whole number of steps, at least 1'),
  });
  if (stepsText === undefined) return;
  let file: string | undefined;
  let name = suggestedName(train.path);
  for (;;) {
    const typed = await vscode.window.showInputBox({
      title: 'New Experiment (5/5): name (the config is <name>.rlens.json in the workspace folder)',
      prompt: found.join(' · '),
      value: name,
      ignoreFocusOut: true,
      validateInput: (v) => (/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(v.trim()) ? undefined : 'letters, digits, ".", "_" and "-" (it names the file)'),
    });
    if (typed === undefined) return;
    name = typed.trim();
    file = path.join(folder, `${name}${CONFIG_SUFFIX}`);
    if (!fs.existsSync(file)) break;
    const choice = await vscode.window.showWarningMessage(
      `${vscode.workspace.asRelativePath(file)} exists already.`,
      { modal: true },
      'Overwrite',
      'Choose Another Name',
    );
    if (choice === 'Overwrite') break;
    if (choice !== 'Choose Another Name') return;
  }
  const text = newExperimentText({ name, configDir: folder, train, test: testFinding, corpus, steps: Number(stepsText.trim()) });
  try {
    writeNewExperiment(file, text, fs.existsSync(file));
  } catch (e) {
    void vscode.window.showErrorMessage(`Retrieval Lens: could not write the config: ${(e as Error).message}`);
    return;
  }
  s.log.info(`New Experiment: wrote ${file} (${found.join('; ')})`);
  await s.registry.rescan();
  const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(file));
  await vscode.window.showTextDocument(doc);
  const train1 = vscode.workspace.isTrusted ? 'Start Training' : undefined;
  const choice = await vscode.window.showInformationMessage(
    `Retrieval Lens: created ${vscode.workspace.asRelativePath(file)} — ${found.join('; ')}.`,
    ...(train1 ? [train1] : []),
  );
  if (choice && choice === train1) await vscode.commands.executeCommand('retrievalLens.startTraining', doc.uri);
}
