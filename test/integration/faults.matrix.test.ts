/**
 * The bad-input and fault matrix: one table of cases per kind (config, data, run folder, disk,
 * process, IPC), each run against the real parts (config loader, data loaders, run readers and
 * writers, a real full disk, real trainer processes, the real IPC channel). Every case must
 *   1. answer with a located message (file:line[:column], the file or folder, the --set text, or
 *      the message field), and
 *   2. lose or corrupt nothing already written: a sentinel run (events, meta, checkpoint) next to
 *      every case is byte-identical after it, and each case checks the runs it touched itself.
 * The tally (cases, located, runs lost or corrupted) is printed at the end.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { loadConfig } from '../../src/core/config';
import { ConfigError } from '../../src/core/config/configError';
import { loadCorpus, loadExamples } from '../../src/core/data/load';
import { chooseCheckpoint } from '../../src/core/eval/evaluateRun';
import { EventWriter, RunWriter, readEvents, readRun, writeDirAtomically, writeJsonAtomicSync, recoverDirAtomically, listRuns } from '../../src/core/runs';
import { startEvaluation, startTrainer } from '../../src/trainer/client';
import { decodeFailures, encodeFailures } from '../../src/core/eval/failuresFile';
import { createSweep } from '../../src/core/experiments/newSweep';
import { SweepScheduler } from '../../src/core/experiments/scheduler';
import { trainerLauncher } from '../../src/trainer/sweepLauncher';
import { readFailureSet } from '../../src/core/experiments/failureDiff';
import { parseFailures } from '../../src/extension/failures/failureRecords';
import { runDescription } from '../../src/extension/runs/runItems';
import { parseFromTrainer, parseToTrainer, type FromTrainer } from '../../src/trainer/protocol';
import { smallExperiment, SHOP_CORPUS, SHOP_TEST, SHOP_TRAIN } from '../helpers/smallExperiment';
import { readOnlyView, tmpfs } from '../helpers/tmpfs';
import { TORCH_PYTHON, torchSkip } from '../helpers/torch';
import { securityCases } from './faults.security.cases';

const REPO = path.resolve(__dirname, '../..');
const tmp = (prefix: string) => fs.mkdtempSync(path.join(os.tmpdir(), `rlens-mx-${prefix}-`));

/** What a case found: the message shown to the user, whether it is located, and whether written runs are intact. */
interface Outcome {
  message: string;
  located: boolean;
  /** Runs the case itself wrote or read are intact (the sentinel is checked for every case). */
  intact: boolean;
}
interface Case {
  kind: 'config' | 'data' | 'run folder' | 'disk' | 'process' | 'IPC' | 'security';
  name: string;
  run(t: import('node:test').TestContext): Promise<Outcome | 'skipped'>;
}

// ---------------------------------------------------------------- the sentinel: a run written before every case
let sentinel: string;
const snapshot = (dir: string): Record<string, string> => {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out[path.relative(dir, p)] = createHash('sha1').update(fs.readFileSync(p)).digest('hex');
    }
  };
  walk(dir);
  return out;
};
let sentinelSnapshot: Record<string, string>;
before(async () => {
  const w = await RunWriter.create(tmp('sentinel'), 'sentinel', { name: 'sentinel' });
  for (let s = 1; s <= 3; s++) w.appendEvent({ type: 'log', level: 'info', message: `step ${s}` });
  await writeDirAtomically(path.join(w.dir, 'checkpoints', 'last'), async (d) => fs.writeFileSync(path.join(d, 'model.json'), '{"step":3}'));
  w.recordCheckpoint('last', { step: 3, path: 'checkpoints/last' });
  w.finish('completed');
  sentinel = w.dir;
  sentinelSnapshot = snapshot(sentinel);
});

// ---------------------------------------------------------------- helpers
/** A config file with `text` in a fresh folder. */
function configFile(text: string | Buffer): string {
  const file = path.join(tmp('cfg'), 'x.rlens.json');
  fs.writeFileSync(file, text);
  return file;
}
const VALID = (extra = '') => `{\n  "data": {"train": ${JSON.stringify(SHOP_TRAIN)}}${extra}\n}\n`;

/** loadConfig outcome: located when every problem has file:line:column (or the --set text is named). */
function configCase(file: string, overrides: string[] = [], locatedBy?: RegExp): Outcome {
  try {
    const loaded = loadConfig(file, overrides);
    const w = loaded.warnings ?? [];
    return {
      message: w.map((p) => `${file}:${p.line}:${p.column}: ${p.message}`).join('\n') || 'accepted without a word',
      located: w.length > 0,
      intact: true,
    };
  } catch (e) {
    const err = e as ConfigError;
    const located = locatedBy
      ? locatedBy.test(err.message)
      : err.problems.length > 0 && err.message.split('\n').every((l) => l.startsWith(`${file}:`) && /^.+:\d+:\d+: /.test(l));
    return { message: err.message, located, intact: true };
  }
}

/** A data file with `lines` in a fresh folder. */
function dataFile(name: string, lines: (string | Buffer)[]): string {
  const file = path.join(tmp('data'), name);
  fs.writeFileSync(file, Buffer.concat(lines.map((l) => Buffer.concat([Buffer.isBuffer(l) ? l : Buffer.from(l), Buffer.from('\n')]))));
  return file;
}
const pair = (i: number) => JSON.stringify({ query: `query ${i}`, positive: `item ${i}`, item_id: `p${i}` });
const goodPairs = (n: number) => Array.from({ length: n }, (_, i) => pair(i));

/** loadExamples outcome: an error or the reported bad lines must name file and line (or the path). */
async function dataCase(load: () => Promise<{ report: { badLines: { file: string; line: number; reason: string }[] } }>, where: RegExp): Promise<Outcome> {
  try {
    const r = await load();
    const msg = r.report.badLines.map((b) => `${b.file}:${b.line}: ${b.reason}`).join('\n');
    return { message: msg || 'accepted without a word', located: r.report.badLines.length > 0 && where.test(msg), intact: true };
  } catch (e) {
    return { message: (e as Error).message, located: where.test((e as Error).message), intact: true };
  }
}

/** A finished run with `n` log events and a last checkpoint. */
async function finishedRun(n = 5): Promise<string> {
  const w = await RunWriter.create(tmp('run'), 'case', {});
  for (let s = 1; s <= n; s++) w.appendEvent({ type: 'log', level: 'info', message: `event ${s}` });
  await writeDirAtomically(path.join(w.dir, 'checkpoints', 'last'), async (d) => fs.writeFileSync(path.join(d, 'model.json'), '{}'));
  w.finish('completed');
  return w.dir;
}
const eventsFile = (dir: string) => path.join(dir, 'events.jsonl');
const messagesOf = (dir: string) =>
  readEvents(eventsFile(dir))
    .events.filter((e) => e.type === 'log')
    .map((e) => (e as { message: string }).message);

