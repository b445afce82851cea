import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';

const REPO = path.resolve(__dirname, '../..');
const pkg = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8'));
const contributes = pkg.contributes;
const contributed = new Set<string>(contributes.commands.map((c: { command: string }) => c.command));

/** Command ids the extension registers (every module under src/extension/, feature folders included). */
function registeredCommands(): Set<string> {
  const dir = path.join(REPO, 'src/extension');
  const files = (fs.readdirSync(dir, { recursive: true }) as string[]).filter((f) => f.endsWith('.ts'));
  const src = files.map((f) => fs.readFileSync(path.join(dir, f), 'utf8')).join('\n');
  return new Set([...src.matchAll(/(?:reg|registerCommand)\('([^']+)'/g)].map((m) => m[1]));
}

test('every registered command is contributed, and every contributed command is registered', () => {
  const registered = registeredCommands();
  assert.ok(registered.size >= 10);
  assert.deepEqual(
    [...registered].filter((c) => !contributed.has(c)),
    [],
  );
  assert.deepEqual(
    [...contributed].filter((c) => !registered.has(c)),
    [],
  );
});

test('the palette has the specified commands as "Retrieval Lens: …"', () => {
  const titles = new Map<string, string>(
    contributes.commands.map((c: { command: string; title: string; category: string }) => [c.command, `${c.category}: ${c.title}`]),
  );
  for (const [id, title] of [
    ['retrievalLens.startTraining', 'Retrieval Lens: Start Training'],
    ['retrievalLens.stopTraining', 'Retrieval Lens: Stop Training'],
    ['retrievalLens.openDashboardInEditor', 'Retrieval Lens: Open Dashboard in Editor'],
    ['retrievalLens.evaluateRun', 'Retrieval Lens: Evaluate Run'],
    ['retrievalLens.openRun', 'Retrieval Lens: Open Run…'],
    ['retrievalLens.nextFailingQuery', 'Retrieval Lens: Next Failing Query'],
    ['retrievalLens.previousFailingQuery', 'Retrieval Lens: Previous Failing Query'],
    ['retrievalLens.showLog', 'Retrieval Lens: Show Log'],
    ['retrievalLens.newExperimentFromExample', 'Retrieval Lens: New Experiment from Example'],
    ['retrievalLens.compareRuns', 'Retrieval Lens: Compare Runs…'],
    ['retrievalLens.runSweep', 'Retrieval Lens: Run Sweep…'],
    ['retrievalLens.runAblation', 'Retrieval Lens: Run Ablation'],
    ['retrievalLens.auditTrainingData', 'Retrieval Lens: Audit Training Data'],
  ])
    assert.equal(titles.get(id), title);
  const hidden = new Set(contributes.menus.commandPalette.filter((m: { when: string }) => m.when === 'false').map((m: { command: string }) => m.command));
  assert.deepEqual(
    [...hidden].sort(),
    ['retrievalLens.compareSelectedRuns', 'retrievalLens.openFailure', 'retrievalLens.revealRunFolder', 'retrievalLens.showSweep'],
    'only the internal commands (and those that need arguments) are hidden',
  );
});

test('menus, keybindings and welcome links only name contributed (or built-in workbench) commands', () => {
  const used: string[] = [];
  for (const items of Object.values(contributes.menus) as { command: string }[][]) used.push(...items.map((i) => i.command));
  used.push(...contributes.keybindings.map((k: { command: string }) => k.command));
  for (const w of contributes.viewsWelcome) used.push(...[...String(w.contents).matchAll(/\(command:([\w.]+)\)/g)].map((m) => m[1]));
  const unknown = used.filter((c) => !contributed.has(c) && !c.startsWith('workbench.'));
  assert.deepEqual(unknown, []);
  const keys = new Map(contributes.keybindings.map((k: { command: string; key: string }) => [k.command, k.key]));
  assert.ok(keys.get('retrievalLens.nextFailingQuery') && keys.get('retrievalLens.previousFailingQuery'));
  assert.ok(
    contributes.viewsWelcome.some(
      (w: { view: string; contents: string }) => w.view === 'retrievalLens.runs' && w.contents.includes('(command:retrievalLens.newExperimentFromExample)'),
    ),
  );
});

test('the views, their container and every referenced file exist; activation and trust are declared', () => {
  const container = contributes.viewsContainers.activitybar.find((c: { id: string }) => c.id === 'retrievalLens');
  assert.equal(container.title, 'Retrieval Lens');
  for (const f of [container.icon, pkg.icon, contributes.jsonValidation[0].url]) assert.ok(fs.existsSync(path.join(REPO, f)), f);
  assert.deepEqual(
    contributes.views.retrievalLens.map((v: { id: string; type?: string; name: string }) => [v.id, v.type ?? 'tree', v.name]),
    [
      ['retrievalLens.dashboard', 'webview', 'Dashboard'],
      ['retrievalLens.runs', 'tree', 'Runs'],
      ['retrievalLens.failures', 'tree', 'Failing Queries'],
      ['retrievalLens.audit', 'tree', 'Data Audit'],
    ],
  );
  assert.deepEqual(contributes.languages, [{ id: 'jsonc', filenamePatterns: ['*.rlens.json'] }]);
  assert.equal(contributes.jsonValidation[0].fileMatch, '*.rlens.json');
  assert.ok(pkg.activationEvents.includes('workspaceContains:**/*.rlens.json'));
  assert.ok(!pkg.activationEvents.includes('*'), 'no eager activation');
  assert.equal(pkg.capabilities.untrustedWorkspaces.supported, 'limited');
  // The bundled example the "New Experiment from Example" command copies is not excluded from the package.
  const ignore = fs.readFileSync(path.join(REPO, '.vscodeignore'), 'utf8');
  assert.ok(!/^examples\/\*\*$/m.test(ignore) && !/^examples\/shop\/data/m.test(ignore));
});

test('the extension host never loads tfjs or faiss: only the forked trainer does', () => {
  // Checked on what ships: webpack bundles every module the extension reaches and leaves npm packages
  // as require() calls (webpack.config.js), so dist/extension.js names every package the extension
  // host can load. ESLint's no-restricted-imports (eslint.config.mjs) rejects direct imports in
  // src/extension/; this also catches one reached through core modules.
  const bundle = path.join(REPO, 'dist/extension.js');
  assert.ok(fs.existsSync(bundle), 'dist/extension.js exists (npm test builds it first; else run npm run build)');
  const required = [...new Set([...fs.readFileSync(bundle, 'utf8').matchAll(/\brequire\("([^"]+)"\)/g)].map((m) => m[1]))].sort();
  assert.ok(required.includes('vscode') && required.includes('jsonc-parser'), `the bundle's requires were found: ${required.join(', ')}`);
  assert.deepEqual(
    required.filter((r) => /^@tensorflow\/|^faiss-node$/.test(r)),
    [],
  );
  // The trainer bundle, by contrast, loads both (the check above would see them if the extension did).
  const trainer = fs.readFileSync(path.join(REPO, 'dist/trainer.js'), 'utf8');
  assert.match(trainer, /require\("@tensorflow\/tfjs"\)/);
  assert.match(trainer, /require\("faiss-node"\)/);
});

test('the extension runs where the workspace files are (extensionKind workspace): on the Remote-SSH host beside the runs and the trainer', () => {
  // Run folders, configs and the trainer processes are on the remote machine; a UI-side extension
  // would see neither the files nor the processes (Stop signals a pid).
  assert.deepEqual(pkg.extensionKind, ['workspace']);
});
