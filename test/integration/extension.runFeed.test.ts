import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { readEvents, RunWriter, serializeEvent, writeMeta, readMeta, type RunEventInput, type StepEvent } from '../../src/core/runs';
import { startTrainer } from '../../src/trainer/client';
import { completeLinesEnd, RunFeed, STEPS_PER_MESSAGE } from '../../src/extension/dashboard/runFeed';
import { parseToDashboard, type ToDashboard } from '../../src/webview/dashboard/protocol';
import { smallExperiment } from '../helpers/smallExperiment';

/** The step event example of docs/run-format.md §4.2 at another step number. */
const DOC_STEP: StepEvent = JSON.parse(
  fs
    .readFileSync(path.resolve(__dirname, '../../docs/run-format.md'), 'utf8')
    .split('\n')
    .find((l) => l.startsWith('{"v":2,"type":"step"'))!,
);
function stepEvent(step: number): StepEvent {
  return { ...structuredClone(DOC_STEP), step };
}

function tempRoot(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'rlens-feed-'));
}

/** A step as given to a writer (the writer adds v and time). */
function stepInput(n: number): RunEventInput {
  const { v: _v, time: _t, ...rest } = stepEvent(n);
  return rest;
}

/** Every message passes the dashboard's own guard. */
function valid(messages: ToDashboard[]): ToDashboard[] {
  for (const m of messages) {
    const r = parseToDashboard(JSON.parse(JSON.stringify(m)));
    assert.ok(r.ok, `invalid ${m.type} message: ${r.ok ? '' : r.reason}`);
  }
  return messages;
}

const stepsOf = (messages: ToDashboard[]) => messages.flatMap((m) => (m.type === 'reset' || m.type === 'steps' ? m.steps.map((s) => s.step) : []));

