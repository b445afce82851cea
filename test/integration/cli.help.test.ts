/**
 * `retrieval-lens <command> --help` prints that command's usage and exits 0 for every command (it used to fail
 * with "Unknown option '--help'" everywhere but at the top level); an unknown command with --help exits 2.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as path from 'path';

const CLI = path.resolve(__dirname, '../../bin/retrieval-lens.js');
const cli = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });

test('every command answers --help and -h with its own usage lines, exit 0', () => {
  for (const command of ['train', 'eval', 'runs', 'sweep', 'ablate', 'export-embeddings', 'compare']) {
    for (const flag of ['--help', '-h']) {
      const r = cli(command, flag);
      assert.equal(r.status, 0, `${command} ${flag}: ${r.stderr}`);
      const usage = r.stdout.split('\n').filter((l) => l.startsWith('  retrieval-lens '));
      assert.ok(usage.length >= 1, `${command} ${flag} printed no usage line: ${r.stdout}`);
      assert.ok(
        usage.every((l) => l.startsWith(`  retrieval-lens ${command} `)),
        `${command} ${flag} printed another command's usage: ${usage.join(' | ')}`,
      );
    }
  }
  assert.match(cli('ablate', '--seeds', '3', '--help').stdout, /retrieval-lens ablate <config\.rlens\.json>/);
});

test('--help after an unknown command names it and exits 2', () => {
  const r = cli('frobnicate', '--help');
  assert.equal(r.status, 2);
  assert.match(r.stderr, /unknown command "frobnicate"/);
});
