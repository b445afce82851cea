/**
 * The layers of README's "Layout" are ESLint rules (eslint.config.mjs), and this test makes sure they stay
 * rules: it lints small probe modules placed in each layer with the project's own ESLint config and expects
 * the violation to be reported. Deleting a rule (or the cycle check) fails `npm test` here, besides the
 * lint step that runs over the real sources.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { ESLint } from 'eslint';

const REPO = path.resolve(__dirname, '../..');
const eslint = new ESLint({ cwd: REPO });

/** Rule ids reported for `code` as if it were the file `rel` (relative to the repository). */
async function rulesFor(rel: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(REPO, rel) });
  return result.messages.map((m) => `${m.ruleId}: ${m.message}`);
}

const cases: { rel: string; code: string; expect: RegExp }[] = [
  {
    rel: 'src/core/probe.ts',
    code: "import * as vscode from 'vscode';\nexport const v = vscode.version;\n",
    expect: /no-restricted-imports: .*only src\/extension\/ imports vscode/,
  },
  {
    rel: 'src/trainer/probe.ts',
    code: "import * as vscode from 'vscode';\nexport const v = vscode.version;\n",
    expect: /only src\/extension\/ imports vscode/,
  },
  { rel: 'src/cli/probe.ts', code: "import * as vscode from 'vscode';\nexport const v = vscode.version;\n", expect: /only src\/extension\/ imports vscode/ },
  {
    rel: 'src/webview/dashboard/probe.ts',
    code: "import * as vscode from 'vscode';\nexport const v = vscode.version;\n",
    expect: /only src\/extension\/ imports vscode/,
  },
  {
    rel: 'src/webview/dashboard/probe.ts',
    code: "import * as fs from 'fs';\nexport const f = fs.existsSync;\n",
    expect: /src\/webview\/ runs in the browser: no Node built-ins/,
  },
  { rel: 'src/webview/dashboard/probe.ts', code: "import { readFileSync } from 'node:fs';\nexport const f = readFileSync;\n", expect: /no Node built-ins/ },
  {
    rel: 'src/core/probe.ts',
    code: "import { TrainingController } from '../extension/trainingController';\nexport const t = TrainingController;\n",
    expect: /src\/extension\/ is the top layer/,
  },
  {
    rel: 'src/core/probe.ts',
    code: "import { startTrainer } from '../trainer/client';\nexport const s = startTrainer;\n",
    expect: /src\/trainer\/ \(the background process\) is above src\/core\//,
  },
  {
    rel: 'src/core/probe.ts',
    code: "import { Dashboard } from '../webview/dashboard/dashboard';\nexport const d = Dashboard;\n",
    expect: /src\/webview\/ is browser code/,
  },
  {
    rel: 'src/extension/probe.ts',
    code: "import * as tf from '@tensorflow/tfjs';\nexport const t = tf.version;\n",
    expect: /tfjs and faiss load only in the trainer process/,
  },
  {
    rel: 'src/extension/probe.ts',
    code: "import { Dashboard } from '../webview/dashboard/dashboard';\nexport const d = Dashboard;\n",
    expect: /the extension uses only the webview protocol module/,
  },
];

test('each layer rule reports an import that crosses it', async () => {
  for (const c of cases) {
    const found = await rulesFor(c.rel, c.code);
    assert.ok(
      found.some((m) => c.expect.test(m)),
      `${c.rel} importing ${c.code.split('\n')[0]}: expected ${c.expect}, got ${JSON.stringify(found)}`,
    );
  }
});

test('allowed imports pass: the extension may use a webview protocol module, core may use node built-ins', async () => {
  assert.deepEqual(
    await rulesFor('src/extension/probe.ts', "import type { ToDashboard } from '../webview/dashboard/protocol';\nexport type T = ToDashboard;\n"),
    [],
  );
  assert.deepEqual(await rulesFor('src/core/probe.ts', "import * as fs from 'fs';\nexport const f = fs.existsSync;\n"), []);
});

test('an import cycle is reported', async () => {
  const dir = path.join(REPO, 'src/core', `zz-cycle-probe-${process.pid}`);
  fs.mkdirSync(dir, { recursive: true });
  try {
    fs.writeFileSync(path.join(dir, 'a.ts'), "import { b } from './b';\nexport const a = (): number => b() + 1;\n");
    fs.writeFileSync(path.join(dir, 'b.ts'), "import { a } from './a';\nexport const b = (): number => (a.length > 0 ? 1 : 0);\n");
    const results = await eslint.lintFiles([path.join(dir, 'a.ts'), path.join(dir, 'b.ts')]);
    const cycles = results.flatMap((r) => r.messages.filter((m) => m.ruleId === 'import-x/no-cycle').map(() => path.basename(r.filePath)));
    assert.deepEqual(cycles.sort(), ['a.ts', 'b.ts']);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
