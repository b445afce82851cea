/**
 * The defects of issue 10 ("Nothing lost, nothing silent"), one test each, with real parts: real
 * run folders, real tfjs training, real faiss evaluation, real trainer processes, a real full disk.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { initBackend, type BackendInfo } from '../../src/core/backend';
import { loadConfig } from '../../src/core/config';
import { ConfigError } from '../../src/core/config/configError';
import { editorSchema } from '../../src/core/config/editorSchema';
import { EXPERIMENT_SCHEMA, parseConfigText } from '../../src/core/config/loadConfig';
import { shownByJsonService } from '../../src/extension/configEditor/jsonServiceOverlap';
import { isStillRunning, watchDetachedRun } from '../../src/extension/training/detachedRun';
import { evaluateRun } from '../../src/core/eval';
import { loadExamples } from '../../src/core/data/load';
import { readEvents, readRun, RunWriter, type StepEvent } from '../../src/core/runs';
import { EXTRACT } from '../../src/webview/dashboard/data/seriesCatalog';
import { progressFields } from '../../src/cli/trainCommand';
import { runTraining } from '../../src/core/training/trainLoop';
import { startTrainer } from '../../src/trainer/client';
import type { FromTrainer } from '../../src/trainer/protocol';
import { smallExperiment, SHOP_CORPUS, SHOP_TEST } from '../helpers/smallExperiment';
import { tmpfs } from '../helpers/tmpfs';

let backend: BackendInfo;
before(async () => {
  backend = await initBackend('wasm');
});

const REPO = path.resolve(__dirname, '../..');
const tmp = (prefix: string) => fs.mkdtempSync(path.join(os.tmpdir(), `rlens-${prefix}-`));
const eventsOf = (runDir: string) => readEvents(path.join(runDir, 'events.jsonl'));

/** A trained run (real training, Flat index so evaluation is quick) in its own folder. */
async function trainedRun(): Promise<string> {
  const exp = smallExperiment({
    data: { test: SHOP_TEST, corpus: SHOP_CORPUS },
    training: { steps: 20, logEvery: 10, checkpointEvery: 10 },
    evaluation: { index: { type: 'Flat' } },
  });
  const r = await runTraining({ loaded: loadConfig(exp.config), backend });
  assert.equal(r.status, 'completed');
  return r.runDir;
}

/** Runs a real trainer process to its end; returns its messages and 'done'. */
async function trainProcess(config: string, runsRoot: string, overrides: string[] = [], steps?: number) {
  const messages: FromTrainer[] = [];
  const handle = startTrainer({ configPath: config, overrides, runsRoot, steps }, (m) => messages.push(m));
  const done = await handle.done;
  return { messages, done };
}

test('#1 an appender after a torn last line starts on a fresh line: eval on a torn events.jsonl loses nothing', async () => {
  const runDir = await trainedRun();
  const file = path.join(runDir, 'events.jsonl');
  const before = eventsOf(runDir);
  const size = fs.statSync(file).size;
  fs.truncateSync(file, size - 40); // the end event loses its tail and its "\n"
  const linesBefore = fs.readFileSync(file, 'utf8').split('\n').length;
  assert.equal(eventsOf(runDir).tornTail, true);
  await evaluateRun({ runDir });
  const after = eventsOf(runDir);
  assert.equal(after.tornTail, false);
  assert.deepEqual(
    after.badLines.map((b) => b.line),
    [linesBefore],
    'the torn line is kept as one reported bad line, with its number',
  );
  assert.deepEqual(after.events.slice(0, before.events.length - 1), before.events.slice(0, -1), 'every complete event is intact');
  assert.equal(after.events.at(-1)?.type, 'eval', 'the eval event is readable');
  const summary = readRun(runDir, { checkLines: true });
  assert.ok(
    summary.problems.some((p) => p.includes(`events.jsonl:${linesBefore}:`)),
    summary.problems.join('\n'),
  );
});

