/**
 * A run written by a trainer on another machine into a shared or synced runs folder: a separate
 * process (the stand-in PyTorch trainer, test/fixtures/torchrun/stand_in_trainer.py, with
 * meta.json host "gpu-node-7" and no pid, as a job on a cluster node writes it) adds one step at a
 * time, and the readers the Runs tree and the dashboard use (listRuns, RunFeed) list it as running
 * from its heartbeat and follow it step by step to its end.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { listRuns } from '../../src/core/runs';
import { RunFeed } from '../../src/extension/dashboard/runFeed';
import { torchSkip, TORCH_PYTHON } from '../helpers/torch';

const PY = TORCH_PYTHON;
const STAND_IN = path.join(__dirname, '../fixtures', 'torchrun', 'stand_in_trainer.py');

test('a run another host writes step by step into a shared folder is listed as running and followed live to its end', { skip: torchSkip }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rlens-shared-'));
  const root = path.join(dir, 'runs');
  fs.writeFileSync(path.join(dir, 'remote.rlens.json'), JSON.stringify({ name: 'remote ddp', data: { train: 'train.jsonl' }, training: { steps: 12 } }));
  const writer = spawn(PY, [STAND_IN, 'remote.rlens.json'], {
    cwd: dir,
    env: { ...process.env, FAKE_TRAINER_HOST: 'gpu-node-7', FAKE_TRAINER_NO_PID: '1', FAKE_TRAINER_STEP_SECONDS: '0.4' },
    stdio: 'ignore',
  });
  const ended = new Promise<number | null>((resolve) => writer.on('close', resolve));
  const tick = () => new Promise((r) => setTimeout(r, 50));

  // The Runs tree lists the folders of its roots (listRuns); wait for the run to appear.
  let listed = listRuns(root);
  while (listed.length === 0 || listed[0].step < 1) {
    assert.equal(writer.exitCode, null, 'the writer ended before its first step');
    await tick();
    listed = listRuns(root);
  }
  assert.equal(listed[0].status, 'running');
  assert.match(listed[0].statusReason, /host "gpu-node-7": last heartbeat \d+ s ago/);
  assert.equal(listed[0].meta?.pid, null);

  // The dashboard's feed: the history once, then only what was appended, in order, until the end.
  const feed = new RunFeed(listed[0].dir);
  const first = feed.reset();
  assert.equal(first.header.status, 'running');
  const seen = first.steps.map((s) => s.step);
  let polls = 0;
  let growing = 0;
  for (;;) {
    const u = feed.poll();
    polls++;
    assert.equal(u.restarted, false);
    if (u.steps.length > 0) growing++;
    seen.push(...u.steps.map((s) => s.step));
    if (feed.currentHeader?.status === 'completed') break;
    assert.ok(writer.exitCode === null || writer.exitCode === 0, `the writer failed (${writer.exitCode})`);
    await tick();
  }
  assert.equal(await ended, 0);
  assert.deepEqual(seen, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], 'every step once, in order');
  assert.ok(growing >= 3, `the run was followed while it grew (${growing} polls of ${polls} brought steps)`);
  assert.equal(listRuns(root)[0].status, 'completed');
});
