/**
 * The PyTorch trainer's launcher (src/trainer/torchrunLauncher.ts) with real processes: Debian's
 * /usr/bin/python3 with torch runs torch.distributed.run, which starts the stand-in trainer
 * test/fixtures/torchrun/fake_torchrun_trainer.py (same command line and run format as
 * `python -m retrieval_lens.train`) on 1 or 2 ranks joined in a gloo process group.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { TrainerConfig } from '../src/core/config/types';
import { readEvents, readRun } from '../src/core/runs';
import { DEBIAN_PYTHON, resolvePython, startTorchrunTrainer, type TorchrunOptions } from '../src/trainer/torchrunLauncher';
import type { FromTrainer } from '../src/trainer/protocol';
import { parseFromTrainer } from '../src/trainer/protocol';

export const STAND_IN_ROOT = path.resolve(__dirname, 'fixtures', 'torchrun');
export const STAND_IN_MODULE = 'fake_torchrun_trainer';

function debianTorch(): boolean {
  try {
    execFileSync(DEBIAN_PYTHON, ['-c', 'import torch'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const skip = debianTorch() ? false : `${DEBIAN_PYTHON} has no torch (apt-get install python3-torch)`;

/** A temp folder with a config for the stand-in trainer. */
function experiment(steps: number): { dir: string; config: string; runs: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rlens-torchrun-'));
  const config = path.join(dir, 'torch.rlens.json');
  fs.writeFileSync(
    config,
    JSON.stringify({
      name: 'Torch DDP',
      data: { train: 'train.jsonl' },
      training: { steps },
      trainer: { kind: 'torchrun', module: STAND_IN_MODULE },
      output: { runsDir: 'runs' },
    }),
  );
  return { dir, config, runs: path.join(dir, 'runs') };
}

function launch(config: string, trainer: Partial<TrainerConfig>, opts: TorchrunOptions & { steps?: number; fakeEnv?: Record<string, string> } = {}) {
  const messages: FromTrainer[] = [];
  const waiters: { pred: (m: FromTrainer) => boolean; resolve: (m: FromTrainer) => void }[] = [];
  let output = '';
  const handle = startTorchrunTrainer(
    {
      configPath: config,
      overrides: [],
      steps: opts.steps,
      trainer: { kind: 'torchrun', nprocPerNode: 1, module: STAND_IN_MODULE, python: DEBIAN_PYTHON, ...trainer },
    },
    (m) => {
      // Every message has the schema of the built-in trainer's IPC messages.
      const checked = parseFromTrainer(m);
      assert.ok(checked.ok, `message ${m.type}: ${checked.ok ? '' : checked.reason}`);
      messages.push(m);
      for (const w of [...waiters]) {
        if (!w.pred(m)) continue;
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(m);
      }
    },
    { pythonRoot: STAND_IN_ROOT, env: { ...process.env, ...opts.fakeEnv }, onOutput: (s) => (output += s), ...opts },
  );
  const until = (pred: (m: FromTrainer) => boolean) =>
    new Promise<FromTrainer>((resolve) => {
      const hit = messages.find(pred);
      if (hit) resolve(hit);
      else waiters.push({ pred, resolve });
    });
  return { handle, messages, until, output: () => output };
}

/** Whether any process of the group led by `pid` is still there after `ms` (killed ranks take a moment to be reaped). */
async function groupAlive(pid: number, ms = 15_000): Promise<boolean> {
  for (const until = Date.now() + ms; ; await new Promise((r) => setTimeout(r, 100))) {
    try {
      process.kill(-pid, 0);
    } catch {
      return false;
    }
    if (Date.now() > until) return true;
  }
}

test('torchrun with 2 ranks: the run line, then every step of events.jsonl in order, then done from meta.json', { skip }, async () => {
  const exp = experiment(6);
  const r = launch(exp.config, { nprocPerNode: 2 });
  const done = await r.handle.done;
  assert.ok(done, `done: ${r.handle.failure?.message}`);
  assert.deepEqual(
    r.messages.map((m) => m.type),
    ['ready', 'started', 'log', 'step', 'step', 'step', 'step', 'step', 'step', 'done'],
  );
  const started = r.messages[1] as Extract<FromTrainer, { type: 'started' }>;
  assert.equal(path.dirname(started.runDir), exp.runs);
  assert.equal(started.totalSteps, 6);
  assert.match((r.messages[2] as Extract<FromTrainer, { type: 'log' }>).message, /2 process\(es\)/);
  assert.deepEqual(
    r.messages.filter((m) => m.type === 'step').map((m) => (m as Extract<FromTrainer, { type: 'step' }>).event.step),
    [1, 2, 3, 4, 5, 6],
  );
  assert.deepEqual(done, { type: 'done', status: 'completed', runDir: started.runDir, step: 6 });
  assert.match(r.output(), /run: /);
  const summary = readRun(started.runDir);
  assert.equal(summary.status, 'completed');
  assert.equal(summary.meta?.checkpoints.last?.step, 6);
  assert.equal(readEvents(path.join(started.runDir, 'events.jsonl')).badLines.length, 0);
  assert.equal(await groupAlive(r.handle.pid!), false);
});

