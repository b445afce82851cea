import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { DistributionSummary, StepDiagnostics } from '../../src/core/metrics/types';
import {
  EVENT_SCHEMA_VERSION,
  RunWriter,
  createRunDir,
  listRuns,
  metaProblems,
  parseEventLine,
  readEvents,
  readMeta,
  readRun,
  recoverDirAtomically,
  scanEventsBackward,
  serializeEvent,
  slugify,
  tailEvents,
  writeDirAtomically,
  type RunEvent,
  type RunEventInput,
  type StepEvent,
} from '../../src/core/runs';

const RUNS_MODULE = path.resolve(__dirname, '../../src/core/runs');
const REPO_ROOT = path.resolve(__dirname, '../..');

const createdRoots: string[] = [];
after(() => {
  for (const d of createdRoots) fs.rmSync(d, { recursive: true, force: true });
});

function tmpRoot(label: string): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), `rlens-runs-${label}-`));
  createdRoots.push(d);
  return d;
}

function dist(mean: number): DistributionSummary {
  const counts = new Array<number>(32).fill(0);
  counts[16] = 3;
  counts[17] = 1;
  return {
    count: 4,
    mean,
    std: 0.1,
    min: mean - 0.2,
    p05: mean - 0.18,
    p25: mean - 0.05,
    p50: mean,
    p75: mean + 0.05,
    p95: mean + 0.18,
    max: mean + 0.2,
    hist: { lo: -1, hi: 1, counts },
  };
}

/** A complete diagnostics object; typed so the compiler keeps it in sync with src/core/metrics/types.ts. */
function diagnostics(): StepDiagnostics {
  return {
    dist: { delta: dist(0.2), tau: null, sQV: dist(0.6), sQNeg: dist(0.1), sVNeg: dist(0.15) },
    collapse: { ratio: 4, gap: 0.45, violationRate: 0.05, itemCosine: 0.15, uniformity: -2.1, dimStd: 0.17, effectiveRank: null },
    recall: { at1: 0.5, at5: 0.75, at10: 1 },
  };
}

function stepInput(step: number, loss: number): RunEventInput {
  return {
    type: 'step',
    step,
    epoch: 0,
    loss,
    lossQ: loss,
    lossSym: 0,
    lr: 0.001,
    gradNorm: 1.5,
    stepMs: 12,
    examplesPerSec: 2000,
    diagnostics: diagnostics(),
    verdict: { state: 'healthy', reason: 'all indicators within thresholds' },
  };
}

/** Run `code` in a child `node --import tsx -e`, resolving with the first stdout line. */
function spawnTsx(code: string): { child: ChildProcess; firstLine: Promise<string>; exited: Promise<number | null> } {
  const child = spawn(process.execPath, ['--import', 'tsx', '-e', code], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  const firstLine = new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (d) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl !== -1) resolve(out.slice(0, nl));
    });
    child.on('exit', (c) => reject(new Error(`child exited (${c}) before printing a line; stderr: ${err}`)));
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  return { child, firstLine, exited };
}

test('createRunDir: UTC time + slug, -2/-3 suffixes on collision', () => {
  const root = tmpRoot('dir');
  const now = new Date(Date.UTC(2025, 0, 2, 3, 4, 5));
  const a = createRunDir(root, 'Shop: InfoNCE τ=0.05 (Évaluation)', now);
  const b = createRunDir(root, 'Shop: InfoNCE τ=0.05 (Évaluation)', now);
  const c = createRunDir(root, 'Shop: InfoNCE τ=0.05 (Évaluation)', now);
  assert.equal(path.basename(a), '20250102-030405-shop-infonce-0-05-evaluation');
  assert.equal(path.basename(b), '20250102-030405-shop-infonce-0-05-evaluation-2');
  assert.equal(path.basename(c), '20250102-030405-shop-infonce-0-05-evaluation-3');
  for (const d of [a, b, c]) assert.deepEqual(fs.readdirSync(d), []);
  assert.equal(slugify('***'), 'run');
  assert.equal(slugify('x'.repeat(70) + '-y').length, 60);
});