test('#7 disk full while appending events: the file is named, the run is marked failed and stays readable', { timeout: 300_000 }, async (t) => {
  const mnt = tmpfs(t, '64k');
  if (!mnt) return;
  const exp = smallExperiment({ training: { steps: 5000, logEvery: 1, checkpointEvery: 100000 } });
  const { messages, done } = await trainProcess(exp.config, mnt);
  assert.ok(done, 'the trainer reported an end');
  assert.equal(done.status, 'failed');
  assert.ok(done.runDir);
  assert.match(done.error!.message, /ENOSPC/);
  assert.ok(done.error!.message.includes(done.runDir), `names a file of the run: ${done.error!.message}`);
  const errors = messages.filter((m) => m.type === 'error' || (m.type === 'log' && m.level === 'error'));
  assert.ok(errors.length <= 2);
  const summary = readRun(done.runDir);
  assert.equal(summary.status, 'failed', 'meta.json was still written: the space reserve was released first');
  assert.match(summary.meta!.error!.message, /ENOSPC/);
  const { events, badLines } = eventsOf(done.runDir);
  // The step being appended when the disk filled may be cut short; the next append (the end event,
  // after the reserve was freed) starts on a fresh line, so it is one reported bad line, nothing more.
  assert.ok(badLines.length <= 1 && badLines.every((b) => /invalid JSON/.test(b.reason)), JSON.stringify(badLines));
  const steps = events.filter((e) => e.type === 'step').map((e) => (e as { step: number }).step);
  assert.ok(steps.length >= 1);
  assert.deepEqual(
    steps,
    steps.map((_, i) => i + 1),
    'every step written before the disk filled is intact',
  );
});

test('#3 an output folder that cannot be created fails at once, naming it (no mkdir -p loop under /proc)', { timeout: 60_000 }, async () => {
  const root = '/proc/rl-runs-test/deeper';
  // In a child process with a time limit: a recursive mkdir that loops blocks its thread for good.
  const child = spawnSync(
    process.execPath,
    ['--import', 'tsx', '-e', `require(${JSON.stringify(path.join(REPO, 'src/core/runs/runDir.ts'))}).createRunDir(${JSON.stringify(root)}, 'x')`],
    { encoding: 'utf8', timeout: 30_000 },
  );
  assert.notEqual(child.signal, 'SIGTERM', 'createRunDir did not return within 30 s');
  assert.equal(child.status, 1);
  assert.ok(child.stderr.includes(`cannot create runs folder ${root}: ENOENT`), child.stderr);
  const notDir = path.join(tmp('notdir'), 'file');
  fs.writeFileSync(notDir, 'x');
  await assert.rejects(
    RunWriter.create(path.join(notDir, 'runs'), 'x', {}),
    (e: Error) => e.message.includes(path.join(notDir, 'runs')) && e.message.includes(`${notDir} is not a folder`),
  );
  const exp = smallExperiment();
  const { done } = await trainProcess(exp.config, root);
  assert.equal(done?.status, 'failed');
  assert.ok(done?.error?.message.includes(root), done?.error?.message);
});

/** A BEIR folder: `corpus` items, 300 queries, 300 qrels rows of which `unknown` name unknown corpus ids. */
function beirFolder(corpus: number, unknown: number): string {
  const dir = tmp('beir');
  fs.mkdirSync(path.join(dir, 'qrels'));
  fs.writeFileSync(
    path.join(dir, 'corpus.jsonl'),
    Array.from({ length: corpus }, (_, i) => JSON.stringify({ _id: `d${i}`, title: '', text: `item number ${i} of the corpus` })).join('\n') + '\n',
  );
  fs.writeFileSync(
    path.join(dir, 'queries.jsonl'),
    Array.from({ length: 300 }, (_, i) => JSON.stringify({ _id: `q${i}`, text: `query ${i}` })).join('\n') + '\n',
  );
  const rows = Array.from({ length: 300 }, (_, i) => `q${i}\t${i < unknown ? `missing${i}` : `d${i}`}\t1`);
  fs.writeFileSync(path.join(dir, 'qrels', 'train.tsv'), `query-id\tcorpus-id\tscore\n${rows.join('\n')}\n`);
  return dir;
}

