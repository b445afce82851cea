/**
 * The PyTorch trainer's launcher (src/trainer/launch/torchrun.ts) with real processes: Debian's
 * /usr/bin/python3 with torch runs `python -m retrieval_lens.launch` (torch.distributed.run), which
 * starts the REAL trainer `retrieval_lens.train` on 2 ranks joined in a gloo process group, on the
 * bundled example's data (a few steps). The stand-in test/fixtures/torchrun/stand_in_trainer.py
 * (same command line and run format) is used only where the real trainer cannot behave
 * deterministically: a NaN loss at a given step, and a trainer that never prints its run line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { TrainerConfig } from '../../src/core/config/types';
import { readEvents, readRun } from '../../src/core/runs';
import { readMetrics } from '../../src/core/eval';
import { EvalEntrySchema } from '../../src/core/eval/evalEntrySchema';
import { schemaProblem } from '../../src/core/schemaCheck';
import { DEBIAN_PYTHON, resolvePython } from '../../src/trainer/launch/torchrunArgs';
import { startTorchrunTrainer, type TorchrunOptions } from '../../src/trainer/launch/torchrun';
import type { FromTrainer } from '../../src/trainer/protocol';
import { parseFromTrainer } from '../../src/trainer/protocol';
import { watchDetachedRun } from '../../src/extension/training/detachedRun';
import { torchSkip } from '../helpers/torch';

export const STAND_IN_ROOT = path.resolve(__dirname, '../fixtures', 'torchrun');
export const STAND_IN_MODULE = 'stand_in_trainer';
const SHOP_DATA = path.resolve(__dirname, '../..', 'examples', 'shop', 'data');

const skip = torchSkip;

/** A temp folder with a config on the bundled example's data (small model: a step takes well under a second). */
function experiment(steps: number, extra: Record<string, unknown> = {}): { dir: string; config: string; runs: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rlens-torchrun-'));
  const config = path.join(dir, 'torch.rlens.json');
  fs.writeFileSync(
    config,
    JSON.stringify({
      name: 'Torch DDP',
      data: { train: path.join(SHOP_DATA, 'train.jsonl'), test: path.join(SHOP_DATA, 'test.jsonl'), corpus: path.join(SHOP_DATA, 'corpus.jsonl') },
      model: { vocabBuckets: 4096, embeddingDim: 16, hiddenDim: 16, outputDim: 16 },
      training: { steps, batchSize: 32, logEvery: 1, checkpointEvery: 1000 },
      trainer: { kind: 'torchrun', nprocPerNode: 2 },
      output: { runsDir: 'runs' },
      ...extra,
    }),
  );
  return { dir, config, runs: path.join(dir, 'runs') };
}

interface LaunchOptions extends TorchrunOptions {
  steps?: number;
  overrides?: string[];
  /** Run the stand-in trainer with these knobs instead of the real one. */
  standIn?: Record<string, string>;
}

