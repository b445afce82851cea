/**
 * Checkpoints stored once: best and last of the same step share weights.bin through a hard link, a later
 * write of last leaves best's bytes intact, a run's size on disk counts the link once, and sweeps prune the
 * checkpoints sweep.keepCheckpoints does not keep. Real training (wasm), real files.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'fs';
import * as path from 'path';
import { initBackend, type BackendInfo } from '../../src/core/backend';
import { loadConfig } from '../../src/core/config';
import { pruneCheckpoints } from '../../src/core/experiments/keepCheckpoints';
import { writeDirAtomically } from '../../src/core/runs';
import { diskBytes, sameBytes, shareIdenticalFiles } from '../../src/core/runs/sharedFiles';
import { runTraining } from '../../src/core/training/trainLoop';
import { smallExperiment } from '../helpers/smallExperiment';

let backend: BackendInfo;
let runDir: string;
before(async () => {
  backend = await initBackend('wasm');
  const exp = smallExperiment({ training: { steps: 10, checkpointEvery: 100, logEvery: 5 } });
  runDir = (await runTraining({ loaded: loadConfig(exp.config), backend })).runDir;
});

const ck = (k: string, f = 'weights.bin') => path.join(runDir, 'checkpoints', k, f);

test('best written at the step of last shares its weights through a hard link; the size on disk counts it once', () => {
  const best = fs.statSync(ck('best'));
  const last = fs.statSync(ck('last'));
  assert.equal(best.ino, last.ino, 'one inode');
  assert.equal(best.nlink, 2);
  assert.ok(!sameBytes(ck('best', 'model.json'), ck('last', 'model.json')), 'model.json differs (best names its metric): a copy each');
  let apparent = 0;
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else apparent += fs.statSync(p).size;
    }
  };
  walk(runDir);
  assert.equal(diskBytes(runDir), apparent - best.size);
  // The CLI's runs table shows it.
  const out = execFileSync(process.execPath, ['--import', 'tsx', path.resolve(__dirname, '../../src/cli.ts'), 'runs', '--dir', path.dirname(runDir)], {
    encoding: 'utf8',
  });
  assert.match(out.split('\n')[0], /SIZE$/);
  const kb = diskBytes(runDir) / 1000;
  assert.match(out, new RegExp(`${path.basename(runDir)} .* ${kb < 10 ? kb.toFixed(1) : Math.round(kb)} kB\\n`));
});

test('a later write of last never changes the linked bytes of best; a file that differs is not linked', async () => {
  const bestBytes = fs.readFileSync(ck('best'));
  await writeDirAtomically(path.join(runDir, 'checkpoints', 'last'), async (dir) => {
    fs.copyFileSync(ck('best', 'model.json'), path.join(dir, 'model.json'));
    const w = Buffer.from(bestBytes);
    w[0] ^= 0xff;
    fs.writeFileSync(path.join(dir, 'weights.bin'), w);
    assert.deepEqual(shareIdenticalFiles(dir, path.join(runDir, 'checkpoints', 'best')), ['model.json'], 'only the identical file');
  });
  assert.deepEqual(fs.readFileSync(ck('best')), bestBytes);
  assert.equal(fs.statSync(ck('best')).nlink, 1, 'the old last was removed by unlinking');
  assert.notEqual(fs.statSync(ck('last')).ino, fs.statSync(ck('best')).ino);
});

test('sweep.keepCheckpoints prunes whole checkpoint folders after evaluation', () => {
  const copy = (to: string) => fs.cpSync(runDir, to, { recursive: true });
  const base = `${runDir}-prune`;
  copy(`${base}-best`);
  assert.deepEqual(pruneCheckpoints(`${base}-best`, 'best'), ['checkpoints/last']);
  assert.ok(fs.existsSync(path.join(`${base}-best`, 'checkpoints', 'best', 'weights.bin')));
  copy(`${base}-none`);
  assert.deepEqual(pruneCheckpoints(`${base}-none`, 'none'), ['checkpoints/best', 'checkpoints/last']);
  assert.ok(fs.existsSync(path.join(`${base}-none`, 'events.jsonl')), 'the run itself stays');
  copy(`${base}-all`);
  assert.deepEqual(pruneCheckpoints(`${base}-all`, 'all'), []);
  // "best" with no best keeps last.
  copy(`${base}-nobest`);
  fs.rmSync(path.join(`${base}-nobest`, 'checkpoints', 'best'), { recursive: true });
  assert.deepEqual(pruneCheckpoints(`${base}-nobest`, 'best'), []);
  assert.equal(loadConfig(path.join(runDir, 'config.json')).config.sweep.keepCheckpoints, 'best', 'the default');
});