test('Stop: SIGINT to the torchrun process group; every rank finishes its step, the checkpoint is written, status stopped', { skip }, async () => {
  const exp = experiment(100000);
  const r = launch(exp.config, { nprocPerNode: 2 }, { fakeEnv: { FAKE_TRAINER_STEP_SECONDS: '0.2' } });
  await r.until((m) => m.type === 'step' && m.event.step >= 2);
  r.handle.stop();
  const done = await r.handle.done;
  assert.ok(done, `done: ${r.handle.failure?.message}`);
  assert.equal(done.status, 'stopped');
  assert.ok(done.step >= 2 && done.step < 100000);
  const summary = readRun(done.runDir!);
  assert.equal(summary.status, 'stopped');
  assert.equal(summary.meta?.checkpoints.last?.step, done.step);
  assert.ok(fs.existsSync(path.join(done.runDir!, 'checkpoints', 'last')));
  const last = r.messages.filter((m) => m.type === 'step').at(-1) as Extract<FromTrainer, { type: 'step' }>;
  assert.equal(last.event.step, done.step, 'every logged step was followed');
  assert.equal(await groupAlive(r.handle.pid!), false, 'no rank is left');
});

test('a trainer that fails (NaN loss) ends as failed with its error, from meta.json', { skip }, async () => {
  const exp = experiment(50);
  const r = launch(exp.config, {}, { fakeEnv: { FAKE_TRAINER_MODE: 'fail-at-step-3' } });
  const done = await r.handle.done;
  assert.ok(done, `done: ${r.handle.failure?.message}`);
  assert.equal(done.status, 'failed');
  assert.equal(done.step, 2);
  assert.equal(done.error?.quantity, 'loss');
});

test('no run line within the start timeout: the process group is killed, a typed error with the stderr tail', { skip }, async () => {
  const exp = experiment(10);
  const r = launch(exp.config, { nprocPerNode: 2 }, { startTimeoutMs: 4000, fakeEnv: { FAKE_TRAINER_MODE: 'hang-before-run' } });
  const done = await r.handle.done;
  assert.equal(done, null);
  assert.equal(r.handle.failure?.kind, 'start-timeout');
  assert.match(r.handle.failure!.message, /did not get ready within 4 s \(no "run: <folder>" line on stdout\)/);
  assert.equal(fs.existsSync(exp.runs), false);
  assert.equal(await groupAlive(r.handle.pid!), false, 'torchrun and both ranks were killed');
});

test('a missing interpreter and an interpreter without torch are named, with the way out', { skip }, async () => {
  const exp = experiment(10);
  const missing = launch(exp.config, { python: '/nonexistent/bin/python3' });
  assert.equal(await missing.handle.done, null);
  assert.equal(missing.handle.failure?.kind, 'spawn-failed');
  assert.match(missing.handle.failure!.message, /\/nonexistent\/bin\/python3 not found: apt-get install python3-torch or set trainer\.python/);
  // A real interpreter without torch: a venv of Debian's python without its site packages.
  const venv = fs.mkdtempSync(path.join(os.tmpdir(), 'rlens-venv-'));
  execFileSync(DEBIAN_PYTHON, ['-m', 'venv', '--without-pip', venv]);
  const bare = path.join(venv, 'bin', 'python3');
  const noTorch = launch(exp.config, { python: bare });
  assert.equal(await noTorch.handle.done, null);
  assert.equal(noTorch.handle.failure?.kind, 'spawn-failed');
  assert.ok(
    noTorch.handle.failure!.message.includes(`${bare} has no torch: apt-get install python3-torch or set trainer.python`),
    noTorch.handle.failure!.message,
  );
});

test('interpreter resolution: trainer.python when set, else Debian python3 with torch', { skip }, async () => {
  assert.equal(await resolvePython('/opt/conda/bin/python'), '/opt/conda/bin/python');
  assert.equal(await resolvePython(undefined), DEBIAN_PYTHON);
});