test('RunWriter round trip: config, meta, events, checkpoints, finish', async () => {
  const root = tmpRoot('roundtrip');
  let clock = Date.UTC(2025, 5, 1, 12, 0, 0);
  const now = () => new Date(clock);
  const config = { name: 'shop', steps: 100, loss: { kind: 'adaptive-margin' }, seed: 7 };
  const w = await RunWriter.create(
    root,
    'shop',
    config,
    {
      backend: 'cpu',
      totalSteps: 100,
      configPath: '/x/shop.rlens.json',
      versions: { node: process.versions.node, tfjs: '4.22.0', retrievalLens: '0.1.0', extra: 'yes' },
    },
    { now },
  );
  assert.equal(path.basename(w.dir), '20250601-120000-shop');
  assert.deepEqual(JSON.parse(fs.readFileSync(path.join(w.dir, 'config.json'), 'utf8')), config);

  clock += 1000;
  w.appendEvent(stepInput(1, 2.5));
  w.appendEvent({ ...stepInput(2, NaN), gradNorm: Infinity } as RunEventInput);
  w.appendEvent({ type: 'log', level: 'warn', message: 'loss is "NaN"\nline two' });
  w.appendEvent({ type: 'eval', step: 2, metrics: { 'recall@10': 0.41, 'mrr@10': 0.2 } });
  w.recordCheckpoint('best', { step: 2, path: 'checkpoints/best', metric: 'recall@10', value: 0.41 });
  clock += 1000;
  w.finish('failed', { message: 'loss became NaN', step: 3, quantity: 'loss' });
  assert.throws(() => w.appendEvent({ type: 'log', level: 'info', message: 'late' }));

  const { events, tornTail, badLines } = readEvents(path.join(w.dir, 'events.jsonl'));
  assert.equal(tornTail, false);
  assert.deepEqual(badLines, []);
  assert.deepEqual(
    events.map((e) => e.type),
    ['start', 'step', 'step', 'log', 'eval', 'checkpoint', 'end'],
  );
  for (const e of events) assert.equal(e.v, EVENT_SCHEMA_VERSION);
  assert.equal(events[0].time, '2025-06-01T12:00:00.000Z');
  assert.deepEqual(events[0], {
    v: EVENT_SCHEMA_VERSION,
    type: 'start',
    time: '2025-06-01T12:00:00.000Z',
    config: { name: 'shop', steps: 100, seed: 7 },
    backend: 'cpu',
  });
  const s1 = events[1] as StepEvent;
  assert.equal(s1.loss, 2.5);
  assert.deepEqual(s1.diagnostics, diagnostics());
  const s2 = events[2] as StepEvent;
  assert.equal(s2.loss, null, 'NaN is written as null');
  assert.equal(s2.gradNorm, null, 'Infinity is written as null');
  assert.equal((events[3] as Extract<RunEvent, { type: 'log' }>).message, 'loss is "NaN"\nline two');
  assert.deepEqual(events[5], {
    v: EVENT_SCHEMA_VERSION,
    type: 'checkpoint',
    time: '2025-06-01T12:00:01.000Z',
    kind: 'best',
    step: 2,
    path: 'checkpoints/best',
    metric: 'recall@10',
    value: 0.41,
  });
  assert.deepEqual(events[6], {
    v: EVENT_SCHEMA_VERSION,
    type: 'end',
    time: '2025-06-01T12:00:02.000Z',
    status: 'failed',
    step: 2,
    error: { message: 'loss became NaN', step: 3, quantity: 'loss' },
  });

  const read = readMeta(w.dir);
  assert.ok(read.ok);
  const m = read.meta;
  assert.equal(m.formatVersion, 1);
  assert.equal(m.name, 'shop');
  assert.equal(m.configPath, '/x/shop.rlens.json');
  assert.equal(m.status, 'failed');
  assert.equal(m.backend, 'cpu');
  assert.deepEqual(m.versions, { node: process.versions.node, tfjs: '4.22.0', retrievalLens: '0.1.0', extra: 'yes' });
  assert.equal(m.pid, process.pid);
  assert.equal(m.host, os.hostname());
  assert.equal(m.startedAt, '2025-06-01T12:00:00.000Z');
  assert.equal(m.endedAt, '2025-06-01T12:00:02.000Z');
  assert.equal(m.step, 2);
  assert.equal(m.totalSteps, 100);
  assert.deepEqual(m.error, { message: 'loss became NaN', step: 3, quantity: 'loss' });
  assert.deepEqual(m.checkpoints, { best: { step: 2, path: 'checkpoints/best', metric: 'recall@10', value: 0.41 } });
  assert.deepEqual(fs.readdirSync(w.dir).sort(), ['config.json', 'events.jsonl', 'meta.json'], 'no temp files left');

  const summary = readRun(w.dir);
  assert.equal(summary.status, 'failed');
  assert.equal(summary.step, 2);
  assert.equal(summary.lastStep?.step, 2);
  assert.deepEqual(summary.lastEval?.metrics, { 'recall@10': 0.41, 'mrr@10': 0.2 });
  assert.equal(summary.end?.status, 'failed');
  assert.equal(summary.eventsBytes, fs.statSync(path.join(w.dir, 'events.jsonl')).size);
});

