import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { loadCheckpoint } from '../../src/core/model/checkpoint';
import { defaultHostThreads } from '../../src/core/training/hostLanes';
import { readEvents, readRun } from '../../src/core/runs';
import { startTrainer } from '../../src/trainer/client';
import { TrainerProcessError } from '../../src/trainer/launch/trainingProcess';
import type { FromTrainer } from '../../src/trainer/protocol';
import { trainerMessages } from '../helpers/trainerMessages';
import { smallExperiment } from '../helpers/smallExperiment';

/** Starts a real trainer process and records its messages; `until` resolves when a predicate matches. */
function run(config: string, runsRoot: string, overrides: string[] = [], steps?: number) {
  const { messages, onMessage, until } = trainerMessages();
  const handle = startTrainer({ configPath: config, overrides, runsRoot, steps }, onMessage, {
    onInvalid: (r) => assert.fail(`invalid trainer message: ${r}`),
  });
  return { handle, messages, until };
}

test('stop: the trainer finishes the step, writes the last checkpoint and ends as "stopped"', async () => {
  const exp = smallExperiment({ training: { steps: 5000, logEvery: 1, checkpointEvery: 100000 } });
  const r = run(exp.config, exp.runs);
  const started = (await r.until((m) => m.type === 'started')) as Extract<FromTrainer, { type: 'started' }>;
  assert.equal(started.backend, 'wasm');
  await r.until((m) => m.type === 'step' && m.event.step >= 15);
  r.handle.stop();
  const done = await r.handle.done;
  assert.ok(done, 'a done message arrived');
  assert.equal(done.status, 'stopped');
  assert.ok(done.step >= 15 && done.step < 5000);
  const summary = readRun(done.runDir!);
  assert.equal(summary.status, 'stopped');
  assert.equal(summary.meta?.checkpoints.last?.step, done.step);
  const ckpt = loadCheckpoint(path.join(done.runDir!, 'checkpoints', 'last'));
  assert.equal(ckpt.info.step, done.step);
  assert.equal(ckpt.params.query.table.length, 4096 * 16);
  const { events } = readEvents(path.join(done.runDir!, 'events.jsonl'));
  const steps = events.filter((e) => e.type === 'step');
  assert.equal(steps.length, done.step, 'logEvery 1: every step is in events.jsonl');
  assert.deepEqual(events.at(-1), { ...events.at(-1), type: 'end', status: 'stopped', step: done.step });
  // The host-lane worker thread started (from dist/laneWorker.js when the trainer runs from dist/).
  const threads = defaultHostThreads();
  assert.ok(events.some((e) => e.type === 'log' && e.message === `host embedding work on ${threads} thread${threads === 1 ? '' : 's'}`));
  // Step messages are throttled (newest wins; test/unit/throttle.test.ts checks the rate with a mock clock)
  // while events.jsonl keeps every step: the messages are a subset of the logged steps, in order, and the
  // last logged step is always sent (flushed at the end).
  const msgSteps = r.messages.flatMap((m) => (m.type === 'step' ? [m.event.step] : []));
  const logged = new Set(steps.map((e) => (e as { step: number }).step));
  assert.ok(
    msgSteps.every((s, i) => logged.has(s) && (i === 0 || s > msgSteps[i - 1])),
    `step messages ${msgSteps.join(',')}`,
  );
  assert.equal(msgSteps.at(-1), done.step);
});

test('SIGKILL: the run is read as crashed with every logged step intact', async () => {
  const exp = smallExperiment({ training: { steps: 5000, logEvery: 2 } });
  const r = run(exp.config, exp.runs);
  const started = (await r.until((m) => m.type === 'started')) as Extract<FromTrainer, { type: 'started' }>;
  await r.until((m) => m.type === 'step' && m.event.step >= 20);
  r.handle.kill();
  assert.equal(await r.handle.done, null);
  assert.ok(r.handle.failure instanceof TrainerProcessError);
  assert.equal(r.handle.failure.kind, 'exited');
  assert.equal(r.handle.failure.signal, 'SIGKILL');
  assert.match(r.handle.failure.message, /^the trainer process was killed by SIGKILL without reporting the end of its job/);
  const summary = readRun(started.runDir);
  assert.equal(summary.status, 'crashed');
  const { events, badLines } = readEvents(path.join(started.runDir, 'events.jsonl'));
  assert.equal(badLines.length, 0);
  const steps = events.filter((e) => e.type === 'step').map((e) => (e as { step: number }).step);
  assert.ok(steps.length >= 10);
  assert.deepEqual(
    steps,
    steps.map((_, i) => (i === 0 ? 1 : 2 * i)),
    'steps 1, 2, 4, 6, … all present',
  );
  assert.ok(!events.some((e) => e.type === 'end'));
});