test('#2 BEIR: the bad share is counted per role (qrels rows that yield no pair), and lost pairs are reported', async () => {
  await assert.rejects(loadExamples({ path: beirFolder(6120, 250), split: 'train' }), (e: Error) => {
    assert.match(e.message, /250 of 300 qrels rows \(83\.3%\) in .*qrels\/train\.tsv yield no pair/);
    assert.match(e.message, /unknown corpus-id "missing0"/);
    return true;
  });
  const ok = await loadExamples({ path: beirFolder(6120, 10), split: 'train' });
  assert.equal(ok.report.examples, 290);
  assert.equal(ok.report.pairsLost, 10);
});

test('#4 eval uses checkpoints/last.old when last is missing (crash mid-swap)', async () => {
  const runDir = await trainedRun();
  const ck = path.join(runDir, 'checkpoints');
  fs.renameSync(path.join(ck, 'last'), path.join(ck, 'last.old'));
  const logs: string[] = [];
  const r = await evaluateRun({ runDir, checkpoint: 'last', log: (m) => logs.push(m) });
  assert.equal(r.entry.step, 20);
  assert.ok(
    logs.some((l) => l.includes('last.old')),
    logs.join('\n'),
  );
  assert.ok(fs.existsSync(path.join(ck, 'last.old', 'model.json')), 'the reader moved nothing');
});

test('#6 no negative in any batch: a warning on the first step, and the run fails after the first epoch', async () => {
  const dir = tmp('noneg');
  const train = path.join(dir, 'same.jsonl');
  fs.writeFileSync(train, Array.from({ length: 200 }, () => JSON.stringify({ query: 'red shoes', positive: 'Red Shoes', item_id: 'p1' })).join('\n') + '\n');
  const exp = smallExperiment({ data: { train }, training: { steps: 40, logEvery: 1 } });
  const logs: string[] = [];
  const r = await runTraining({ loaded: loadConfig(exp.config), backend, hooks: { onLog: (l, m) => logs.push(`${l}: ${m}`) } });
  assert.equal(r.status, 'failed');
  assert.match(r.error!.message, /no negatives in the whole first epoch \(steps 1–7\)/);
  assert.ok(
    logs.some((l) => /^warn: step 1 has no negative/.test(l)),
    logs.join('\n'),
  );
  assert.equal(readRun(r.runDir).status, 'failed');
  const steps = eventsOf(r.runDir).events.filter((e): e is StepEvent => e.type === 'step');
  assert.equal(steps.length, 7, 'the steps of the first epoch are kept');
  // The empty τ and s(v,v⁻) distributions show as "no values", not as zeros.
  assert.equal(steps[0].diagnostics.dist.tau?.count, 0);
  assert.ok(Number.isNaN(EXTRACT['hyper.p50'](steps[0])) && Number.isNaN(EXTRACT['sim.vneg'](steps[0])), 'dashboard: a gap');
  assert.equal(progressFields(steps[0]).tau, '–', 'CLI bar: no value');
});

test('#8 a missing data.test is reported before any run folder or step', async () => {
  const exp = smallExperiment({ data: { test: 'nope/test.jsonl' } });
  await assert.rejects(runTraining({ loaded: loadConfig(exp.config), backend }), /data file not found: .*nope\/test\.jsonl \(data\.test\)/);
  assert.equal(fs.existsSync(exp.runs), false);
  const exp2 = smallExperiment({ data: { corpus: 'nope/corpus.jsonl' } });
  await assert.rejects(runTraining({ loaded: loadConfig(exp2.config), backend }), /data file not found: .*nope\/corpus\.jsonl \(data\.corpus\)/);
});