test('heartbeat writes meta.json at most every heartbeatMs', async () => {
  const root = tmpRoot('heartbeat');
  let clock = Date.UTC(2025, 0, 1);
  const w = await RunWriter.create(root, 'hb', {}, {}, { now: () => new Date(clock), heartbeatMs: 5000 });
  const onDisk = () => {
    const r = readMeta(w.dir);
    assert.ok(r.ok);
    return r.meta;
  };
  clock += 4999;
  assert.equal(w.heartbeat(10), false);
  assert.equal(onDisk().step, 0);
  assert.equal(onDisk().heartbeatAt, '2025-01-01T00:00:00.000Z');
  clock += 1;
  assert.equal(w.heartbeat(11), true);
  assert.equal(onDisk().step, 11);
  assert.equal(onDisk().heartbeatAt, '2025-01-01T00:00:05.000Z');
  clock += 1000;
  assert.equal(w.heartbeat(12), false);
  assert.equal(onDisk().step, 11);
  w.finish('completed');
  assert.equal(onDisk().step, 12, 'finish writes the pending step');
  assert.equal(onDisk().status, 'completed');
});

test('readEvents: torn last line is skipped, bad middle line is reported with its number', async () => {
  const root = tmpRoot('torn');
  const w = await RunWriter.create(root, 'torn', {}, {});
  w.appendEvent(stepInput(1, 1));
  w.appendEvent(stepInput(2, 0.9));
  const file = w.eventsFile;
  // Line 4 is garbage, line 5 is JSON but not an event, line 6 is a step without "step".
  fs.appendFileSync(file, 'this is not json\n{"v":1,"type":"step","time":"2025-01-01T00:00:00Z"}\n');
  fs.appendFileSync(file, '\n'); // blank line 6: ignored
  w.appendEvent(stepInput(3, 0.8));
  w.appendEvent({ type: 'log', level: 'info', message: 'x' });
  fs.appendFileSync(file, '{"v":1,"type":"future-type","time":"2025-01-01T00:00:00Z"}\n');
  const step4 = serializeEvent(stepInput(4, 0.7));
  const cut = step4.indexOf('"lo') + 3;
  fs.appendFileSync(file, step4.slice(0, cut));

  const r = readEvents(file);
  assert.equal(r.tornTail, true);
  assert.deepEqual(
    r.events.map((e) => e.type),
    ['start', 'step', 'step', 'step', 'log'],
  );
  assert.deepEqual(
    r.events.filter((e) => e.type === 'step').map((e) => (e as StepEvent).step),
    [1, 2, 3],
  );
  assert.deepEqual(
    r.badLines.map((b) => b.line),
    [4, 5],
  );
  assert.match(r.badLines[0].reason, /invalid JSON/);
  assert.equal(r.badLines[1].reason, 'step event, step: missing');
  assert.equal(r.unknownTypes, 1);

  // A torn tail that later gets completed is no longer torn; a bad *terminated* last line is a bad line, not a torn tail.
  fs.appendFileSync(file, step4.slice(cut));
  const r2 = readEvents(file);
  assert.equal(r2.tornTail, false);
  assert.equal((r2.events.at(-1) as StepEvent).step, 4);
  fs.appendFileSync(file, '{"v":99,"type":"step","time":"t","step":5}\n');
  const r3 = readEvents(file);
  assert.equal(r3.tornTail, false);
  assert.deepEqual(
    r3.badLines.map((b) => b.line),
    [4, 5, 11],
  );
  assert.match(r3.badLines[2].reason, /newer/);

  const summary = readRun(w.dir);
  assert.equal(summary.lastStep?.step, 4);
});