/** Runs a real trainer; `act` may act on it once a step ≥ `atStep` arrived. */
async function trainer(
  config: string,
  opts: { runsRoot?: string; overrides?: string[]; steps?: number; atStep?: number; act?: (h: ReturnType<typeof startTrainer>) => void } = {},
) {
  const messages: FromTrainer[] = [];
  const invalid: string[] = [];
  let acted = false;
  const h = startTrainer(
    { configPath: config, overrides: opts.overrides ?? [], runsRoot: opts.runsRoot, steps: opts.steps },
    (m) => {
      messages.push(m);
      if (!acted && opts.act && m.type === 'step' && m.event.step >= (opts.atStep ?? 1)) {
        acted = true;
        opts.act(h);
      }
    },
    { onInvalid: (r) => invalid.push(r) },
  );
  const done = await h.done;
  const runDir = (messages.find((m) => m.type === 'started') as { runDir?: string } | undefined)?.runDir ?? null;
  return { messages, done, runDir, invalid, h };
}
/** Steps 1, 1+k, … of a run are all there (every logged step kept) and events have no bad middle line. */
function stepsIntact(runDir: string, logEvery = 1): boolean {
  const { events, badLines } = readEvents(eventsFile(runDir));
  const steps = events.filter((e) => e.type === 'step').map((e) => (e as { step: number }).step);
  const expected = steps.map((_, i) => (logEvery === 1 ? i + 1 : i === 0 ? 1 : logEvery * i));
  return badLines.length === 0 && steps.length > 0 && JSON.stringify(steps) === JSON.stringify(expected);
}

/** The CLI (src/cli.ts under tsx) with a time limit; its exit code and output. */
function cli(args: string[], timeout: number) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(REPO, 'src/cli.ts'), ...args], { encoding: 'utf8', timeout });
  return { status: r.signal ? null : r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** A trained (20 steps, Flat index) and evaluated run, made once; each call returns a fresh copy of it. */
let evaluatedRun: Promise<string> | null = null;
async function evaluatedRunCopy(): Promise<string> {
  evaluatedRun ??= (async () => {
    const exp = smallExperiment({
      data: { test: SHOP_TEST, corpus: SHOP_CORPUS },
      training: { steps: 20, logEvery: 1, checkpointEvery: 10 },
      evaluation: { index: { type: 'Flat' } },
    });
    const r = await trainer(exp.config);
    const ev = await new Promise<unknown>((res) => startEvaluation({ runDir: r.runDir! }, () => undefined).done.then(res));
    assert.ok(ev && fs.existsSync(path.join(r.runDir!, 'eval', 'failures.jsonl')), 'the shared run was evaluated');
    return r.runDir!;
  })();
  const src = await evaluatedRun;
  const copy = path.join(tmp('runs'), path.basename(src));
  fs.cpSync(src, copy, { recursive: true });
  return copy;
}

/** Whether a process of this machine has both strings in its command line (read from /proc). */
function processWith(a: string, b: string): boolean {
  for (const pid of fs.readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (cmd.includes(a) && cmd.includes(b)) return true;
    } catch {
      // gone meanwhile
    }
  }
  return false;
}