test('#13 the NaN message says "last checkpoint kept" only when one exists', async () => {
  const exp = smallExperiment();
  const r = await runTraining({ loaded: loadConfig(exp.config, ['loss.adaptive=false', 'loss.temperature=1e-40']), backend });
  assert.equal(r.status, 'failed');
  assert.doesNotMatch(r.error!.message, /checkpoint kept/);
  assert.match(r.error!.message, /no checkpoint was written yet/);
  assert.equal(fs.existsSync(path.join(r.runDir, 'checkpoints', 'last')), false);
});

/** Runs the CLI from source (its trainer too); returns exit code and output. */
function cli(args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(REPO, 'src/cli.ts'), ...args], { encoding: 'utf8', cwd: REPO });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

test('#5 a config starting with a UTF-8 BOM is accepted, and its problems keep their columns', () => {
  const exp = smallExperiment();
  const text = fs.readFileSync(exp.config, 'utf8');
  fs.writeFileSync(exp.config, '\ufeff' + text);
  assert.equal(loadConfig(exp.config).config.name, 'small');
  fs.writeFileSync(exp.config, '\ufeff{"data": {"train": "x.jsonl"}, "nme": 1}');
  assert.throws(
    () => loadConfig(exp.config),
    (e: ConfigError) => e.problems[0].line === 1 && e.problems[0].column === 32 && /unknown property "nme"/.test(e.problems[0].message),
  );
});

test('#9 --set with __proto__ / constructor / prototype is rejected and pollutes nothing', () => {
  const exp = smallExperiment();
  for (const set of ['__proto__.polluted=1', 'constructor.prototype.polluted=1', 'loss.__proto__.polluted=1', 'training.prototype=2']) {
    assert.throws(
      () => loadConfig(exp.config, [set]),
      (e: Error) => e instanceof ConfigError && e.message.includes(set) && /is not allowed in a key/.test(e.message),
      set,
    );
    assert.equal(({} as Record<string, unknown>).polluted, undefined, `${set} polluted Object.prototype`);
  }
  fs.writeFileSync(exp.config, '{"data": {"train": "x.jsonl"},\n  "__proto__": {"polluted": 1}}');
  assert.throws(
    () => loadConfig(exp.config),
    (e: ConfigError) =>
      e.problems.length === 1 && e.problems[0].line === 2 && e.problems[0].column === 3 && /"__proto__" is not allowed/.test(e.problems[0].message),
  );
});

test('#10 #11 runs reports malformed middle lines with their numbers; a missing --dir is an error', async () => {
  const root = tmp('runs');
  const w = await RunWriter.create(root, 'mid', {});
  w.appendEvent({ type: 'log', level: 'info', message: 'one' });
  w.finish('completed');
  const file = path.join(w.dir, 'events.jsonl');
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  lines.splice(1, 0, '{"v":1,"type":"step","time":"2025"', 'not json at all');
  fs.writeFileSync(file, lines.join('\n'));
  const r = cli(['runs', '--dir', root]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /events\.jsonl:2: invalid JSON/);
  assert.match(r.out, /events\.jsonl:3: invalid JSON/);
  const missing = cli(['runs', '--dir', path.join(root, 'typo')]);
  assert.equal(missing.code, 2);
  assert.match(missing.err, /runs folder not found: .*typo/);
  assert.doesNotMatch(missing.out, /no runs in/);
});