test('a non-finite loss or gradient: the run fails with the step and the quantity', async () => {
  // τ = 1e-40: the loss (computed in float64) is astronomically large and its float32 gradients, ∝ 1/τ,
  // overflow: the step's gradient norm is not finite, and nothing is applied.
  const exp = smallExperiment();
  const r = run(exp.config, exp.runs, ['loss.adaptive=false', 'loss.temperature=1e-40']);
  const done = await r.handle.done;
  assert.ok(done);
  assert.equal(done.status, 'failed');
  assert.equal(done.error?.step, 1);
  assert.equal(done.error?.quantity, 'gradient_norm');
  assert.match(done.error!.message, /^gradient_norm is (NaN|Infinity) at step 1;/);
  const summary = readRun(done.runDir!);
  assert.equal(summary.status, 'failed');
  assert.equal(summary.meta?.error?.quantity, 'gradient_norm');
  const { events } = readEvents(path.join(done.runDir!, 'events.jsonl'));
  assert.ok(events.some((e) => e.type === 'log' && e.level === 'error' && /gradient_norm is (NaN|Infinity) at step 1/.test(e.message)));
});

test('a bad config is reported with its location and no run folder is created', async () => {
  const exp = smallExperiment();
  const r = run(exp.config, exp.runs, ['loss.alpha=-3']);
  const done = await r.handle.done;
  assert.equal(done?.status, 'failed');
  assert.equal(done?.runDir, null);
  const err = r.messages.find((m) => m.type === 'error') as Extract<FromTrainer, { type: 'error' }>;
  assert.equal(err.problems?.[0].path, 'loss.alpha');
  assert.match(err.message, /small\.rlens\.json:\d+:\d+: loss\.alpha: must be >= 0 \(value from --set\)/);
  assert.equal(fs.existsSync(exp.runs), false);
});

test('missing data is reported before any run folder exists', async () => {
  const exp = smallExperiment({ data: { train: 'nope/missing.jsonl' } });
  const r = run(exp.config, exp.runs);
  const done = await r.handle.done;
  assert.equal(done?.status, 'failed');
  const err = r.messages.find((m) => m.type === 'error') as Extract<FromTrainer, { type: 'error' }>;
  assert.match(err.message, /not found: .*nope\/missing\.jsonl \(data\.train\)/);
  assert.equal(fs.existsSync(exp.runs), false);
});

// ---------- process handling (vscode-jupyter's kernel launcher: ready handshake, start timeout, typed exit errors) ----------

/** A real child process from a small script (standing in for a trainer that misbehaves at start). */
function scriptEntry(name: string, code: string): { file: string; execArgv: string[] } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rlens-entry-'));
  const file = path.join(dir, `${name}.js`);
  fs.writeFileSync(file, code);
  return { file, execArgv: [] };
}

test('a trainer that exits before it is ready: a typed error with its exit code and the last lines of its stderr', async () => {
  const entry = scriptEntry(
    'exits',
    `for (let i = 1; i <= 30; i++) console.error('line ' + i);\nconsole.error('Error: Cannot find module "@tensorflow/tfjs"');\nprocess.exit(3);`,
  );
  const messages: FromTrainer[] = [];
  const handle = startTrainer({ configPath: '/nowhere.rlens.json', overrides: [] }, (m) => messages.push(m), { entry });
  assert.equal(await handle.done, null);
  const f = handle.failure;
  assert.ok(f instanceof TrainerProcessError);
  assert.equal(f.kind, 'exited-before-ready');
  assert.equal(f.exitCode, 3);
  assert.equal(f.stderrTail.length, 20, 'the last 20 lines are kept');
  assert.equal(f.stderrTail.at(-1), 'Error: Cannot find module "@tensorflow/tfjs"');
  assert.equal(f.stderrTail[0], 'line 12');
  assert.equal(f.message.split('\n')[0], 'the trainer process exited with code 3 before it was ready: Error: Cannot find module "@tensorflow/tfjs"');
  assert.deepEqual(messages, []);
});

test('a trainer that never gets ready is killed after the start timeout', async () => {
  const entry = scriptEntry('hangs', `console.error('loading…');\nsetInterval(() => {}, 1000);`);
  const handle = startTrainer({ configPath: '/nowhere.rlens.json', overrides: [] }, () => undefined, { entry, startTimeoutMs: 300 });
  assert.equal(await handle.done, null);
  assert.equal(handle.failure?.kind, 'start-timeout');
  assert.equal(handle.child.signalCode, 'SIGKILL');
  assert.match(handle.failure!.message, /^the trainer process did not get ready within 0.3 s and was killed/);
});

test('the job is sent only after the ready message, and a stop asked before it follows the job', async () => {
  // Records what arrives and when (relative to its own ready), then ends the job when stopped.
  const entry = scriptEntry(
    'echo',
    `const got = [];
setTimeout(() => {
  process.on('message', (m) => {
    got.push(m.type);
    if (m.type === 'stop') process.send({ type: 'log', level: 'info', message: got.join(',') }, () =>
      process.send({ type: 'done', status: 'stopped', runDir: null, step: 0 }, () => process.disconnect()));
  });
  process.send({ type: 'ready', pid: process.pid });
}, 200);`,
  );
  const messages: FromTrainer[] = [];
  const handle = startTrainer({ configPath: '/x.rlens.json', overrides: [] }, (m) => messages.push(m), { entry });
  handle.stop(); // before ready: held back until the job was sent
  const done = await handle.done;
  assert.equal(done?.status, 'stopped');
  assert.equal(handle.failure, null);
  assert.deepEqual(
    messages.map((m) => m.type),
    ['ready', 'log', 'done'],
  );
  assert.equal((messages[1] as Extract<FromTrainer, { type: 'log' }>).message, 'start,stop');
});
