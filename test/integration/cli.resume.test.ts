/**
 * `retrieval-lens train --resume RUN` (src/trainer/launch/resumeJob.ts) with real processes: a PyTorch run
 * (torchrun, /usr/bin/python3 with torch) SIGKILLed after a checkpoint is resumed by the CLI from its own
 * config.json and continues the step count in a new run folder filed under the same config; a run still
 * running and a run of the built-in trainer (weights-only checkpoints) are refused with located messages.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { readEvents, readRun } from '../../src/core/runs';
import type { StepEvent } from '../../src/core/runs/eventSchema';
import { resumeCheckpointDir } from '../../src/trainer/launch/resumeJob';
import { torchSkip, TORCH_PYTHON } from '../helpers/torch';

const REPO = path.resolve(__dirname, '../..');
const CLI = ['--import', 'tsx', path.join(REPO, 'src/cli.ts')];
const SHOP_DATA = path.join(REPO, 'examples', 'shop', 'data');

function experiment(trainer: object): { config: string; runs: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rlens-cli-resume-'));
  const config = path.join(dir, 'resume.rlens.json');
  const data = { train: path.join(SHOP_DATA, 'train.jsonl'), test: path.join(SHOP_DATA, 'test.jsonl'), corpus: path.join(SHOP_DATA, 'corpus.jsonl') };
  const model = { vocabBuckets: 4096, embeddingDim: 16, hiddenDim: 16, outputDim: 16 };
  const training = { steps: 100000, batchSize: 32, logEvery: 1, checkpointEvery: 3 };
  fs.writeFileSync(config, JSON.stringify({ name: 'resume', data, model, training, evaluation: { every: 0 }, trainer }, null, 2) + '\n');
  return { config, runs: path.join(dir, 'runs') };
}

const cli = (...args: string[]) => spawnSync(process.execPath, [...CLI, ...args], { encoding: 'utf8', timeout: 300_000 });
const steps = (runDir: string) =>
  readEvents(path.join(runDir, 'events.jsonl'))
    .events.filter((e): e is StepEvent => e.type === 'step')
    .map((e) => e.step);
/** The process group of a pid (field 5 of /proc/<pid>/stat, after the parenthesised command). */
const pgidOf = (pid: number) => Number(fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')[2]);

test('train --resume: a SIGKILLed torchrun run continues its step count from its last checkpoint, filed under its config', { skip: torchSkip }, async () => {
  const exp = experiment({ kind: 'torchrun', nprocPerNode: 1, python: TORCH_PYTHON });
  const child = spawn(process.execPath, [...CLI, 'train', exp.config], { detached: true });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  let runDir: string | undefined;
  for (;;) {
    runDir = /^run (.+)$/m.exec(stdout)?.[1];
    if (runDir && readRun(runDir).step >= 4 && readRun(runDir).meta?.checkpoints.last) break;
    assert.equal(child.exitCode, null, `the CLI ended early: ${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  // While it runs, resuming it is refused (nothing started).
  const busy = cli('train', '--resume', runDir);
  assert.equal(busy.status, 2, busy.stderr);
  assert.match(busy.stderr, new RegExp(`${runDir}: the run is still running \\(pid \\d+\\): stop it first`));

  // SIGKILL the trainer's process group (torchrun's agent and its rank): no final status, the run reads crashed.
  process.kill(-pgidOf(readRun(runDir).meta!.pid!), 'SIGKILL');
  assert.equal(await exited, 1, stdout);
  const killed = readRun(runDir);
  assert.equal(killed.status, 'crashed');
  // The step the trainer resumes from is its checkpoint's resume.json; meta.json may lag one checkpoint behind it
  // when the kill lands between writing the checkpoint and updating meta.json (seen in a clean-clone CI run).
  const ckpt = resumeCheckpointDir(runDir);
  assert.ok(ckpt, `no checkpoint to resume from in ${runDir}`);
  const k = (JSON.parse(fs.readFileSync(path.join(ckpt, 'resume.json'), 'utf8')) as { step: number }).step;
  const metaStep = killed.meta!.checkpoints.last!.step;
  assert.ok(k >= 3 && k % 3 === 0 && (k === metaStep || k === metaStep + 3), `checkpoint at ${k}, meta.json says ${metaStep}`);

  const r = cli('train', '--resume', runDir, '--steps', String(k + 3));
  assert.equal(r.status, 0, r.stderr);
  assert.match(
    r.stdout,
    new RegExp(`resuming ${runDir} \\(last step \\d+\\) from its checkpoint of step ${k} with ${path.join(runDir, 'config.json')}, to step ${k + 3}`),
  );
  const resumed = /^run (.+)$/m.exec(r.stdout)?.[1];
  assert.ok(resumed && resumed !== runDir && path.dirname(resumed) === exp.runs, r.stdout);
  assert.deepEqual(steps(resumed), [k + 1, k + 2, k + 3]);
  const summary = readRun(resumed);
  assert.equal(summary.status, 'completed');
  assert.equal(summary.meta?.configPath, exp.config);
  assert.match(r.stdout, new RegExp(`resumed from ${runDir}/checkpoints/last at step ${k} `));
});

test('train --resume: a run of the built-in trainer is refused at its config.json trainer.kind, exit 2, nothing started', () => {
  const exp = experiment({ kind: 'node' });
  const r0 = cli('train', exp.config, '--steps', '2');
  assert.equal(r0.status, 0, r0.stderr);
  const [runDir] = fs.readdirSync(exp.runs).map((d) => path.join(exp.runs, d));
  const r = cli('train', '--resume', runDir);
  assert.equal(r.status, 2, r.stdout);
  assert.match(
    r.stderr,
    new RegExp(
      `${path.join(runDir, 'config.json')}: \\$\\.trainer\\.kind is "node": the built-in TypeScript trainer writes weights-only checkpoints .* cannot resume`,
    ),
  );
  assert.equal(fs.readdirSync(exp.runs).length, 1);
});