// ---------------------------------------------------------------- the matrix
const cases: Case[] = [
  // config
  { kind: 'config', name: 'JSON syntax error (missing comma)', run: async () => configCase(configFile('{\n  "name": "a"\n  "data": {}\n}')) },
  { kind: 'config', name: 'unknown property', run: async () => configCase(configFile(VALID(',\n  "nmae": "x"'))) },
  { kind: 'config', name: 'wrong type (batchSize "big")', run: async () => configCase(configFile(VALID(',\n  "training": {"batchSize": "big"}'))) },
  { kind: 'config', name: 'value not in enum (loss.type)', run: async () => configCase(configFile(VALID(',\n  "loss": {"type": "softmaxx"}'))) },
  { kind: 'config', name: 'out of range (loss.alpha -1)', run: async () => configCase(configFile(VALID(',\n  "loss": {"alpha": -1}'))) },
  { kind: 'config', name: 'missing data.train', run: async () => configCase(configFile('{\n  "data": {}\n}')) },
  { kind: 'config', name: 'config is an array', run: async () => configCase(configFile('[1, 2]')) },
  { kind: 'config', name: 'empty file', run: async () => configCase(configFile('')) },
  { kind: 'config', name: 'UTF-8 BOM and a schema error', run: async () => configCase(configFile('\ufeff' + VALID(',\n  "loss": {"alpha": -1}'))) },
  {
    kind: 'config',
    name: 'invalid UTF-8 byte',
    run: async () =>
      configCase(configFile(Buffer.concat([Buffer.from('{\n  "name": "a'), Buffer.from([0xc3, 0x28]), Buffer.from(`",\n  "data": {"train": "x"}\n}`)]))),
  },
  { kind: 'config', name: 'duplicate key (warning with both places)', run: async () => configCase(configFile(VALID(',\n  "name": "a",\n  "name": "b"'))) },
  { kind: 'config', name: '"__proto__" key', run: async () => configCase(configFile(VALID(',\n  "__proto__": {"x": 1}'))) },
  { kind: 'config', name: 'config path is a folder', run: async () => configCase(tmp('folder'), [], /is a folder/) },
  {
    kind: 'config',
    name: 'config file missing',
    run: async () => configCase('/nonexistent/x.rlens.json', [], /\/nonexistent\/x\.rlens\.json: file not found/),
  },
  { kind: 'config', name: '--set without "="', run: async () => configCase(configFile(VALID()), ['loss.alpha'], /--set expects key=value, got "loss\.alpha"/) },
  {
    kind: 'config',
    name: '--set __proto__.polluted=1',
    run: async () => configCase(configFile(VALID()), ['__proto__.polluted=1'], /--set __proto__\.polluted=1: "__proto__" is not allowed/),
  },
  {
    kind: 'config',
    name: '--set through a number (loss.alpha.x=1)',
    run: async () => configCase(configFile(VALID()), ['loss.alpha=0.5', 'loss.alpha.x=1'], /--set loss\.alpha\.x=1: "alpha" is not an object/),
  },
  {
    kind: 'config',
    name: '--set out of range value',
    run: async () => configCase(configFile(VALID()), ['loss.alpha=-3'], /x\.rlens\.json:\d+:\d+: loss\.alpha: must be >= 0 \(value from --set\)/),
  },

  // data
  {
    kind: 'data',
    name: 'JSONL: too many invalid JSON lines',
    run: async () => {
      const f = dataFile('t.jsonl', [...goodPairs(10), '{oops', '{oops']);
      return dataCase(() => loadExamples({ path: f }), /t\.jsonl are malformed.*first: line 11: invalid JSON/);
    },
  },
  {
    kind: 'data',
    name: 'JSONL: one line without "positive" among 100',
    run: async () => {
      const f = dataFile('t.jsonl', [...goodPairs(99), '{"query": "q"}']);
      return dataCase(() => loadExamples({ path: f }), /t\.jsonl:100: missing field "positive"/);
    },
  },
  {
    kind: 'data',
    name: 'JSONL: a negative equal to the positive',
    run: async () => {
      const f = dataFile('t.jsonl', [...goodPairs(99), JSON.stringify({ query: 'q', positive: { id: 'a', text: 'A' }, negatives: [{ id: 'a', text: 'A' }] })]);
      return dataCase(() => loadExamples({ path: f }), /t\.jsonl:100: negatives\[0\] is the positive item itself/);
    },
  },
  {
    kind: 'data',
    name: 'JSONL: invalid UTF-8 in a line',
    run: async () => {
      const f = dataFile('t.jsonl', [
        ...goodPairs(99),
        Buffer.concat([Buffer.from('{"query": "caf'), Buffer.from([0xe9]), Buffer.from('", "positive": "x"}')]),
      ]);
      return dataCase(() => loadExamples({ path: f }), /t\.jsonl:100: invalid UTF-8 byte 0xe9/);
    },
  },
  {
    kind: 'data',
    name: 'TSV: wrong column count',
    run: async () => {
      const f = dataFile('t.tsv', [...Array.from({ length: 99 }, (_, i) => `q${i}\titem ${i}`), 'only-one-column']);
      return dataCase(() => loadExamples({ path: f }), /t\.tsv:100: expected 2 or 3 tab-separated columns/);
    },
  },
  {
    kind: 'data',
    name: 'empty data file',
    run: async () => {
      const f = dataFile('t.jsonl', []);
      return dataCase(() => loadExamples({ path: f, label: 'data.train' }), /no examples in .*t\.jsonl \(data\.train\): it holds no data lines/);
    },
  },
  {
    kind: 'data',
    name: 'missing data file',
    run: async () =>
      dataCase(() => loadExamples({ path: '/nonexistent/t.jsonl', label: 'data.train' }), /data file not found: \/nonexistent\/t\.jsonl \(data\.train\)/),
  },
  {
    kind: 'data',
    name: 'a folder that is not BEIR',
    run: async () => {
      const d = tmp('nobeir');
      return dataCase(() => loadExamples({ path: d }), new RegExp(`${d} is a folder without corpus\\.jsonl`));
    },
  },
  {
    kind: 'data',
    name: 'BEIR: most qrels rows name unknown corpus ids',
    run: async () => {
      const d = tmp('beir');
      fs.mkdirSync(path.join(d, 'qrels'));
      fs.writeFileSync(path.join(d, 'corpus.jsonl'), Array.from({ length: 2000 }, (_, i) => JSON.stringify({ _id: `d${i}`, text: `doc ${i}` })).join('\n'));
      fs.writeFileSync(path.join(d, 'queries.jsonl'), Array.from({ length: 50 }, (_, i) => JSON.stringify({ _id: `q${i}`, text: `query ${i}` })).join('\n'));
      fs.writeFileSync(path.join(d, 'qrels', 'train.tsv'), Array.from({ length: 50 }, (_, i) => `q${i}\t${i < 20 ? 'gone' + i : 'd' + i}\t1`).join('\n'));
      return dataCase(
        () => loadExamples({ path: d, split: 'train' }),
        /20 of 50 qrels rows \(40\.0%\) in .*qrels\/train\.tsv yield no pair.*first: line 1: unknown corpus-id "gone0"/,
      );
    },
  },
  {
    kind: 'data',
    name: 'BEIR: queries.jsonl missing',
    run: async () => {
      const d = tmp('beir');
      fs.mkdirSync(path.join(d, 'qrels'));
      fs.writeFileSync(path.join(d, 'corpus.jsonl'), '{"_id": "d", "text": "t"}\n');
      fs.writeFileSync(path.join(d, 'qrels', 'test.tsv'), 'q\td\t1\n');
      return dataCase(() => loadExamples({ path: d }), /data file not found: .*queries\.jsonl/);
    },
  },
  {
    kind: 'data',
    name: 'corpus given as TSV',
    run: async () => {
      const f = dataFile('c.tsv', ['a\tb']);
      return dataCase(() => loadCorpus({ path: f, label: 'data.corpus' }) as never, /c\.tsv: a corpus must be a JSONL file .* \(data\.corpus\)/);
    },
  },

  // run folder
  {
    kind: 'run folder',
    name: 'torn last line, then an appender (eval)',
    run: async () => {
      const dir = await finishedRun();
      const before = messagesOf(dir);
      fs.truncateSync(eventsFile(dir), fs.statSync(eventsFile(dir)).size - 30);
      const w = new EventWriter(eventsFile(dir));
      w.append({ type: 'eval', step: 5, metrics: { 'recall@10': 0.5 } });
      w.close();
      const r = readRun(dir, { checkLines: true });
      const ev = readEvents(eventsFile(dir));
      return {
        message: r.problems.join('\n'),
        located: r.problems.some((p) => /^events\.jsonl:\d+: /.test(p)),
        intact: JSON.stringify(messagesOf(dir)) === JSON.stringify(before) && ev.events.at(-1)?.type === 'eval',
      };
    },
  },
  {
    kind: 'run folder',
    name: 'malformed middle line',
    run: async () => {
      const dir = await finishedRun();
      const lines = fs.readFileSync(eventsFile(dir), 'utf8').split('\n');
      lines.splice(3, 0, '{"v":1,"type":"step","time":"t","step":"three"}');
      fs.writeFileSync(eventsFile(dir), lines.join('\n'));
      const r = readRun(dir, { checkLines: true });
      return {
        message: r.problems.join('\n'),
        located: r.problems.includes('events.jsonl:4: step event, step: expected integer'),
        intact: messagesOf(dir).length === 5,
      };
    },
  },
  {
    kind: 'run folder',
    name: 'invalid UTF-8 in an events line',
    run: async () => {
      const dir = await finishedRun();
      const buf = fs.readFileSync(eventsFile(dir));
      const nl = buf.indexOf(0x0a) + 1;
      fs.writeFileSync(
        eventsFile(dir),
        Buffer.concat([
          buf.subarray(0, nl),
          Buffer.from('{"v":1,"type":"log","time":"t","level":"info","message":"'),
          Buffer.from([0xff]),
          Buffer.from('"}\n'),
          buf.subarray(nl),
        ]),
      );
      const r = readRun(dir, { checkLines: true });
      return {
        message: r.problems.join('\n'),
        located: r.problems.some((p) => /^events\.jsonl:2: invalid UTF-8 byte 0xff/.test(p)),
        intact: messagesOf(dir).length === 5,
      };
    },
  },
  {
    kind: 'run folder',
    name: 'event of a newer schema version',
    run: async () => {
      const dir = await finishedRun();
      fs.appendFileSync(eventsFile(dir), '{"v":99,"type":"log","time":"t","level":"info","message":"future"}\n');
      const r = readRun(dir, { checkLines: true });
      return {
        message: r.problems.join('\n'),
        located: r.problems.some((p) => /^events\.jsonl:\d+: event schema v=99 is newer/.test(p)),
        intact: messagesOf(dir).length === 5,
      };
    },
  },
  {
    kind: 'run folder',
    name: 'meta.json not JSON',
    run: async () => {
      const dir = await finishedRun();
      fs.writeFileSync(path.join(dir, 'meta.json'), '{"status": ');
      const r = readRun(dir);
      return {
        message: r.problems.join('\n'),
        located: r.status === 'unknown' && r.problems.some((p) => /meta\.json/.test(p)),
        intact: messagesOf(dir).length === 5,
      };
    },
  },
  {
    kind: 'run folder',
    name: 'meta.json of a newer format',
    run: async () => {
      const dir = await finishedRun();
      const meta = JSON.parse(fs.readFileSync(path.join(dir, 'meta.json'), 'utf8'));
      fs.writeFileSync(path.join(dir, 'meta.json'), JSON.stringify({ ...meta, formatVersion: 99 }));
      const r = readRun(dir);
      return {
        message: r.problems.join('\n'),
        located: r.status === 'unknown' && r.problems.some((p) => /meta\.json/.test(p) && /99/.test(p)),
        intact: messagesOf(dir).length === 5,
      };
    },
  },
  {
    kind: 'run folder',
    name: 'checkpoints/last missing, last.old complete (crash mid-swap)',
    run: async () => {
      const dir = await finishedRun();
      const ck = path.join(dir, 'checkpoints');
      fs.renameSync(path.join(ck, 'last'), path.join(ck, 'last.old'));
      const chosen = chooseCheckpoint(dir, 'last');
      const found = chosen.dir === path.join(ck, 'last.old') && chosen.recovered;
      recoverDirAtomically(path.join(ck, 'last'));
      return { message: `evaluating ${chosen.dir}`, located: found, intact: fs.existsSync(path.join(ck, 'last', 'model.json')) };
    },
  },
  {
    kind: 'run folder',
    name: 'no checkpoint at all',
    run: async () => {
      const dir = await finishedRun();
      fs.rmSync(path.join(dir, 'checkpoints'), { recursive: true });
      try {
        chooseCheckpoint(dir, 'best');
        return { message: 'accepted', located: false, intact: true };
      } catch (e) {
        return {
          message: (e as Error).message,
          located: (e as Error).message.includes(path.join(dir, 'checkpoints', 'best')),
          intact: messagesOf(dir).length === 5,
        };
      }
    },
  },
  {
    kind: 'run folder',
    name: 'runs --dir of a missing folder',
    run: async () => {
      const missing = path.join(tmp('runs'), 'tpyo');
      const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(REPO, 'src/cli.ts'), 'runs', '--dir', missing], { encoding: 'utf8' });
      return { message: r.stderr.trim(), located: r.status === 2 && r.stderr.includes(`runs folder not found: ${missing}`), intact: true };
    },
  },
  {
    kind: 'run folder',
    name: 'junk next to runs (files, hidden and meta-less folders)',
    run: async () => {
      const root = path.dirname(await finishedRun());
      fs.writeFileSync(path.join(root, 'notes.txt'), 'x');
      fs.mkdirSync(path.join(root, '.hidden'));
      fs.mkdirSync(path.join(root, '20250101-000000-empty'));
      const runs = listRuns(root);
      return { message: `${runs.length} run listed`, located: runs.length === 1, intact: messagesOf(runs[0].dir).length === 5 };
    },
  },

  // disk
  {
    kind: 'disk',
    name: 'disk full while a trainer appends events (64 KB tmpfs)',
    run: async (t) => {
      const mnt = tmpfs(t, '64k');
      if (!mnt) return 'skipped';
      const exp = smallExperiment({ training: { steps: 5000, logEvery: 1, checkpointEvery: 100000 } });
      const r = await trainer(exp.config, { runsRoot: mnt });
      const msg = r.done?.error?.message ?? '';
      const run = r.done?.runDir ? readRun(r.done.runDir) : null;
      const ev = r.done?.runDir ? readEvents(eventsFile(r.done.runDir)) : null;
      const steps = ev?.events.filter((e) => e.type === 'step').map((e) => (e as { step: number }).step) ?? [];
      return {
        message: msg,
        located: /ENOSPC/.test(msg) && msg.includes(path.join(r.done!.runDir!, 'events.jsonl')),
        intact: run?.status === 'failed' && (ev?.badLines.length ?? 9) <= 1 && steps.length > 0 && steps.every((s, i) => s === i + 1),
      };
    },
  },
  {
    kind: 'disk',
    name: 'disk full while creating a run (4 KB tmpfs)',
    run: async (t) => {
      const mnt = tmpfs(t, '4k');
      if (!mnt) return 'skipped';
      try {
        await RunWriter.create(mnt, 'full', { name: 'full' });
        return { message: 'created', located: false, intact: true };
      } catch (e) {
        const m = (e as Error).message;
        return { message: m, located: /ENOSPC/.test(m) && /\/(config|meta|events)\.json(l)?: /.test(m) && m.includes(mnt), intact: true };
      }
    },
  },
  {
    kind: 'disk',
    name: 'disk full while replacing a checkpoint',
    run: async (t) => {
      const mnt = tmpfs(t, '16k');
      if (!mnt) return 'skipped';
      const final = path.join(mnt, 'checkpoints', 'last');
      await writeDirAtomically(final, async (d) => fs.writeFileSync(path.join(d, 'weights.bin'), Buffer.alloc(3000, 1)));
      fs.writeFileSync(path.join(mnt, 'filler'), Buffer.alloc(4096));
      try {
        await writeDirAtomically(final, async (d) => fs.writeFileSync(path.join(d, 'weights.bin'), Buffer.alloc(20000, 2)));
        return { message: 'written', located: false, intact: true };
      } catch (e) {
        const m = (e as Error).message;
        const kept = fs.readFileSync(path.join(final, 'weights.bin'));
        return {
          message: m,
          located: /ENOSPC/.test(m) && m.includes(final),
          intact: kept.length === 3000 && kept[0] === 1 && fs.readdirSync(path.dirname(final)).join() === 'last',
        };
      }
    },
  },
  {
    kind: 'disk',
    name: 'disk full while rewriting meta.json',
    run: async (t) => {
      const mnt = tmpfs(t, '8k');
      if (!mnt) return 'skipped';
      const meta = path.join(mnt, 'meta.json');
      writeJsonAtomicSync(meta, { status: 'running', step: 1 });
      fs.writeFileSync(path.join(mnt, 'filler'), Buffer.alloc(4096));
      try {
        writeJsonAtomicSync(meta, { status: 'running', step: 2 });
        return { message: 'written', located: false, intact: true };
      } catch (e) {
        const m = (e as Error).message;
        return {
          message: m,
          located: /ENOSPC/.test(m) && m.includes(meta),
          intact: JSON.parse(fs.readFileSync(meta, 'utf8')).step === 1 && fs.readdirSync(mnt).sort().join() === 'filler,meta.json',
        };
      }
    },
  },
  {
    kind: 'disk',
    name: 'read-only runs folder',
    run: async (t) => {
      const mnt = tmpfs(t, '16k');
      if (!mnt) return 'skipped';
      spawnSync('mount', ['-o', 'remount,ro', mnt]);
      try {
        await RunWriter.create(path.join(mnt, 'runs'), 'ro', {});
        return { message: 'created', located: false, intact: true };
      } catch (e) {
        const m = (e as Error).message;
        return { message: m, located: /EROFS/.test(m) && m.includes(path.join(mnt, 'runs')), intact: true };
      }
    },
  },
  {
    kind: 'disk',
    name: 'runs folder that cannot exist (/proc)',
    run: async () => {
      const root = '/proc/rlens-matrix/runs';
      const r = spawnSync(
        process.execPath,
        ['--import', 'tsx', '-e', `require(${JSON.stringify(path.join(REPO, 'src/core/runs/runDir.ts'))}).createRunDir(${JSON.stringify(root)}, 'x')`],
        { encoding: 'utf8', timeout: 30_000 },
      );
      return {
        message: r.stderr.split('\n').find((l) => l.includes('cannot')) ?? r.stderr,
        located: r.signal === null && r.stderr.includes(`cannot create runs folder ${root}`),
        intact: true,
      };
    },
  },
  {
    kind: 'disk',
    name: 'runs folder under a file',
    run: async () => {
      const file = path.join(tmp('file'), 'runs-is-a-file');
      fs.writeFileSync(file, 'x');
      try {
        await RunWriter.create(path.join(file, 'runs'), 'x', {});
        return { message: 'created', located: false, intact: true };
      } catch (e) {
        const m = (e as Error).message;
        return { message: m, located: m.includes(`${file} is not a folder`), intact: fs.readFileSync(file, 'utf8') === 'x' };
      }
    },
  },

  // process
  {
    kind: 'process',
    name: 'SIGKILL mid-run',
    run: async () => {
      const exp = smallExperiment({ training: { steps: 5000, logEvery: 1 } });
      const r = await trainer(exp.config, { atStep: 10, act: (h) => h.kill() });
      const s = readRun(r.runDir!);
      return { message: `${s.status}: ${s.statusReason}`, located: s.status === 'crashed' && s.statusReason.length > 0, intact: stepsIntact(r.runDir!) };
    },
  },
  {
    kind: 'process',
    name: 'SIGTERM mid-run',
    run: async () => {
      const exp = smallExperiment({ training: { steps: 5000, logEvery: 1, checkpointEvery: 100000 } });
      const r = await trainer(exp.config, { atStep: 5, act: (h) => h.child.kill('SIGTERM') });
      const s = readRun(r.runDir!);
      const msg = messagesOf(r.runDir!).find((m) => /stopped by request after step/.test(m)) ?? '';
      return { message: msg, located: s.status === 'stopped' && msg !== '', intact: stepsIntact(r.runDir!) && s.meta?.checkpoints.last?.step === r.done?.step };
    },
  },
  {
    kind: 'process',
    name: 'gradient becomes Infinity at step 1',
    run: async () => {
      const exp = smallExperiment();
      const r = await trainer(exp.config, { overrides: ['loss.adaptive=false', 'loss.temperature=1e-40'] });
      const m = r.done?.error?.message ?? '';
      return {
        message: m,
        located: /^gradient_norm is (NaN|Infinity) at step 1; .*no checkpoint was written yet/.test(m) && readRun(r.runDir!).meta?.error?.step === 1,
        intact: readRun(r.runDir!).status === 'failed',
      };
    },
  },
  {
    kind: 'process',
    name: 'no negative in any batch',
    run: async () => {
      const train = dataFile(
        'same.jsonl',
        Array.from({ length: 100 }, () => JSON.stringify({ query: 'q', positive: 'P', item_id: 'p' })),
      );
      const exp = smallExperiment({ data: { train }, training: { steps: 30, logEvery: 1 } });
      const r = await trainer(exp.config);
      const m = r.done?.error?.message ?? '';
      return {
        message: m,
        located: /no negatives in the whole first epoch \(steps 1–4\)/.test(m),
        intact: r.runDir !== null && stepsIntact(r.runDir) && readRun(r.runDir).status === 'failed',
      };
    },
  },
  {
    kind: 'process',
    name: 'data.test missing at train time',
    run: async () => {
      const exp = smallExperiment({ data: { test: 'gone/test.jsonl' } });
      const r = await trainer(exp.config);
      const m = r.done?.error?.message ?? '';
      return { message: m, located: /data file not found: .*gone\/test\.jsonl \(data\.test\)/.test(m), intact: !fs.existsSync(exp.runs) };
    },
  },
  {
    kind: 'process',
    name: 'the parent dies (CLI killed): the run stops cleanly',
    run: async () => {
      const exp = smallExperiment({ training: { steps: 100000, logEvery: 1, checkpointEvery: 100000 } });
      const host = `const { startTrainer } = require(${JSON.stringify(path.join(REPO, 'src/trainer/client.ts'))});
      let dir = null; const h = startTrainer({ configPath: ${JSON.stringify(exp.config)}, overrides: [] }, (m) => {
        if (m.type === 'started') dir = m.runDir;
        if (m.type === 'step' && m.event.step >= 3) { console.log(dir); process.exit(0); } });`;
      const out = spawnSync(process.execPath, ['--import', 'tsx', '-e', host], { encoding: 'utf8', timeout: 120_000 });
      const runDir = out.stdout.trim().split('\n').pop()!;
      const t0 = Date.now();
      while (readRun(runDir).status === 'running' && Date.now() - t0 < 120_000) await new Promise((r) => setTimeout(r, 200));
      const s = readRun(runDir);
      const msg = messagesOf(runDir).find((m) => /stopped by request/.test(m)) ?? '';
      return { message: msg, located: s.status === 'stopped' && msg !== '', intact: stepsIntact(runDir) && s.meta?.checkpoints.last?.step === s.step };
    },
  },

  // IPC
  {
    kind: 'IPC',
    name: 'garbage messages to a running trainer are ignored with a reason',
    run: async () => {
      const exp = smallExperiment({ training: { steps: 5000, logEvery: 1, checkpointEvery: 100000 } });
      const r = await trainer(exp.config, {
        atStep: 3,
        act: (h) => {
          h.child.send('not an object');
          h.child.send({ type: 'launch' });
          h.child.send({ type: 'start', configPath: exp.config, overrides: [] });
          h.stop();
        },
      });
      const warns = r.messages.filter((m): m is Extract<FromTrainer, { type: 'log' }> => m.type === 'log' && m.level === 'warn').map((m) => m.message);
      const located =
        warns.some((w) => /ignored a message: message is not an object/.test(w)) &&
        warns.some((w) => /unknown message type "launch"/.test(w)) &&
        warns.some((w) => /ignored a second start/.test(w));
      return { message: warns.join('\n'), located, intact: r.done?.status === 'stopped' && stepsIntact(r.runDir!) };
    },
  },
  {
    kind: 'IPC',
    name: 'start with bad fields',
    run: async () => {
      const reasons = [
        parseToTrainer({ type: 'start', configPath: 'a', overrides: [], steps: -1 }),
        parseToTrainer({ type: 'start', configPath: 'a', overrides: 'x' }),
        parseToTrainer({ type: 'start', configPath: 'a', overrides: [], outliveParent: 'yes' }),
        parseToTrainer({ type: 'evaluate', runDir: 'r', checkpoint: 'first' }),
      ].map((p) => (p.ok ? 'accepted' : p.reason));
      return {
        message: reasons.join('\n'),
        located:
          /start\.steps/.test(reasons[0]) &&
          /start\.overrides/.test(reasons[1]) &&
          /start\.outliveParent/.test(reasons[2]) &&
          /evaluate\.checkpoint/.test(reasons[3]),
        intact: true,
      };
    },
  },
  {
    kind: 'IPC',
    name: 'malformed messages from a trainer',
    run: async () => {
      const reasons = [
        parseFromTrainer({ type: 'step', event: { type: 'step', step: 'x' } }),
        parseFromTrainer({ type: 'done', status: 'exploded', runDir: null, step: 0 }),
        parseFromTrainer({ type: 'started', runDir: 1 }),
        parseFromTrainer(42),
      ].map((p) => (p.ok ? 'accepted' : p.reason));
      return {
        message: reasons.join('\n'),
        located:
          /^step\.event\.step: expected integer$/.test(reasons[0]) &&
          /^done\.status: must be/.test(reasons[1]) &&
          /^started\.runDir: expected string$/.test(reasons[2]) &&
          /not an object/.test(reasons[3]),
        intact: true,
      };
    },
  },
  // ------------------------------------------------ issue 23: the defects of the second fault matrix
  {
    kind: 'config',
    name: '1e999 and 99999999999999999999 in the config (checkpointEvery, steps)',
    run: async () => {
      const file = configFile(VALID(',\n  "training": {"checkpointEvery": 1e999,\n    "steps": 99999999999999999999}'));
      const out = configCase(file);
      return {
        ...out,
        located:
          out.located &&
          /training\.checkpointEvery: 1e999 is out of range/.test(out.message) &&
          /training\.steps: 99999999999999999999 is out of range/.test(out.message),
      };
    },
  },
  {
    kind: 'config',
    name: '--set training.steps=1e309',
    run: async () => configCase(configFile(VALID()), ['training.steps=1e309'], /--set training\.steps=1e309: 1e309 is out of range/),
  },
  {
    kind: 'config',
    name: '--steps 99999999999999999999',
    run: async () => {
      const exp = smallExperiment();
      const r = cli(['train', exp.config, '--steps', '99999999999999999999'], 60_000);
      return {
        message: r.stderr.split('\n')[0],
        located: r.status === 2 && /--steps must be a positive integer of at most 9007199254740991, got "99999999999999999999"/.test(r.stderr),
        intact: !fs.existsSync(exp.runs),
      };
    },
  },
  {
    kind: 'data',
    name: '--set data.train=/dev/zero',
    run: async () => {
      const exp = smallExperiment();
      const h = startTrainer({ configPath: exp.config, overrides: ['data.train=/dev/zero'] }, () => undefined);
      const timer = setTimeout(() => h.kill(), 60_000); // it used to read /dev/zero for ever
      const r = { done: await h.done };
      clearTimeout(timer);
      const m = r.done?.error?.message ?? '';
      return { message: m, located: /\/dev\/zero is not a regular file \(a character device\).*\(data\.train\)/.test(m), intact: !fs.existsSync(exp.runs) };
    },
  },
  {
    kind: 'data',
    name: 'eval --data /dev/zero',
    run: async () => {
      const dir = await evaluatedRunCopy();
      const r = cli(['eval', dir, '--data', '/dev/zero'], 120_000);
      return {
        message: r.stderr.trim().split('\n').pop() ?? '',
        located:
          r.status === 1 &&
          /\/dev\/zero is not a regular file \(a character device\).*\(--data\)/.test(r.stderr) &&
          !/RangeError|exited with code/.test(r.stderr),
        intact: fs.existsSync(path.join(dir, 'checkpoints', 'last', 'model.json')),
      };
    },
  },
  {
    kind: 'run folder',
    name: 'eval of a run folder without config.json',
    run: async () => {
      const dir = await evaluatedRunCopy();
      fs.rmSync(path.join(dir, 'config.json'));
      const r = cli(['eval', dir], 60_000);
      return {
        message: r.stderr.trim(),
        located: r.status === 2 && r.stderr.includes(`${path.join(dir, 'config.json')}: not found`) && !r.stderr.includes('usage:'),
        intact: readRun(dir).status === 'completed',
      };
    },
  },
  {
    kind: 'run folder',
    name: 'a stalled trainer (SIGSTOP) and a dead run whose pid was reused',
    run: async () => {
      const exp = smallExperiment({ training: { steps: 100000, logEvery: 1, checkpointEvery: 100000 } });
      let stalled = '';
      let label = '';
      const r = await trainer(exp.config, {
        atStep: 3,
        act: (h) => {
          h.child.kill('SIGSTOP');
          void (async () => {
            const dir = path.join(exp.runs, fs.readdirSync(exp.runs)[0]);
            // Wait on the state: a heartbeat older than a 3 s staleness bound (the default is 60 s).
            for (let i = 0; i < 600 && !readRun(dir, { staleMs: 3000 }).heartbeatStale; i++) await new Promise((res) => setTimeout(res, 100));
            const s = readRun(dir, { staleMs: 3000 });
            stalled = `${s.status}/${s.heartbeatStale}`;
            label = runDescription(s);
            h.child.kill('SIGCONT');
            h.stop();
          })();
        },
      });
      // A run of this host whose pid now names this test process (started after the run): 36 h old heartbeat.
      const w = await RunWriter.create(tmp('run'), 'reused', {}); // never finished: a writer killed 36 h ago
      w.appendEvent({ type: 'log', level: 'info', message: 'started' });
      const old = w.dir;
      const metaFile = path.join(old, 'meta.json');
      const meta = JSON.parse(fs.readFileSync(metaFile, 'utf8'));
      const long = new Date(Date.now() - 36 * 3600_000).toISOString();
      writeJsonAtomicSync(metaFile, {
        ...meta,
        status: 'running',
        pid: process.pid,
        host: os.hostname(),
        startedAt: long,
        heartbeatAt: long,
      });
      const reused = readRun(old);
      return {
        message: `${label} · pid reused: ${reused.status} (${reused.statusReason})`,
        located: stalled === 'running/true' && /^stalled \(no heartbeat for \d+ s\)/.test(label) && reused.status === 'crashed',
        intact: r.done?.status === 'stopped' && stepsIntact(r.runDir!),
      };
    },
  },
  {
    kind: 'run folder',
    name: 'a read-only run folder: eval and export-embeddings',
    run: async (t) => {
      const dir = await evaluatedRunCopy();
      fs.rmSync(path.join(dir, 'checkpoints', 'last', 'index'), { recursive: true, force: true });
      fs.rmSync(path.join(dir, 'eval'), { recursive: true, force: true });
      const before = snapshot(dir);
      const view = readOnlyView(t, dir);
      if (!view) return 'skipped';
      const ev = cli(['eval', view], 300_000);
      const ex = cli(['export-embeddings', view, '--items', '50', '--queries', '10', '--projection', 'none'], 300_000);
      const named = (s: string) => s.includes(view) && /EROFS|EACCES/.test(s) && !/ENOENT/.test(s);
      return {
        message: `${ev.stderr.trim().split('\n').pop()} · ${ex.stderr.trim().split('\n').pop()}`,
        located: ev.status === 1 && named(ev.stderr) && ex.status === 1 && named(ex.stderr),
        intact: JSON.stringify(snapshot(dir)) === JSON.stringify(before),
      };
    },
  },
  {
    kind: 'run folder',
    name: 'a 20 MB log line after the last step (and a 300 KB one for the 256 KB scan)',
    run: async () => {
      const dir = await evaluatedRunCopy();
      const last = readRun(dir).lastStep!.step;
      fs.appendFileSync(
        eventsFile(dir),
        JSON.stringify({ v: 2, type: 'log', time: new Date().toISOString(), level: 'info', message: 'x'.repeat(20_000_000) }) + '\n',
      );
      const big = readRun(dir).lastStep?.step ?? null;
      const dir2 = await evaluatedRunCopy();
      fs.appendFileSync(
        eventsFile(dir2),
        JSON.stringify({ v: 2, type: 'log', time: new Date().toISOString(), level: 'info', message: 'y'.repeat(300_000) }) + '\n',
      );
      const small = readRun(dir2, { scanBytes: 256 * 1024 }).lastStep?.step ?? null;
      // The writer bounds what it appends.
      const w = new EventWriter(eventsFile(dir2));
      w.append({ type: 'log', level: 'info', message: 'z'.repeat(20_000_000) });
      w.close();
      const written = fs.readFileSync(eventsFile(dir2), 'utf8').trimEnd().split('\n').pop()!;
      return {
        message: `last step ${last}: found ${big} past 20 MB, ${small} past 300 KB with a 256 KB scan; a 20 MB message is written as ${written.length} bytes`,
        located: big === last && small === last && written.length < 40_000 && /\[cut: 20000000 characters/.test(written),
        intact: readEvents(eventsFile(dir)).events.filter((e) => e.type === 'step').length > 0,
      };
    },
  },
  {
    kind: 'run folder',
    name: 'failure records compare accepted and the Failing Queries view rejected',
    run: async () => {
      const dir = await evaluatedRunCopy();
      const file = path.join(dir, 'eval', 'failures.jsonl');
      const good = decodeFailures(fs.readFileSync(file, 'utf8')).records[0];
      const bad = [
        { ...good, queryId: 'neg', source: { ...good.source, line: -3 } },
        { ...good, queryId: 'first', rank: 'first' },
        { ...good, queryId: 'script', label: '<script>' },
      ];
      // Format 1 (one whole record per line), as older files are: every record is checked by its reader.
      fs.writeFileSync(file, [good, ...bad].map((r) => JSON.stringify({ ...r, v: 1 })).join('\n') + '\n');
      const set = readFailureSet(dir)!;
      const view = parseFailures(fs.readFileSync(file, 'utf8'));
      const lines = (ps: string[]) => ps.map((p) => Number(/:(\d+):/.exec(p)?.[1]));
      return {
        message: set.problems.join('\n'),
        located:
          set.records.length === 1 &&
          JSON.stringify(lines(set.problems)) === '[2,3,4]' &&
          JSON.stringify(view.badLines.map((b) => b.line)) === '[2,3,4]' &&
          /source\.line/.test(set.problems[0]) &&
          /rank/.test(set.problems[1]) &&
          /label/.test(set.problems[2]),
        intact: true,
      };
    },
  },
  {
    kind: 'data',
    name: 'a 10 MB test query in failures.jsonl',
    run: async () => {
      const dir = await evaluatedRunCopy();
      const file = path.join(dir, 'eval', 'failures.jsonl');
      const records = decodeFailures(fs.readFileSync(file, 'utf8')).records;
      const text = encodeFailures([{ ...records[0], query: 'q'.repeat(10_000_000) }, ...records.slice(1)]);
      const longest = Math.max(...text.split('\n').map((l) => l.length));
      const back = decodeFailures(text).records[0] as { query: string; queryCut?: boolean };
      return {
        message: `longest failures.jsonl line ${longest} characters; the query kept ${back.query.length} characters, queryCut ${back.queryCut}; its full text stays at ${records[0].source.file}:${records[0].source.line}`,
        located: longest < 5000 && back.queryCut === true,
        intact: true,
      };
    },
  },
  {
    kind: 'run folder',
    name: 'step regressions 30 → 3 → 10^15 in events.jsonl',
    run: async () => {
      const dir = await evaluatedRunCopy();
      const { events } = readEvents(eventsFile(dir));
      const step = events.find((e) => e.type === 'step')!;
      const total = readRun(dir).totalSteps!;
      const n0 = fs.readFileSync(eventsFile(dir), 'utf8').trimEnd().split('\n').length;
      for (const s of [3, 1e15]) fs.appendFileSync(eventsFile(dir), JSON.stringify({ ...step, step: s }) + '\n');
      const s = readRun(dir, { checkLines: true });
      const r = cli(['runs', '--dir', path.dirname(dir)], 60_000);
      return {
        message: s.problems.join('\n'),
        located:
          s.step === total &&
          s.lastStep?.step === total &&
          s.problems.some((p) => p.startsWith(`events.jsonl:${n0 + 1}: step 3 after step ${total}`)) &&
          s.problems.some((p) => p.startsWith(`events.jsonl:${n0 + 2}: step 1000000000000000 is beyond`)) &&
          !r.stdout.includes('1000000000000000/'),
        intact: true,
      };
    },
  },
  {
    kind: 'process',
    name: 'Ctrl-C during torchrun start-up',
    run: async (t) => {
      if (torchSkip) {
        t.skip(torchSkip);
        return 'skipped';
      }
      const exp = smallExperiment();
      const cfg = JSON.parse(fs.readFileSync(exp.config, 'utf8').replace(/^\/\/.*\n/, ''));
      fs.writeFileSync(exp.config, JSON.stringify({ ...cfg, backend: 'auto', trainer: { kind: 'torchrun', nprocPerNode: 1, python: TORCH_PYTHON } }));
      const child = spawn(process.execPath, [path.join(REPO, 'bin/retrieval-lens.js'), 'train', exp.config], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (out += d));
      const ended = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
      // Wait on the state: the launcher process (python -m retrieval_lens.launch) exists, still importing torch.
      for (let i = 0; i < 300 && !processWith(`retrieval_lens.launch`, exp.config); i++) await new Promise((res) => setTimeout(res, 20));
      child.kill('SIGINT');
      const code = await ended;
      return {
        message: out.trim().split('\n').slice(-2).join(' · '),
        located: code === 130 && /no run folder was created/.test(out) && !/Traceback|every step logged so far/.test(out),
        intact: !fs.existsSync(exp.runs) || fs.readdirSync(exp.runs).length === 0,
      };
    },
  },
  {
    kind: 'run folder',
    name: 'checkpoints/last.tmp-* left by a SIGKILL',
    run: async () => {
      const dir = await evaluatedRunCopy();
      const dead = spawnSync('true').pid;
      const tmpDir = path.join(dir, 'checkpoints', `last.tmp-${dead}-0badf00d`);
      fs.mkdirSync(tmpDir);
      fs.writeFileSync(path.join(tmpDir, 'weights.bin'), Buffer.alloc(528 * 1024));
      const listed = readRun(dir, { checkLines: true }).problems.find((p) => p.includes(`last.tmp-${dead}-`)) ?? '';
      const ev = cli(['eval', dir], 300_000);
      return {
        message: `${listed} · eval: ${ev.stdout.split('\n').find((l) => l.includes('removed')) ?? ''}`,
        located: listed !== '' && ev.status === 0 && !fs.existsSync(tmpDir) && /removed .*last\.tmp-/.test(ev.stdout),
        intact: fs.existsSync(path.join(dir, 'checkpoints', 'last', 'model.json')),
      };
    },
  },
  {
    kind: 'process',
    name: 'two sweep --resume of a killed sweep at once',
    run: async () => {
      const exp = smallExperiment({ training: { steps: 5, logEvery: 1, checkpointEvery: 5 } });
      const { dir } = createSweep({
        configPath: exp.config,
        sweep: { param: 'loss.alpha', values: [0.3, 0.6] },
        seedCount: 1,
        concurrency: 2,
        code: { retrievalLens: 'test', gitCommit: null },
      });
      // Killed: sweep.json still names its driver, a pid that no longer exists, and so does its sweep.lock.
      const dead = spawnSync('true').pid!;
      const since = new Date().toISOString();
      const file = JSON.parse(fs.readFileSync(path.join(dir, 'sweep.json'), 'utf8'));
      writeJsonAtomicSync(path.join(dir, 'sweep.json'), { ...file, driver: { pid: dead, host: os.hostname(), since } });
      fs.writeFileSync(path.join(dir, 'sweep.lock'), JSON.stringify({ pid: dead, host: os.hostname(), processStart: null, since }));
      const resume = () =>
        new Promise<{ code: number | null; out: string }>((res) => {
          const c = spawn(process.execPath, [path.join(REPO, 'bin/retrieval-lens.js'), 'sweep', '--resume', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
          let out = '';
          c.stdout.on('data', (d) => (out += d));
          c.stderr.on('data', (d) => (out += d));
          c.on('exit', (code) => res({ code, out }));
        });
      const both = await Promise.all([resume(), resume()]);
      const refused = both.filter((b) => b.code === 2 && /this sweep is being run by process \d+/.test(b.out));
      const ran = both.filter((b) => b.code === 0);
      const tookOver = ran.some((b) => new RegExp(`took over the lock of process ${dead} .*which is no longer running`).test(b.out));
      const runFolders = fs.existsSync(exp.runs) ? fs.readdirSync(exp.runs).length : 0;
      // The race itself, without timing luck: two resumes that both read the killed sweep before either claims it.
      const exp2 = smallExperiment({ training: { steps: 5, logEvery: 1, checkpointEvery: 5 } });
      const sweep2 = createSweep({
        configPath: exp2.config,
        sweep: { param: 'loss.alpha', values: [0.3] },
        seedCount: 1,
        code: { retrievalLens: 'test', gitCommit: null },
      });
      const launcher = trainerLauncher();
      const [s1, s2] = [new SweepScheduler(sweep2.dir, launcher), new SweepScheduler(sweep2.dir, launcher)];
      const raced = await Promise.allSettled([s1.run(), s2.run()]);
      const rejected = raced.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason?.message));
      const runFolders2 = fs.existsSync(exp2.runs) ? fs.readdirSync(exp2.runs).length : 0;
      return {
        message: [...refused.map((b) => b.out.trim().split('\n').pop()), ...rejected].join(' · ') || both.map((b) => `exit ${b.code}`).join(', '),
        located: refused.length === 1 && ran.length === 1 && tookOver && rejected.length === 1 && /this sweep is being run by process \d+/.test(rejected[0]),
        intact: runFolders === 2 && runFolders2 === 1 && !fs.existsSync(path.join(dir, 'sweep.lock')) && !fs.existsSync(path.join(sweep2.dir, 'sweep.lock')),
      };
    },
  },
];