test('scanEventsBackward visits the same events as readEvents, in reverse, across chunk boundaries', async () => {
  const root = tmpRoot('scan');
  const w = await RunWriter.create(root, 'scan', {}, {});
  for (let i = 1; i <= 20; i++) {
    w.appendEvent(stepInput(i, 1 / i));
    if (i % 7 === 0) w.appendEvent({ type: 'log', level: 'info', message: `é✓ ${'x'.repeat(i)}` });
  }
  fs.appendFileSync(w.eventsFile, 'garbage\n');
  w.appendEvent({ type: 'eval', step: 20, metrics: { r: 1 } });
  fs.appendFileSync(w.eventsFile, '{"v":1,"ty');
  const reference = readEvents(w.eventsFile);
  for (const chunkBytes of [1, 7, 100, 1 << 20]) {
    const seen: RunEvent[] = [];
    const r = scanEventsBackward(w.eventsFile, (e) => (seen.push(e), false), { chunkBytes });
    assert.deepEqual(seen, [...reference.events].reverse(), `chunkBytes=${chunkBytes}`);
    assert.equal(r.tornTail, true);
    assert.equal(r.truncated, false);
  }
  const capped = scanEventsBackward(w.eventsFile, () => false, { chunkBytes: 100, maxBytes: 300 });
  assert.equal(capped.truncated, true);
});

test('tailEvents returns only complete lines, across a line written in two chunks', async () => {
  const root = tmpRoot('tail');
  const w = await RunWriter.create(root, 'tail', {}, {});
  const file = w.eventsFile;
  const first = tailEvents(file, 0);
  assert.deepEqual(
    first.events.map((e) => e.type),
    ['start'],
  );
  assert.equal(first.nextOffset, fs.statSync(file).size);
  assert.equal(first.reset, false);

  const line = Buffer.from('{"v":1,"type":"log","time":"2025-01-01T00:00:00.000Z","level":"info","message":"héllo ✓ wörld"}\n', 'utf8');
  const cut = line.indexOf(Buffer.from('✓', 'utf8')) + 1; // split inside the 3-byte UTF-8 sequence of ✓
  fs.appendFileSync(file, line.subarray(0, cut));
  const mid = tailEvents(file, first.nextOffset);
  assert.deepEqual(mid.events, []);
  assert.equal(mid.nextOffset, first.nextOffset, 'offset does not move past an incomplete line');

  fs.appendFileSync(file, line.subarray(cut));
  w.appendEvent(stepInput(1, 0.5));
  const done = tailEvents(file, mid.nextOffset);
  assert.deepEqual(
    done.events.map((e) => e.type),
    ['log', 'step'],
  );
  assert.equal((done.events[0] as Extract<RunEvent, { type: 'log' }>).message, 'héllo ✓ wörld');
  assert.equal(done.nextOffset, fs.statSync(file).size);
  assert.deepEqual(tailEvents(file, done.nextOffset).events, []);

  // A bad complete line is reported by byte offset and skipped.
  const badAt = fs.statSync(file).size;
  fs.appendFileSync(file, '{oops}\n');
  w.appendEvent({ type: 'log', level: 'info', message: 'after' });
  const bad = tailEvents(file, done.nextOffset);
  assert.deepEqual(
    bad.badLines.map((b) => b.offset),
    [badAt],
  );
  assert.deepEqual(
    bad.events.map((e) => e.type),
    ['log'],
  );

  // maxBytes splits reading into several calls without losing or duplicating events.
  const all: RunEvent[] = [];
  let off = 0;
  for (let calls = 0; calls < 100; calls++) {
    const r = tailEvents(file, off, { maxBytes: 64 });
    all.push(...r.events);
    off = r.nextOffset;
    if (!r.hasMore) break;
  }
  assert.deepEqual(all, readEvents(file).events);

  // A file shorter than the offset (replaced) is re-read from 0.
  const replaced = path.join(root, 'replaced.jsonl');
  fs.writeFileSync(replaced, '{"v":1,"type":"log","time":"t","level":"info","message":"new"}\n');
  const r = tailEvents(replaced, 10_000);
  assert.equal(r.reset, true);
  assert.equal(r.events.length, 1);
  assert.deepEqual(tailEvents(path.join(root, 'missing.jsonl'), 0), { events: [], nextOffset: 0, badLines: [], reset: false, hasMore: false });
});