test('#12 invalid UTF-8 is a located config error, a bad data line and a bad events line; duplicate keys are warnings with both places', async () => {
  const exp = smallExperiment();
  fs.writeFileSync(
    exp.config,
    Buffer.concat([Buffer.from('{\n  "name": "bad'), Buffer.from([0xff, 0xfe]), Buffer.from('utf8",\n  "data": {"train": "x.jsonl"}\n}\n')]),
  );
  assert.throws(
    () => loadConfig(exp.config),
    (e: ConfigError) => e.problems[0].line === 2 && e.problems[0].column === 15 && /invalid UTF-8 byte 0xff/.test(e.message),
  );

  const data = path.join(tmp('utf8'), 'train.jsonl');
  const good = (i: number) => Buffer.from(JSON.stringify({ query: `q${i}`, positive: `item ${i}` }) + '\n');
  fs.writeFileSync(data, Buffer.concat([good(1), good(2), Buffer.from('{"query": "caf'), Buffer.from([0xe9]), Buffer.from('", "positive": "x"}\n'), good(4)]));
  const loaded = await loadExamples({ path: data, maxBadLineShare: 0.5 });
  assert.equal(loaded.report.examples, 3);
  assert.deepEqual(
    loaded.report.badLines.map((b) => [b.line, /invalid UTF-8 byte 0xe9/.test(b.reason)]),
    [[3, true]],
  );

  const w = await RunWriter.create(tmp('ev'), 'x', {});
  fs.appendFileSync(
    w.eventsFile,
    Buffer.concat([Buffer.from('{"v":1,"type":"log","time":"t","level":"info","message":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}\n')]),
  );
  w.appendEvent({ type: 'log', level: 'info', message: 'after' });
  const ev = eventsOf(w.dir);
  assert.deepEqual(
    ev.badLines.map((b) => b.line),
    [2],
  );
  assert.equal(ev.events.length, 2);

  fs.writeFileSync(exp.config, '{\n  "data": {"train": "x.jsonl"},\n  "loss": {"alpha": 0.3,\n    "alpha": 0.7}\n}\n');
  const dup = loadConfig(exp.config);
  assert.equal(dup.config.loss.alpha, 0.7);
  assert.deepEqual(
    dup.warnings?.map((p) => [p.path, p.line, p.column, p.message]),
    [['loss.alpha', 4, 5, 'duplicate key "alpha" at 3:12 and 4:5; the last one is used']],
  );
});

test('#13 the CLI prints each trainer error once', () => {
  const exp = smallExperiment({ data: { train: 'nope/missing.jsonl' } });
  const r = cli(['train', exp.config]);
  assert.equal(r.code, 1);
  const all = r.out + r.err;
  assert.equal(all.split('not found: ').length - 1, 1, all);
});

test('#13 config errors are listed once in Problems: the JSON service gets a schema without validation keywords', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8'));
  const url = pkg.contributes.jsonValidation.find((j: { fileMatch: string }) => j.fileMatch === '*.rlens.json').url;
  const served = JSON.parse(fs.readFileSync(path.join(REPO, url), 'utf8'));
  assert.deepEqual(served, JSON.parse(JSON.stringify(editorSchema(EXPERIMENT_SCHEMA))), 'the served schema is up to date (npm run schema:editor)');
  const keywords = new Set<string>();
  const walk = (node: Record<string, unknown>) => {
    for (const [k, v] of Object.entries(node)) {
      if (k === 'properties') Object.values(v as Record<string, Record<string, unknown>>).forEach(walk);
      else keywords.add(k);
    }
  };
  walk(served);
  for (const k of ['type', 'enum', 'minimum', 'maximum', 'exclusiveMinimum', 'minLength', 'maxLength', 'required', 'additionalProperties'])
    assert.ok(!keywords.has(k), k);
  assert.deepEqual(served.properties.loss.properties.type.examples, ['margin', 'softmax'], 'enum values are still proposed');
  // Our own diagnostics leave syntax errors to the JSON service and keep every schema problem.
  const problems = (text: string) => {
    try {
      parseConfigText(text, 'x.rlens.json');
      return [];
    } catch (e) {
      return (e as ConfigError).problems;
    }
  };
  assert.ok(problems('{"data": {"train": 1},}}').every(shownByJsonService));
  assert.ok(!problems('{"data": {"train": 1}}').some(shownByJsonService));
});

