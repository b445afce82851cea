/**
 * `retrieval-lens train` with `trainer.kind: "torchrun"`: the CLI as a real process runs
 * `python -m retrieval_lens.launch` (torch.distributed.run, Debian's /usr/bin/python3 with torch) with
 * the real PyTorch trainer `retrieval_lens.train` on 2 gloo ranks and the bundled example's data,
 * shows its progress from events.jsonl and forwards Ctrl-C to the process group.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { readRun } from '../../src/core/runs';
import { torchSkip, TORCH_PYTHON } from '../helpers/torch';

const REPO = path.resolve(__dirname, '../..');
const CLI = ['--import', 'tsx', path.join(REPO, 'src/cli.ts')];
const SHOP_DATA = path.join(REPO, 'examples', 'shop', 'data');
const PY = TORCH_PYTHON;
const skip = torchSkip;

function experiment(trainer: object, steps: number): { config: string; runs: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rlens-cli-torchrun-'));
  const config = path.join(dir, 'ddp.rlens.json');
  const data = { train: path.join(SHOP_DATA, 'train.jsonl'), test: path.join(SHOP_DATA, 'test.jsonl'), corpus: path.join(SHOP_DATA, 'corpus.jsonl') };
  // A small model (a step takes well under a second), every step logged.
  const model = { vocabBuckets: 4096, embeddingDim: 16, hiddenDim: 16, outputDim: 16 };
  const training = { steps, batchSize: 32, logEvery: 1, checkpointEvery: 1000 };
  fs.writeFileSync(config, JSON.stringify({ name: 'ddp', data, model, training, trainer }, null, 2) + '\n');
  return { config, runs: path.join(dir, 'runs') };
}

const env = () => process.env;
const torchrun = (nproc: number) => ({ kind: 'torchrun', nprocPerNode: nproc, python: PY });

test('train with kind torchrun: 2 ranks, progress from events.jsonl, exit 0 on completed', { skip }, () => {
  const exp = experiment(torchrun(2), 3);
  // --set trainer.* goes to the Python config reader too.
  const r = spawnSync(process.execPath, [...CLI, 'train', exp.config, '--set', 'trainer.nprocPerNode=2'], { encoding: 'utf8', env: env(), timeout: 300_000 });
  assert.equal(r.status, 0, r.stderr);
  const runDir = /^run (.+)$/m.exec(r.stdout)?.[1];
  assert.ok(runDir && path.dirname(runDir) === exp.runs, r.stdout);
  assert.match(r.stdout, /torch\.distributed\.run, 2 process\(es\) · backend torch-cpu · 3 steps/);
  // Step events reach the CLI (the bar itself draws only on a terminal): the verdict line of step 1.
  assert.match(r.stdout, /^step 1: collapse verdict \w[\w ]* \(R \d\.\d\d\): /m);
  assert.match(r.stdout, /\[info\] DDP: 2 ranks × batch 32 = effective batch 64/);
  assert.match(r.stdout, new RegExp(`completed at step 3: ${runDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  const summary = readRun(runDir);
  assert.equal(summary.status, 'completed');
  assert.equal(summary.meta?.totalSteps, 3);
  assert.equal(summary.meta?.checkpoints.last?.step, 3);
});

test('train with kind torchrun: Ctrl-C is forwarded to the process group; the run ends stopped with its checkpoint, exit 0', { skip }, async () => {
  const exp = experiment(torchrun(2), 100000);
  // Its own process group, as a shell's foreground job: SIGINT to the group is what Ctrl-C sends.
  const cli = spawn(process.execPath, [...CLI, 'train', exp.config], { env: env(), detached: true });
  let stdout = '';
  let stderr = '';
  cli.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  cli.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => cli.on('close', (code) => resolve(code)));
  // Wait for the run folder and its first logged step (states, not sleeps).
  let runDir: string | undefined;
  for (;;) {
    runDir = /^run (.+)$/m.exec(stdout)?.[1];
    if (runDir && readRun(runDir).step >= 1) break;
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

test('train with kind torchrun: a setting the PyTorch trainer refuses (backend wasm) is located in the config, exit 2, nothing written', { skip }, () => {
  const exp = experiment(torchrun(2), 3);
  const text = fs.readFileSync(exp.config, 'utf8').replace('"name": "ddp",', '"name": "ddp",\n  "backend": "wasm",');
  fs.writeFileSync(exp.config, text);
  const r = spawnSync(process.execPath, [...CLI, 'train', exp.config], { encoding: 'utf8', env: env(), timeout: 300_000 });
  assert.equal(r.status, 2, r.stderr);
  const before = text.slice(0, text.indexOf('"wasm"')).split('\n');
  const at = `${exp.config}:${before.length}:${before.at(-1)!.length + 1}`;
  assert.match(r.stdout, new RegExp(`^error: ${at.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: backend: "wasm" is not supported by the PyTorch trainer`, 'm'));
  assert.equal(fs.existsSync(exp.runs), false);
});