test('meta.json always parses while another process rewrites it in a loop', async () => {
  const root = tmpRoot('atomic');
  const file = path.join(root, 'meta.json');
  const stop = path.join(root, 'stop');
  fs.writeFileSync(file, JSON.stringify({ seq: -1, padLen: 0, pad: '' }));
  const code = `
    const { writeJsonAtomicSync } = require(${JSON.stringify(path.join(RUNS_MODULE, 'atomicWrite'))});
    const fs = require('fs');
    const file = ${JSON.stringify(file)}, stop = ${JSON.stringify(stop)};
    const t0 = Date.now();
    console.log('ready');
    for (let seq = 0; !fs.existsSync(stop) && Date.now() - t0 < 300000; seq++) {
      const padLen = 20000 + (seq % 13) * 7919;
      writeJsonAtomicSync(file, { seq, padLen, pad: String(seq % 10).repeat(padLen) });
    }`;
  const { firstLine, exited } = spawnTsx(code);
  assert.equal(await firstLine, 'ready');
  const seqs = new Set<number>();
  let reads = 0;
  let writerExited = false;
  void exited.then(() => (writerExited = true));
  try {
    // Read until 20 versions were seen, however slowly the writer goes (the writer runs until told to stop).
    while (seqs.size < 20) {
      assert.ok(!writerExited, 'the writer ended before it was told to stop');
      await new Promise((r) => setImmediate(r));
      const text = fs.readFileSync(file, 'utf8');
      const m = JSON.parse(text) as { seq: number; padLen: number; pad: string };
      reads++;
      if (m.seq >= 0) {
        assert.equal(m.pad.length, m.padLen);
        assert.equal(m.pad, String(m.seq % 10).repeat(m.padLen));
      }
      seqs.add(m.seq);
    }
  } finally {
    fs.writeFileSync(stop, '');
  }
  assert.equal(await exited, 0);
  assert.ok(seqs.size >= 20, `saw ${seqs.size} versions in ${reads} reads`);
  assert.deepEqual(
    fs.readdirSync(root).filter((n) => n.endsWith('.tmp')),
    [],
    'no temp files left',
  );
});

test('a SIGKILLed writer is read as crashed, with all its logged events intact', async () => {
  const root = tmpRoot('crash');
  const code = `
    const { RunWriter } = require(${JSON.stringify(RUNS_MODULE)});
    (async () => {
      const w = await RunWriter.create(${JSON.stringify(root)}, 'crashy', { steps: 10 }, { backend: 'cpu', totalSteps: 10 });
      for (let step = 1; step <= 3; step++) {
        w.appendEvent({ type: 'step', step, epoch: 0, loss: 1 / step, lossQ: 1 / step, lossSym: 0, lr: 0.01, gradNorm: 1,
          stepMs: 5, examplesPerSec: 100, diagnostics: ${JSON.stringify(diagnostics())}, verdict: { state: 'healthy', reason: 'ok' } });
      }
      w.appendEvent({ type: 'log', level: 'info', message: 'about to hang' });
      w.updateMeta({ step: 3 });
      console.log(w.dir);
      setInterval(() => {}, 1000);
    })();`;
  const { child, firstLine, exited } = spawnTsx(code);
  const dir = await firstLine;
  const alive = readRun(dir);
  assert.equal(alive.status, 'running');
  assert.equal(alive.meta?.pid, child.pid);
  child.kill('SIGKILL');
  await exited;

  const dead = readRun(dir);
  assert.equal(dead.status, 'crashed');
  assert.match(dead.statusReason, /no longer exists/);
  assert.equal(dead.meta?.status, 'running', 'meta.json itself still says running');
  assert.equal(dead.step, 3);
  assert.equal(dead.lastStep?.step, 3);
  const r = readEvents(path.join(dir, 'events.jsonl'));
  assert.equal(r.tornTail, false);
  assert.deepEqual(r.badLines, []);
  assert.deepEqual(
    r.events.map((e) => e.type),
    ['start', 'step', 'step', 'step', 'log'],
  );
  assert.deepEqual(
    r.events.filter((e) => e.type === 'step').map((e) => (e as StepEvent).loss),
    [1, 0.5, 1 / 3],
  );
  assert.deepEqual(
    listRuns(root).map((s) => s.status),
    ['crashed'],
  );
});