test('reset holds the history; polls append only new complete lines, holding back a torn last line until it is complete', async () => {
  const root = tempRoot();
  try {
    const w = await RunWriter.create(root, 'feed test', { name: 'feed test' }, { backend: 'wasm', totalSteps: 100 });
    for (const n of [1, 2, 3]) w.appendEvent(stepInput(n));
    const feed = new RunFeed(w.dir);
    const reset = valid(feed.resetMessages());
    assert.equal(reset.length, 1);
    assert.equal(reset[0].type, 'reset');
    assert.deepEqual(stepsOf(reset), [1, 2, 3]);
    const run = (reset[0] as Extract<ToDashboard, { type: 'reset' }>).run!;
    assert.deepEqual(
      { status: run.status, name: run.name, backend: run.backend, step: run.step, totalSteps: run.totalSteps },
      { status: 'running', name: 'feed test', backend: 'wasm', step: 3, totalSteps: 100 },
    );

    const events = path.join(w.dir, 'events.jsonl');
    const line = serializeEvent(stepInput(4), new Date());
    const cut = Math.floor(line.length / 2);
    fs.appendFileSync(events, line.slice(0, cut)); // a write in progress (or cut by a crash)
    assert.deepEqual(valid(feed.pollMessages()), [], 'nothing new while the last line is torn');
    assert.deepEqual(readEvents(events).tornTail, true);
    fs.appendFileSync(events, line.slice(cut));
    const after = valid(feed.pollMessages());
    assert.deepEqual(stepsOf(after), [4], 'the completed line arrives exactly once');
    assert.equal(after.find((m) => m.type === 'status')?.type, 'status', 'the header step moved on');
    assert.deepEqual(valid(feed.pollMessages()), []);

    w.appendEvent({ type: 'eval', step: 4, metrics: { 'recall@10': 0.41, queries: 1500, ndcg: null, note: 'text is dropped' } });
    const evalMsgs = valid(feed.pollMessages());
    const evalTime = readEvents(events).events.find((e) => e.type === 'eval')!.time;
    assert.deepEqual(
      evalMsgs.filter((m) => m.type === 'eval'),
      [{ type: 'eval', point: { step: 4, metrics: { 'recall@10': 0.41, queries: 1500, ndcg: null }, time: evalTime } }],
      'its time too, for the wall-time axis',
    );

    w.finish('completed');
    const end = valid(feed.pollMessages());
    const status = end.find((m) => m.type === 'status') as Extract<ToDashboard, { type: 'status' }>;
    assert.equal(status.run.status, 'completed');
    // A dashboard opened later gets the same history in one reset.
    const later = valid(new RunFeed(w.dir).resetMessages());
    assert.deepEqual(stepsOf(later), [1, 2, 3, 4]);
    assert.deepEqual((later[0] as Extract<ToDashboard, { type: 'reset' }>).evals, [
      { step: 4, metrics: { 'recall@10': 0.41, queries: 1500, ndcg: null }, time: evalTime },
    ]);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('a replaced or truncated log restarts the dashboard with a fresh reset', async () => {
  const root = tempRoot();
  try {
    const w = await RunWriter.create(root, 'truncate', {}, { backend: 'cpu' });
    for (const n of [1, 2, 3, 4]) w.appendEvent(stepInput(n));
    const feed = new RunFeed(w.dir);
    feed.resetMessages();
    const events = path.join(w.dir, 'events.jsonl');
    const lines = fs.readFileSync(events, 'utf8').split('\n');
    fs.writeFileSync(events, lines.slice(0, 2).join('\n') + '\n'); // start + step 1
    const msgs = valid(feed.pollMessages());
    assert.equal(msgs[0].type, 'reset');
    assert.deepEqual(stepsOf(msgs), [1]);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('a long history goes as a reset with the first part and steps messages with the rest, in order', async () => {
  const root = tempRoot();
  try {
    const w = await RunWriter.create(root, 'long', {}, {});
    const n = STEPS_PER_MESSAGE * 2 + 321;
    for (let s = 1; s <= n; s++) w.appendEvent(stepInput(s));
    const msgs = valid(new RunFeed(w.dir).resetMessages());
    assert.deepEqual(
      msgs.map((m) => [m.type, m.type === 'reset' || m.type === 'steps' ? m.steps.length : 0]),
      [
        ['reset', STEPS_PER_MESSAGE],
        ['steps', STEPS_PER_MESSAGE],
        ['steps', 321],
      ],
    );
    assert.deepEqual(
      stepsOf(msgs),
      Array.from({ length: n }, (_, i) => i + 1),
    );
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('startAtEnd follows from the last complete line without reading the history', async () => {
  const root = tempRoot();
  try {
    const w = await RunWriter.create(root, 'tail', {}, { backend: 'wasm' });
    for (const n of [5, 10, 15]) w.appendEvent(stepInput(n));
    const events = path.join(w.dir, 'events.jsonl');
    const line = serializeEvent(stepInput(20), new Date());
    fs.appendFileSync(events, line.slice(0, 40));
    assert.equal(completeLinesEnd(events), fs.statSync(events).size - 40);
    const feed = new RunFeed(w.dir);
    const { header, last } = feed.startAtEnd();
    assert.equal(last?.step, 15);
    assert.equal(header.step, 15);
    fs.appendFileSync(events, line.slice(40));
    assert.deepEqual(stepsOf(valid(feed.pollMessages())), [20]);
    assert.equal(completeLinesEnd(path.join(root, 'missing.jsonl')), 0);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('the header reports a dead writer as crashed and an end event over a stale "running" meta', async () => {
  const root = tempRoot();
  try {
    const w = await RunWriter.create(root, 'crash', {}, {});
    w.appendEvent(stepInput(1));
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    const read = readMeta(w.dir);
    assert.ok(read.ok);
    writeMeta(w.dir, { ...read.meta, pid: Number(dead.stdout) });
    const feed = new RunFeed(w.dir);
    assert.equal(feed.reset().header.status, 'crashed');
    // A writer that appended its end event but died before rewriting meta.json.
    writeMeta(w.dir, { ...read.meta, pid: process.pid });
    w.appendEvent({ type: 'end', status: 'stopped', step: 1 });
    const msgs = valid(feed.pollMessages());
    assert.equal((msgs.find((m) => m.type === 'status') as Extract<ToDashboard, { type: 'status' }>).run.status, 'stopped');
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('following a live trainer process: every logged step reaches the dashboard once, in order', async () => {
  // A run far longer than the test: it is stopped once the feed has followed it for 50 steps while it
  // ran, so the test waits on what the feed saw, never on how fast the machine is.
  const exp = smallExperiment({ training: { steps: 200_000, logEvery: 1, checkpointEvery: 1_000_000 } });
  try {
    let runDir: string | null = null;
    const handle = startTrainer(
      { configPath: exp.config, overrides: [] },
      (m) => {
        if (m.type === 'started') runDir = m.runDir;
      },
      { onInvalid: (r) => assert.fail(r) },
    );
    const received: number[] = [];
    let feed: RunFeed | null = null;
    let followedWhileRunning = 0;
    let finished = false;
    void handle.done.then(() => (finished = true));
    while (!finished) {
      await new Promise((r) => setTimeout(r, 15));
      if (!runDir) continue;
      if (!feed) {
        feed = new RunFeed(runDir);
        received.push(...stepsOf(valid(feed.resetMessages())));
        continue;
      }
      const polled = stepsOf(valid(feed.pollMessages()));
      received.push(...polled);
      if (feed.currentHeader?.status === 'running') followedWhileRunning += polled.length;
      if (followedWhileRunning >= 50) handle.stop();
    }
    assert.ok(feed, 'the trainer created a run');
    received.push(...stepsOf(valid(feed.pollMessages())));
    const written = readEvents(path.join(runDir!, 'events.jsonl'))
      .events.filter((e): e is StepEvent => e.type === 'step')
      .map((e) => e.step);
    assert.ok(written.length >= 50 && written.length < 200_000, `${written.length} steps written`);
    assert.deepEqual(received, written);
    assert.equal(feed.currentHeader?.status, 'stopped');
  } finally {
    fs.rmSync(exp.dir, { recursive: true, force: true });
  }
});

test('run header: the collapse thresholds of the run’s config.json (diagnostics.collapse.*), for the dashboard’s threshold lines', async () => {
  const root = tempRoot();
  try {
    const config = {
      name: 'th',
      diagnostics: { collapse: { violationRise: 0.3, separatedRatio: 2, neverSeparatedSteps: null, unknownKey: 5, cosineRise: 'x' } },
    };
    const w = await RunWriter.create(root, 'th', config, { backend: 'wasm' });
    const feed = new RunFeed(w.dir);
    assert.deepEqual(feed.reset().header.collapseThresholds, { separatedRatio: 2, violationRise: 0.3, neverSeparatedSteps: null });
    const bare = await RunWriter.create(root, 'bare', { name: 'bare' }, { backend: 'wasm' });
    assert.deepEqual(new RunFeed(bare.dir).reset().header.collapseThresholds, {}, 'no diagnostics section: the defaults stand');
    w.finish('completed');
    bare.finish('completed');
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('scalars events (Lens.log_scalars) reach the dashboard: in the reset, then as live scalars messages', async () => {
  const root = tempRoot();
  try {
    const w = await RunWriter.create(root, 'scalars', { name: 'scalars' }, { backend: 'torch', totalSteps: 10 });
    w.appendEvent(stepInput(1));
    w.appendEvent({ type: 'scalars', step: 1, values: { lr: 0.001, 'grad/norm': 2.5 } });
    const feed = new RunFeed(w.dir);
    const reset = valid(feed.resetMessages());
    assert.deepEqual((reset[0] as Extract<ToDashboard, { type: 'reset' }>).scalars, [{ step: 1, values: { lr: 0.001, 'grad/norm': 2.5 } }]);
    w.appendEvent({ type: 'scalars', step: 2, values: { lr: 0.0005, 'grad/norm': null } });
    assert.deepEqual(valid(feed.pollMessages()), [{ type: 'scalars', points: [{ step: 2, values: { lr: 0.0005, 'grad/norm': null } }] }]);
    assert.deepEqual(feed.pollMessages(), []);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