// Hostile repository content (issue 23): faults.security.cases.ts.
cases.push(...securityCases.map((c): Case => ({ kind: 'security', ...c })));

// ---------------------------------------------------------------- the runner and the tally
const tally = { cases: 0, located: 0, lostOrCorrupted: 0, skipped: 0, byKind: {} as Record<string, { cases: number; located: number }> };

for (const c of cases) {
  test(`[${c.kind}] ${c.name}`, { timeout: 300_000 }, async (t) => {
    const out = await c.run(t);
    if (out === 'skipped') {
      tally.skipped++;
      return;
    }
    const sentinelIntact = JSON.stringify(snapshot(sentinel)) === JSON.stringify(sentinelSnapshot);
    tally.cases++;
    const k = (tally.byKind[c.kind] ??= { cases: 0, located: 0 });
    k.cases++;
    if (out.located) {
      tally.located++;
      k.located++;
    }
    if (!out.intact || !sentinelIntact) tally.lostOrCorrupted++;
    t.diagnostic(out.message.split('\n')[0].slice(0, 300));
    assert.ok(out.located, `no located message: ${out.message}`);
    assert.ok(out.intact, 'something already written was lost or corrupted');
    assert.ok(sentinelIntact, 'the sentinel run changed');
  });
}

after(() => {
  const kinds = Object.entries(tally.byKind)
    .map(([k, v]) => `${k} ${v.located}/${v.cases}`)
    .join(', ');
  console.log(
    `fault matrix: ${tally.cases} cases, ${tally.located} answered with a located message, ${tally.lostOrCorrupted} runs lost or corrupted${tally.skipped ? `, ${tally.skipped} skipped` : ''} (${kinds})`,
  );
});