test('a writer killed where nothing reaps it (a zombie) is read as crashed, not running', async () => {
  const root = tmpRoot('zombie');
  const code = `
    const { RunWriter } = require(${JSON.stringify(RUNS_MODULE)});
    (async () => {
      const w = await RunWriter.create(${JSON.stringify(root)}, 'zombie', { steps: 10 }, { backend: 'cpu', totalSteps: 10 });
      console.log(w.dir);
      setInterval(() => {}, 1000);
    })();`;
  // sh starts the writer in the background and becomes \`sleep\`, which never waits for its children: the killed
  // writer stays a zombie (as a trainer does whose launcher died too, where PID 1 reaps no orphans).
  const parent = spawn('sh', ['-c', '"$0" --import tsx -e "$1" & exec sleep 120', process.execPath, code], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  after(() => void parent.kill('SIGKILL'));
  const dir = await new Promise<string>((resolve, reject) => {
    let out = '';
    parent.stdout!.on('data', (d) => {
      out += d;
      if (out.includes('\n')) resolve(out.slice(0, out.indexOf('\n')));
    });
    parent.on('exit', (c) => reject(new Error(`sh exited (${c}) before the writer printed its run folder`)));
  });
  const pid = readRun(dir).meta!.pid!;
  assert.equal(readRun(dir).status, 'running');
  process.kill(pid, 'SIGKILL');
  const state = () => fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ')[0];
  for (let i = 0; i < 100 && state() !== 'Z'; i++) await new Promise((r) => setTimeout(r, 100));
  assert.equal(state(), 'Z', 'the writer is a zombie: it still answers kill(pid, 0)');
  const dead = readRun(dir);
  assert.equal(dead.status, 'crashed');
  assert.match(dead.statusReason, /no longer exists/);
});

test('stale heartbeat from another host (or unknown pid) → crashed; bound is configurable', async () => {
  const root = tmpRoot('stale');
  const t0 = Date.UTC(2025, 2, 3, 4, 5, 6);
  const w = await RunWriter.create(root, 'remote', {}, { host: 'gpu-node-17.cluster.example', pid: 4242 }, { now: () => new Date(t0) });
  const at = (ms: number) => new Date(t0 + ms);
  assert.equal(readRun(w.dir, { now: at(30_000) }).status, 'running');
  assert.equal(readRun(w.dir, { now: at(60_000) }).status, 'running');
  const stale = readRun(w.dir, { now: at(60_001) });
  assert.equal(stale.status, 'crashed');
  assert.equal(stale.heartbeatAgeMs, 60_001);
  assert.match(stale.statusReason, /gpu-node-17/);
  assert.equal(readRun(w.dir, { now: at(30_000), staleMs: 10_000 }).status, 'crashed');

  // Same host but no pid: the heartbeat decides.
  w.updateMeta({ host: os.hostname(), pid: null, heartbeatAt: at(0).toISOString() });
  assert.equal(readRun(w.dir, { now: at(59_000) }).status, 'running');
  assert.equal(readRun(w.dir, { now: at(61_000) }).status, 'crashed');

  // Writer died between appending the end event and rewriting meta.json: the end event wins.
  fs.appendFileSync(w.eventsFile, JSON.stringify({ v: 1, type: 'end', time: at(1).toISOString(), status: 'completed', step: 0 }) + '\n');
  const ended = readRun(w.dir, { now: at(61_000) });
  assert.equal(ended.status, 'completed');
  assert.equal(ended.meta?.status, 'running');
});

test('writeDirAtomically: success swaps, a throwing writeInto leaves the previous checkpoint intact', async () => {
  const root = tmpRoot('ckpt');
  const final = path.join(root, 'checkpoints', 'last');
  const snapshot = (dir: string) =>
    Object.fromEntries(
      fs
        .readdirSync(dir)
        .sort()
        .map((n) => [n, fs.readFileSync(path.join(dir, n), 'utf8')]),
    );

  await writeDirAtomically(final, async (tmp) => {
    assert.notEqual(tmp, final);
    assert.deepEqual(fs.readdirSync(tmp), [], 'starts empty');
    fs.writeFileSync(path.join(tmp, 'model.json'), '{"step":1}');
    fs.writeFileSync(path.join(tmp, 'weights.bin'), 'AAAA');
    fs.writeFileSync(path.join(tmp, 'extra.txt'), 'only in v1');
  });
  assert.deepEqual(snapshot(final), { 'extra.txt': 'only in v1', 'model.json': '{"step":1}', 'weights.bin': 'AAAA' });

  await assert.rejects(
    writeDirAtomically(final, async (tmp) => {
      fs.writeFileSync(path.join(tmp, 'model.json'), '{"step":2}');
      fs.writeFileSync(path.join(tmp, 'weights.bin'), 'BB'); // half written
      throw new Error('disk full (simulated)');
    }),
    /disk full/,
  );
  assert.deepEqual(snapshot(final), { 'extra.txt': 'only in v1', 'model.json': '{"step":1}', 'weights.bin': 'AAAA' });
  assert.deepEqual(fs.readdirSync(path.dirname(final)), ['last'], 'temp folder removed');

  await writeDirAtomically(final, async (tmp) => {
    fs.writeFileSync(path.join(tmp, 'model.json'), '{"step":3}');
    fs.writeFileSync(path.join(tmp, 'weights.bin'), 'CCCC');
  });
  assert.deepEqual(snapshot(final), { 'model.json': '{"step":3}', 'weights.bin': 'CCCC' });
  assert.deepEqual(fs.readdirSync(path.dirname(final)), ['last']);
});

test('writeDirAtomically: a writer SIGKILLed mid-write leaves the old checkpoint; recovery cleans up', async () => {
  const root = tmpRoot('ckptkill');
  const final = path.join(root, 'best');
  await writeDirAtomically(final, async (tmp) => fs.writeFileSync(path.join(tmp, 'model.json'), 'old'));
  const code = `
    const { writeDirAtomically } = require(${JSON.stringify(RUNS_MODULE)});
    const fs = require('fs'), path = require('path');
    writeDirAtomically(${JSON.stringify(final)}, async (tmp) => {
      fs.writeFileSync(path.join(tmp, 'model.json'), 'new-partial');
      console.log(tmp);
      await new Promise(() => {}); // hang until killed
    });`;
  const { child, firstLine, exited } = spawnTsx(code);
  const tmp = await firstLine;
  child.kill('SIGKILL');
  await exited;
  assert.equal(fs.readFileSync(path.join(final, 'model.json'), 'utf8'), 'old');
  assert.ok(fs.existsSync(tmp), 'the killed writer left its temp folder');
  assert.deepEqual(recoverDirAtomically(final), [{ action: 'removed-tmp', path: tmp }]);
  assert.deepEqual(fs.readdirSync(root), ['best']);

  // Crash between "rename final → .old" and "rename tmp → final": recovery restores .old.
  fs.renameSync(final, final + '.old');
  fs.mkdirSync(final + '.tmp-1-abc');
  fs.writeFileSync(path.join(final + '.tmp-1-abc', 'model.json'), 'newer');
  const actions = recoverDirAtomically(final);
  assert.deepEqual(actions.map((a) => a.action).sort(), ['removed-tmp', 'restored-old']);
  assert.equal(fs.readFileSync(path.join(final, 'model.json'), 'utf8'), 'old');
  assert.deepEqual(fs.readdirSync(root), ['best']);

  // Crash before removing .old: the new folder is complete, .old is dropped.
  fs.mkdirSync(final + '.old');
  assert.deepEqual(recoverDirAtomically(final), [{ action: 'removed-old', path: final + '.old' }]);
  assert.equal(fs.readFileSync(path.join(final, 'model.json'), 'utf8'), 'old');
  assert.deepEqual(fs.readdirSync(root), ['best']);
});

test('listRuns: newest first, junk tolerated, damaged meta listed as unknown', async () => {
  const root = tmpRoot('list');
  const mk = async (name: string, iso: string) => {
    const w = await RunWriter.create(root, name, {}, {}, { now: () => new Date(iso) });
    w.finish('completed');
    return path.basename(w.dir);
  };
  const older = await mk('alpha', '2025-01-01T10:00:00.000Z');
  const newest = await mk('beta', '2025-03-01T10:00:00.000Z');
  const mid = await mk('gamma', '2025-02-01T10:00:00.000Z');
  const twinA = await mk('twin', '2025-02-15T10:00:00.000Z');
  const twinB = await mk('twin', '2025-02-15T10:00:00.000Z');
  assert.equal(twinB, twinA + '-2');

  fs.writeFileSync(path.join(root, 'notes.txt'), 'not a run');
  fs.mkdirSync(path.join(root, 'empty-folder'));
  fs.mkdirSync(path.join(root, '.hidden'));
  fs.writeFileSync(path.join(root, '.hidden', 'meta.json'), '{}');
  const damaged = path.join(root, '20250210-000000-damaged');
  fs.mkdirSync(damaged);
  fs.writeFileSync(path.join(damaged, 'meta.json'), '{"formatVersion":1,"name":');
  const future = path.join(root, 'future-run');
  fs.mkdirSync(future);
  fs.writeFileSync(path.join(future, 'meta.json'), JSON.stringify({ formatVersion: 2, everything: 'different' }));

  const runs = listRuns(root);
  assert.deepEqual(
    runs.map((r) => r.id),
    [newest, twinB, twinA, '20250210-000000-damaged', mid, older, 'future-run'],
  );
  const bad = runs.find((r) => r.id === '20250210-000000-damaged')!;
  assert.equal(bad.status, 'unknown');
  assert.equal(bad.meta, null);
  assert.match(bad.problems[0], /not valid JSON/);
  assert.equal(bad.startedAt, '2025-02-10T00:00:00.000Z', 'start time from the folder name');
  const fut = runs.find((r) => r.id === 'future-run')!;
  assert.equal(fut.status, 'unknown');
  assert.match(fut.statusReason, /formatVersion 2 is newer/);
  assert.ok(runs.filter((r) => r.meta).every((r) => r.status === 'completed'));
  assert.deepEqual(listRuns(path.join(root, 'does-not-exist')), []);
});

/** Key paths of a JSON value (arrays as one element, "[]"). */
function keyPaths(v: unknown, prefix = ''): string[] {
  if (Array.isArray(v)) return v.length ? keyPaths(v[0], prefix + '[]') : [prefix + '[]'];
  if (typeof v === 'object' && v !== null) return Object.entries(v).flatMap(([k, x]) => [prefix + '.' + k, ...keyPaths(x, prefix + '.' + k)]);
  return [];
}

test('docs/run-format.md examples parse as events and match the TypeScript shapes', () => {
  const doc = fs.readFileSync(path.join(REPO_ROOT, 'docs', 'run-format.md'), 'utf8');
  const lines = doc.split('\n').filter((l) => l.startsWith('{"v":'));
  const events = lines.map((l) => {
    const p = parseEventLine(l);
    assert.equal(p.kind, 'event', `${l.slice(0, 60)}… → ${JSON.stringify(p)}`);
    return (p as { event: RunEvent }).event;
  });
  assert.deepEqual([...new Set(events.map((e) => e.type))].sort(), ['checkpoint', 'end', 'eval', 'log', 'scalars', 'start', 'step']);

  const step = events.find((e) => e.type === 'step') as StepEvent;
  // Same key structure as a StepEvent built with the compiler-checked types (a margin loss: delta set, tau null).
  const reference = { ...(stepInput(1, 1) as Record<string, unknown>), v: 1, time: '' };
  assert.deepEqual(keyPaths(step).sort(), keyPaths(reference).sort());
  assert.equal(step.diagnostics.dist.sQV.hist.counts.length, 32);

  const metaBlock = /<!-- meta-example -->\s*```json\n([\s\S]*?)```/.exec(doc);
  assert.ok(metaBlock, 'doc has a meta.json example marked <!-- meta-example -->');
  assert.deepEqual(metaProblems(JSON.parse(metaBlock[1])), []);
});

test('a v1 step event is read with R recomputed as (1 − mean s(v,v⁻)) / (1 − mean s(q,v)); the stored value is kept as ratioV1', () => {
  const doc = fs.readFileSync(path.join(REPO_ROOT, 'docs', 'run-format.md'), 'utf8');
  const v2 = doc.split('\n').find((l) => l.startsWith('{"v":2,"type":"step"'))!;
  const v1 = JSON.parse(v2);
  v1.v = 1;
  v1.diagnostics.collapse.ratio = 4.6107; // v1: 0.6349 / 0.1377
  const p = parseEventLine(JSON.stringify(v1));
  assert.equal(p.kind, 'event');
  const c = (p as { event: StepEvent }).event.diagnostics.collapse as StepEvent['diagnostics']['collapse'] & { ratioV1?: number };
  assert.ok(Math.abs(c.ratio! - (1 - 0.1377) / (1 - 0.6349)) < 1e-12, `R ${c.ratio}`);
  assert.equal(c.ratioV1, 4.6107);
  assert.equal(c.ratioNote, null);
  // A v2 event is read as written.
  const same = parseEventLine(v2) as { event: StepEvent };
  assert.equal(same.event.diagnostics.collapse.ratio, 2.3618);
  assert.equal('ratioV1' in same.event.diagnostics.collapse, false);
});
