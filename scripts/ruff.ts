/**
 * Ruff over the Python package and its tests (python/**\/*.py), part of `npm run -s lint`: the
 * WebAssembly build of Ruff on npm (@astral-sh/ruff-wasm-nodejs; Debian 12 has no ruff package) with the
 * `[tool.ruff]` settings of python/pyproject.toml, read with Python's tomllib (Node has no TOML reader),
 * so that a `ruff check python` of a real Ruff uses the same settings. Prints `file:line:col: CODE message`
 * for each finding; exit code 1 when there is one.
 *
 * Usage: node --import tsx scripts/ruff.ts
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { PositionEncoding, Workspace, type Diagnostic } from '@astral-sh/ruff-wasm-nodejs';

const ROOT = path.resolve(__dirname, '..');
const PYTHON_DIR = path.join(ROOT, 'python');

/** `[tool.ruff]` of python/pyproject.toml as JSON. */
function ruffSettings(): Record<string, unknown> {
  const code = 'import json, sys, tomllib; print(json.dumps(tomllib.load(open(sys.argv[1], "rb"))["tool"]["ruff"]))';
  return JSON.parse(execFileSync('/usr/bin/python3', ['-c', code, path.join(PYTHON_DIR, 'pyproject.toml')], { encoding: 'utf8' }));
}

/** The .py files under `dir`, sorted, without caches. */
function pythonFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.name !== '__pycache__' && !e.name.startsWith('.'))
    .flatMap((e) => (e.isDirectory() ? pythonFiles(path.join(dir, e.name)) : e.name.endsWith('.py') ? [path.join(dir, e.name)] : []))
    .sort();
}

const settings = ruffSettings();
const workspace = new Workspace(settings, PositionEncoding.Utf16);
let findings = 0;
const files = pythonFiles(PYTHON_DIR);
for (const file of files) {
  for (const d of workspace.check(fs.readFileSync(file, 'utf8')) as Diagnostic[]) {
    findings++;
    console.log(`${path.relative(ROOT, file)}:${d.start_location.row}:${d.start_location.column}: ${d.code ?? 'syntax'} ${d.message}`);
  }
}
if (findings > 0) {
  console.log(`ruff ${Workspace.version()}: ${findings} finding(s) in ${files.length} files`);
  process.exitCode = 1;
}
