/**
 * Each config problem is listed once in Problems (issue 10, #13): VS Code's own JSON language server,
 * given the schema package.json associates with *.rlens.json, must not report the schema problems
 * Retrieval Lens reports (in the CLI's words), and Retrieval Lens leaves to it what it does report
 * (JSON syntax errors). Completion of enum values keeps working.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { configProblemsOf } from '../helpers/configProblems';
import { JSON_SERVER, JsonLanguageServer } from '../helpers/jsonLanguageServer';

const REPO = path.resolve(__dirname, '../..');
const pkg = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8'));
const association = pkg.contributes.jsonValidation.find((j: { fileMatch: string }) => j.fileMatch === '*.rlens.json');

test("every config problem appears once in Problems: VS Code's JSON server and Retrieval Lens do not overlap", async (t) => {
  if (!fs.existsSync(JSON_SERVER)) return t.skip(`VS Code's JSON language server is not installed (${JSON_SERVER}; scripts/setup-code-server.sh installs it)`);
  const server = new JsonLanguageServer();
  t.after(() => server.dispose());
  await server.start('*.rlens.json', path.join(REPO, association.url));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rlens-json-'));

  // Schema problems: ours alone.
  const schemaBroken =
    '{\n  "data": {"train": "x.jsonl"},\n  "training": {"batchSize": "big"},\n  "loss": {"type": "softmaxx", "alpha": -1},\n  "nmae": 1\n}\n';
  const file1 = path.join(dir, 'schema.rlens.json');
  const theirs1 = await server.open(file1, schemaBroken);
  const ours1 = configProblemsOf(schemaBroken, file1);
  assert.equal(ours1.length, 4, JSON.stringify(ours1));
  assert.deepEqual(theirs1, [], 'the JSON service reports no schema problem a second time');

  // Syntax errors: theirs alone (ours are filtered out of the collection), at the same place.
  const syntaxBroken = '{\n  "data": {"train": "x.jsonl"}\n  "name": "a"\n}\n';
  const file2 = path.join(dir, 'syntax.rlens.json');
  const theirs2 = await server.open(file2, syntaxBroken);
  assert.ok(theirs2.length >= 1 && theirs2.some((d) => d.line === 3), JSON.stringify(theirs2));
  assert.deepEqual(configProblemsOf(syntaxBroken, file2), [], 'Retrieval Lens leaves syntax errors to the JSON service');

  // Completion from the editor schema still proposes the enum values.
  const labels = await server.complete(file1, 4, 21);
  assert.ok(labels.some((l) => l.includes('softmax')) && labels.some((l) => l.includes('margin')), labels.join(', '));
});
