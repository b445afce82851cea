/**
 * `retrieval-lens train` with `trainer.kind: "torchrun"`: the CLI as a real process runs
 * torch.distributed.run (Debian's /usr/bin/python3 with torch) with the stand-in trainer
 * test/fixtures/torchrun/fake_torchrun_trainer.py, shows its progress from events.jsonl and forwards
 * Ctrl-C to the torchrun process group.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { readRun } from '../src/core/runs';

const REPO = path.resolve(__dirname, '..');
const CLI = ['--import', 'tsx', path.join(REPO, 'src/cli.ts')];
const STAND_IN_ROOT = path.join(__dirname, 'fixtures', 'torchrun');
const PY = '/usr/bin/python3';

function hasTorch(): boolean {
  try {
    execFileSync(PY, ['-c', 'import torch'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const skip = hasTorch() ? false : `${PY} has no torch (apt-get install python3-torch)`;

function experiment(trainer: object, steps: number): { config: string; runs: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rlens-cli-torchrun-'));
  const config = path.join(dir, 'ddp.rlens.json');
  fs.writeFileSync(config, JSON.stringify({ name: 'ddp', data: { train: 'train.jsonl' }, training: { steps }, trainer }, null, 2) + '\n');
  return { config, runs: path.join(dir, 'runs') };
}

const env = (extra: Record<string, string> = {}) => ({ ...process.env, PYTHONPATH: STAND_IN_ROOT, ...extra });
const torchrun = (nproc: number) => ({ kind: 'torchrun', nprocPerNode: nproc, python: PY, module: 'fake_torchrun_trainer' });

test('train with kind torchrun: 2 ranks, progress from events.jsonl, exit 0 on completed', { skip }, () => {
  const exp = experiment(torchrun(2), 6);
  const r = spawnSync(process.execPath, [...CLI, 'train', exp.config], { encoding: 'utf8', env: env(), timeout: 180_000 });
  assert.equal(r.status, 0, r.stderr);
  const runDir = /^run (.+)$/m.exec(r.stdout)?.[1];
  assert.ok(runDir && path.dirname(runDir) === exp.runs, r.stdout);
  assert.match(r.stdout, /torch\.distributed\.run, 2 process\(es\) · backend cpu · 6 steps/);
  // Step events reach the CLI (the bar itself draws only on a terminal): the verdict line of step 1.
  assert.match(r.stdout, /^step 1: collapse verdict healthy \(R \d\.\d\d\): stand-in trainer$/m);
  assert.match(r.stdout, /\[info\] stand-in trainer: 2 process\(es\), 6 steps/);
  assert.match(r.stdout, new RegExp(`completed at step 6: ${runDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  assert.equal(readRun(runDir).status, 'completed');
});

test('train with kind torchrun: Ctrl-C is forwarded to the process group; the run ends stopped with its checkpoint, exit 0', { skip }, async () => {
  const exp = experiment(torchrun(2), 100000);
  // Its own process group, as a shell's foreground job: SIGINT to the group is what Ctrl-C sends.
  const cli = spawn(process.execPath, [...CLI, 'train', exp.config], { env: env({ FAKE_TRAINER_STEP_SECONDS: '0.2' }), detached: true });
  let stdout = '';
  let stderr = '';
  cli.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  cli.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => cli.on('close', (code) => resolve(code)));
  // Wait for the run folder and two logged steps (states, not sleeps).
  let runDir: string | undefined;
  for (;;) {
    runDir = /^run (.+)$/m.exec(stdout)?.[1];
    if (runDir && readRun(runDir).step >= 2) break;
    assert.equal(cli.exitCode, null, `the CLI ended early: ${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  process.kill(-cli.pid!, 'SIGINT');
  const code = await exited;
  assert.equal(code, 0, stderr);
  assert.match(stdout, /stopping after this step \(Ctrl-C again to kill\)/);
  const m = /stopped at step (\d+): /.exec(stdout);
  assert.ok(m, stdout);
  const summary = readRun(runDir);
  assert.equal(summary.status, 'stopped');
  assert.equal(summary.meta?.checkpoints.last?.step, Number(m[1]));
});

test('train: torchrun-only keys with kind node are a located config error, exit 2, nothing started', () => {
  const exp = experiment({ nprocPerNode: 2 }, 6);
  const r = spawnSync(process.execPath, [...CLI, 'train', exp.config], { encoding: 'utf8', env: env() });
  assert.equal(r.status, 2);
  assert.match(
    r.stderr,
    new RegExp(`${exp.config.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+: trainer\\.nprocPerNode: is used only with "kind": "torchrun"`),
  );
  assert.equal(fs.existsSync(exp.runs), false);
});