test('#15 the extension activates when a config is opened (onLanguage of the language *.rlens.json files get)', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8'));
  const lang = pkg.contributes.languages.find((l: { filenamePatterns?: string[] }) => l.filenamePatterns?.includes('*.rlens.json'));
  assert.ok(lang, '*.rlens.json has a language');
  assert.ok(pkg.activationEvents.includes(`onLanguage:${lang.id}`), pkg.activationEvents.join(', '));
  assert.ok(pkg.activationEvents.includes('workspaceContains:**/*.rlens.json'));
});

/** Polls `read` until `ok` holds (state, not time: the limit only turns a hang into a failure). */
async function waitUntil<T>(what: string, read: () => T, ok: (v: T) => boolean, limitMs = 120_000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = read();
    if (ok(v)) return v;
    if (Date.now() - t0 > limitMs) assert.fail(`timed out waiting for ${what}: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

test(
  '#14 a training run outlives the process that started it (window reload) and is re-attached: followed and stopped by its pid',
  { timeout: 300_000 },
  async () => {
    const exp = smallExperiment({ training: { steps: 100000, logEvery: 1, checkpointEvery: 100000 } });
    // The "extension host": starts the trainer as the extension does, reports run and pid, then dies abruptly.
    const host = `
    const { startTrainer } = require(${JSON.stringify(path.join(REPO, 'src/trainer/client.ts'))});
    const h = startTrainer({ configPath: ${JSON.stringify(exp.config)}, overrides: [], outliveParent: true }, () => undefined, { detached: true });
    let runDir = null;
    h.child.on('message', (m) => { if (m.type === 'started') runDir = m.runDir; if (m.type === 'step' && m.event.step >= 3 && runDir) { console.log(JSON.stringify({ pid: h.child.pid, runDir })); process.exit(0); } });`;
    const out = spawnSync(process.execPath, ['--import', 'tsx', '-e', host], { encoding: 'utf8', timeout: 120_000 });
    const line = out.stdout.split('\n').find((l) => l.includes('"runDir":"'));
    assert.ok(line, out.stdout + out.stderr);
    const { pid, runDir } = JSON.parse(line) as { pid: number; runDir: string };
    const rec = { configPath: exp.config, runDir, pid, host: os.hostname() };
    const stepNow = () => readRun(runDir).step;
    const atDeath = stepNow();
    // Still training after its parent is gone: steps keep coming and the run is not ended.
    await waitUntil(
      'steps after the parent died',
      () => ({ step: stepNow(), status: readRun(runDir).status }),
      (r) => r.status !== 'running' || r.step >= atDeath + 20,
    );
    assert.equal(readRun(runDir).status, 'running', 'the run did not stop with its parent');
    assert.equal(isStillRunning(rec), true);
    // Re-attached: Stop is a SIGINT, and the end is read from the run folder.
    // Its steps are followed from the run folder (the status bar showed "<name> 0" after a reload: issue 19).
    const followed: { step: number; totalSteps: number | null }[] = [];
    const watch = watchDetachedRun(rec, 200, (e, totalSteps) => followed.push({ step: e.step, totalSteps }));
    const seenNow = stepNow();
    await waitUntil(
      'a followed step after re-attaching',
      () => followed.at(-1)?.step ?? 0,
      (s) => s > seenNow,
    );
    assert.equal(followed.at(-1)?.totalSteps, 100000, 'the planned steps come from meta.json');
    assert.ok(
      followed.every((f, i) => i === 0 || f.step > followed[i - 1].step),
      'each report is a newer step',
    );
    assert.equal(watch.stop(), true);
    const end = await watch.done;
    assert.equal(end.status, 'stopped');
    const summary = readRun(runDir);
    assert.equal(summary.meta?.checkpoints.last?.step, end.step);
    const steps = eventsOf(runDir)
      .events.filter((e) => e.type === 'step')
      .map((e) => (e as { step: number }).step);
    assert.deepEqual(
      steps,
      steps.map((_, i) => i + 1),
      'every step is in events.jsonl',
    );
    assert.equal(isStillRunning(rec), false);
  },
);