function launch(config: string, trainer: Partial<TrainerConfig>, opts: LaunchOptions = {}) {
  const messages: FromTrainer[] = [];
  const waiters: { pred: (m: FromTrainer) => boolean; resolve: (m: FromTrainer) => void }[] = [];
  let output = '';
  const env = opts.standIn ? { ...process.env, PYTHONPATH: STAND_IN_ROOT, ...opts.standIn } : process.env;
  const handle = startTorchrunTrainer(
    {
      configPath: config,
      overrides: opts.overrides ?? [],
      steps: opts.steps,
      trainer: {
        kind: 'torchrun',
        nprocPerNode: 2,
        module: opts.standIn ? STAND_IN_MODULE : 'retrieval_lens.train',
        python: DEBIAN_PYTHON,
        ...trainer,
      },
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
    { env, onOutput: (s) => (output += s), ...opts },
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

test('the real trainer on 2 ranks: the run line, then every step of events.jsonl in order, then done from meta.json', { skip }, async () => {
  const exp = experiment(3);
  // --set trainer.* is read by the Python config reader like any other key.
  const r = launch(exp.config, {}, { overrides: ['trainer.nprocPerNode=2'] });
  const done = await r.handle.done;
  assert.ok(done, `done: ${r.handle.failure?.message}\n${r.output()}`);
  const types = r.messages.map((m) => m.type);
  assert.deepEqual(types.slice(0, 2), ['ready', 'started']);
  assert.equal(types.at(-1), 'done');
  const started = r.messages[1] as Extract<FromTrainer, { type: 'started' }>;
  assert.equal(path.dirname(started.runDir), exp.runs);
  assert.equal(started.totalSteps, 3, 'meta.json totalSteps');
  assert.equal(started.backend, 'torch-cpu');
  const logs = r.messages.filter((m) => m.type === 'log').map((m) => (m as Extract<FromTrainer, { type: 'log' }>).message);
  assert.ok(
    logs.some((l) => /DDP: 2 ranks × batch 32 = effective batch 64/.test(l)),
    logs.join('\n'),
  );
  assert.deepEqual(
    r.messages.filter((m) => m.type === 'step').map((m) => (m as Extract<FromTrainer, { type: 'step' }>).event.step),
    [1, 2, 3],
  );
  assert.deepEqual(done, { type: 'done', status: 'completed', runDir: started.runDir, step: 3 });
  assert.match(r.output(), new RegExp(`^run: ${started.runDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'));
  assert.match(r.output(), /^completed at step 3: /m);
  const summary = readRun(started.runDir);
  assert.equal(summary.status, 'completed');
  assert.equal(summary.meta?.checkpoints.last?.step, 3);
  assert.equal(readEvents(path.join(started.runDir, 'events.jsonl')).badLines.length, 0);
  assert.equal(await groupAlive(r.handle.pid!), false);
});

test(
  'Stop: SIGINT to the process group (each rank gets it twice); every rank stops after the same step, checkpoint written, status stopped',
  { skip },
  async () => {
    const exp = experiment(100000);
    const r = launch(exp.config, {});
    // State, not time: the first step event is in events.jsonl (every rank is inside its training loop).
    await r.until((m) => m.type === 'step');
    r.handle.stop();
    const done = await r.handle.done;
    assert.ok(done, `done: ${r.handle.failure?.message}\n${r.output()}`);
    // Had the ranks disagreed on the last step, the collective would hang and torchrun's agent would kill them
    // 30 s after its SIGINT: the run would end crashed, not stopped.
    assert.equal(done.status, 'stopped');
    assert.ok(done.step >= 1 && done.step < 100000);
    const summary = readRun(done.runDir!);
    assert.equal(summary.status, 'stopped');
    assert.equal(summary.meta?.checkpoints.last?.step, done.step);
    assert.ok(fs.existsSync(path.join(done.runDir!, 'checkpoints', 'last')));
    const last = r.messages.filter((m) => m.type === 'step').at(-1) as Extract<FromTrainer, { type: 'step' }>;
    assert.equal(last.event.step, done.step, 'every logged step was followed');
    assert.match(r.output(), new RegExp(`^stopped at step ${done.step}: `, 'm'));
    assert.equal(await groupAlive(r.handle.pid!), false, 'no rank is left');
  },
);

test(
  'a config the PyTorch trainer refuses (backend wasm): its problem located at the key in the config, a failed start, nothing written',
  { skip },
  async () => {
    const exp = experiment(3);
    const cfg = JSON.parse(fs.readFileSync(exp.config, 'utf8')) as { backend?: string };
    cfg.backend = 'wasm';
    const text = JSON.stringify(cfg, null, 2);
    fs.writeFileSync(exp.config, text);
    const r = launch(exp.config, {});
    const done = await r.handle.done;
    assert.equal(r.handle.failure, null, r.handle.failure?.message);
    assert.ok(done);
    assert.equal(done.status, 'failed');
    assert.equal(done.runDir, null);
    const error = r.messages.find((m) => m.type === 'error') as Extract<FromTrainer, { type: 'error' }> | undefined;
    assert.ok(error, r.output());
    const before = text.slice(0, text.indexOf('"wasm"')).split('\n');
    assert.deepEqual(
      error.problems?.map((p) => [p.path, p.line, p.column]),
      [['backend', before.length, before.at(-1)!.length + 1]],
    );
    assert.match(error.problems![0].message, /"wasm" is not supported by the PyTorch trainer/);
    assert.ok(error.message.startsWith(`${exp.config}:${before.length}:${before.at(-1)!.length + 1}: backend: `), error.message);
    assert.equal(done.error?.message, error.message);
    assert.equal(fs.existsSync(exp.runs), false);
  },
);

test('a trainer that fails (NaN loss; stand-in: at step 3 for sure) ends as failed with its error, from meta.json', { skip }, async () => {
  const exp = experiment(50);
  const r = launch(exp.config, { nprocPerNode: 1 }, { standIn: { FAKE_TRAINER_MODE: 'fail-at-step-3' } });
  const done = await r.handle.done;
  assert.ok(done, `done: ${r.handle.failure?.message}`);
  assert.equal(done.status, 'failed');
  assert.equal(done.step, 2);
  assert.equal(done.error?.quantity, 'loss');
});

test('no run line within the start timeout (stand-in that hangs): the process group is killed, a typed error with the stderr tail', { skip }, async () => {
  const exp = experiment(10);
  const r = launch(exp.config, { nprocPerNode: 2 }, { startTimeoutMs: 4000, standIn: { FAKE_TRAINER_MODE: 'hang-before-run' } });
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

test(
  'a window reload during a run: the job outlives its launcher; the re-attached watcher stops it and removes its output folder from the temp dir',
  { skip },
  async () => {
    const exp = experiment(100000);
    // The launcher's temp folder goes to a temp dir of this test (os.tmpdir() reads TMPDIR).
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rlens-reload-tmp-'));
    // The "extension host": a process that launches the job, says its pid and run folder, and is then killed.
    const script = `
    const { startTorchrunTrainer } = require(${JSON.stringify(path.resolve(__dirname, '../..', 'src', 'trainer', 'launch', 'torchrun.ts'))});
    const h = startTorchrunTrainer(
      { configPath: ${JSON.stringify(exp.config)}, overrides: [], trainer: { kind: 'torchrun', nprocPerNode: 2, module: 'retrieval_lens.train', python: ${JSON.stringify(DEBIAN_PYTHON)} } },
      (m) => { if (m.type === 'started') console.log(JSON.stringify({ pid: h.pid, runDir: m.runDir })); },
    );`;
    const host = spawn(process.execPath, ['--import', 'tsx', '-e', script], { env: { ...process.env, TMPDIR: tmp }, stdio: ['ignore', 'pipe', 'inherit'] });
    const started = await new Promise<{ pid: number; runDir: string }>((resolve, reject) => {
      let out = '';
      host.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const line = out.split('\n').find((l) => l.includes('"runDir":"'));
        if (line) resolve(JSON.parse(line) as { pid: number; runDir: string });
      });
      host.on('exit', (code) => reject(new Error(`the launching process ended (${code}) before the run started`)));
    });
    const logDirs = () => fs.readdirSync(tmp).filter((n) => n.startsWith('rlens-torchrun-logs-'));
    assert.equal(logDirs().length, 1);
    host.kill('SIGKILL');
    await new Promise((r) => host.once('exit', r));
    // The next window: re-attach through what persists (run folder, pid of the process group).
    const record = { configPath: exp.config, runDir: started.runDir, pid: started.pid, host: os.hostname(), processGroup: true };
    const previousTmp = process.env.TMPDIR;
    process.env.TMPDIR = tmp;
    try {
      const watcher = watchDetachedRun(record, 200);
      for (;;) {
        if (readRun(started.runDir).step >= 1) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      assert.equal(watcher.stop(), true);
      const end = await watcher.done;
      assert.equal(end.status, 'stopped');
      assert.equal(readRun(started.runDir).meta?.checkpoints.last?.step, end.step);
      // State: the folder goes once the job's process is gone.
      for (let i = 0; logDirs().length > 0; i++) {
        assert.ok(i < 600, `the launcher's output folder is still there: ${logDirs().join(', ')}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      watcher.dispose();
    } finally {
      if (previousTmp === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = previousTmp;
    }
    assert.equal(await groupAlive(started.pid), false);
  },
);

test(
  'the real trainer on 2 ranks evaluates the held-out sample the launcher prepared: BM25 reference, quality verdict, best by held-out recall',
  { skip },
  async () => {
    // Training pairs map query "k<i>" to item i+1, the held-out queries ask for item i: held-out recall is
    // highest before the model learns the training mapping, then falls while the in-batch task saturates.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rlens-torchrun-heldout-'));
    const N = 200;
    const word = (i: number, s: string) => `${s}${(i * 7919 + 13).toString(36)}x${i}`;
    const items = Array.from({ length: N }, (_, i) => ({ id: `item${i}`, text: `${word(i, 'k')} ${word(i, 'z')}` }));
    const jsonl = (rows: object[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
    fs.writeFileSync(path.join(dir, 'corpus.jsonl'), jsonl(items));
    fs.writeFileSync(path.join(dir, 'test.jsonl'), jsonl(items.map((it, i) => ({ query_id: `q${i}`, query: word(i, 'k'), positive: it }))));
    const pairs = Array.from({ length: 20 * N }, (_, k) => ({ query: word(k % N, 'k'), positive: items[(k + 1) % N] }));
    fs.writeFileSync(path.join(dir, 'train.jsonl'), jsonl(pairs));
    const exp = experiment(40, {
      data: { train: path.join(dir, 'train.jsonl'), test: path.join(dir, 'test.jsonl'), corpus: path.join(dir, 'corpus.jsonl') },
      training: { steps: 40, batchSize: 32, logEvery: 1, checkpointEvery: 1000, learningRate: 0.01 },
      // The sample: 50 of the 200 queries against 120 of the 200 items (their 50 positives kept).
      evaluation: { every: 4, heldOutQueries: 50, heldOutCorpus: 120 },
    });
    const r = launch(exp.config, {});
    const done = await r.handle.done;
    assert.ok(done && done.type === 'done' && done.status === 'completed', `done: ${JSON.stringify(done)} ${r.handle.failure?.message}\n${r.output()}`);
    const evals = r.messages.filter((m): m is Extract<FromTrainer, { type: 'eval' }> => m.type === 'eval');
    assert.deepEqual(
      evals.map((e) => e.step),
      [4, 8, 12, 16, 20, 24, 28, 32, 36, 40],
    );
    for (const e of evals) {
      assert.deepEqual(e.heldOut, {
        queries: 50,
        corpus: 120,
        corpusTotal: 200,
        sampled: true,
        description: '50 queries × 120 of 200 items (sampled, all positives kept)',
      });
      // BM25 on the same sample, once per run: the same reference at every evaluation. The query word is in its item: BM25 finds it.
      assert.equal(e.metrics['bm25/recall@10'], evals[0].metrics['bm25/recall@10']);
      assert.ok(e.metrics['bm25/recall@10'] > 0.9, `BM25 recall@10 ${e.metrics['bm25/recall@10']}`);
      assert.equal(e.metrics.queries, 50);
      assert.ok(e.quality && typeof e.quality.reason === 'string');
    }
    const r10 = (e: (typeof evals)[number]) => e.metrics['recall@10'];
    const peak = evals.reduce((a, b) => (r10(b) > r10(a) ? b : a));
    assert.ok(peak.step < 40 && r10(evals.at(-1)!) < r10(peak), evals.map((e) => `${e.step}: ${r10(e)}`).join(', '));
    assert.equal(evals.at(-1)!.quality!.state, 'below-lexical', evals.at(-1)!.quality!.reason);
    const runDir = (r.messages[1] as Extract<FromTrainer, { type: 'started' }>).runDir;
    const meta = readRun(runDir).meta!;
    assert.deepEqual(meta.checkpoints.best, {
      step: peak.step,
      path: 'checkpoints/best',
      metric: 'eval recall@10 (held-out queries)',
      value: r10(peak),
      rule: 'held-out',
    });
    const logs = r.messages.flatMap((m) => (m.type === 'log' ? [m.message] : []));
    assert.ok(
      logs.some((l) =>
        /^held-out: 50 queries × 120 of 200 items \(sampled, all positives kept\), exact search; BM25 on the same sample recall@10 \d\.\d{3} \(the reference, computed once\)/.test(
          l,
        ),
      ),
      logs.join('\n'),
    );
    assert.equal(readEvents(path.join(runDir, 'events.jsonl')).badLines.length, 0);
    // Each live evaluation is an eval/metrics.json entry, as the built-in trainer writes it (the run format's schema).
    const entries = readMetrics(runDir).evaluations;
    assert.deepEqual(
      entries.map((e) => [e.step, e.checkpoint, e.queries.subset, e.exact!['recall@10'], e.bm25!['recall@10'], e.heldOut]),
      evals.map((e) => [e.step, 'in-memory', true, r10(e), e.metrics['bm25/recall@10'], e.heldOut]),
    );
    for (const e of entries) assert.equal(schemaProblem(EvalEntrySchema, e, 'eval/metrics.json'), null);
    assert.equal(entries[0].queries.source, path.join(dir, 'test.jsonl'));
    assert.equal(entries[0].corpus.source, path.join(dir, 'corpus.jsonl'));
  },
);
