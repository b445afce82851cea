/**
 * The count of training examples a run starts with: exact when the pairs were read, else (streamed data
 * larger than the shuffle buffer) the exact data lines of the line indexes, labelled "at most" (one pair
 * per line, bad lines not counted yet) or "estimate" (BGE: a line may hold several pairs) — in the
 * trainer's 'started' message, the run log, the CLI line and the data lens. Real trainer processes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { gzipSync } from 'zlib';
import { startTrainer } from '../../src/trainer/client';
import type { FromTrainer } from '../../src/trainer/protocol';
import { describeExampleCount, describeStartedCounts, exampleCountKind } from '../../src/core/data/exampleCount';
import { lensStateFromTrainer, trainerCountsReplace } from '../../src/extension/dataLens/dataLensCount';
import { formatDataLens } from '../../src/extension/shared/lensText';
import { smallExperiment } from '../helpers/smallExperiment';

type Started = Extract<FromTrainer, { type: 'started' }>;
type DataCounted = Extract<FromTrainer, { type: 'dataCounted' }>;

/** Trains a config in a real trainer process to its end; its messages and log lines. */
async function train(config: string, runsRoot: string): Promise<{ started: Started; counted: DataCounted[]; logs: string[]; status: string }> {
  const messages: FromTrainer[] = [];
  const handle = startTrainer({ configPath: config, overrides: [], runsRoot }, (m) => messages.push(m), {
    onInvalid: (r) => assert.fail(`invalid trainer message: ${r}`),
  });
  const done = await handle.done;
  const started = messages.find((m): m is Started => m.type === 'started');
  assert.ok(started, messages.map((m) => JSON.stringify(m)).join('\n'));
  const logs = messages.flatMap((m) => (m.type === 'log' ? [m.message] : []));
  const counted = messages.filter((m): m is DataCounted => m.type === 'dataCounted');
  return { started, counted, logs, status: done?.status ?? 'none' };
}

const pair = (s: number, i: number) => JSON.stringify({ query: `query ${s} ${i}`, positive: { id: `p${s}-${i}`, text: `item ${s} ${i} red shoe` } });

test('streamed pairs over the shuffle buffer start with "at most" the exact data lines of plain and gzip shards; epoch 1 gives the pairs', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rlens-counts-'));
  try {
    // Shard 1: 400 data lines (one bad), blank lines between; shard 2 (gzip): 300 data lines.
    const one = Array.from({ length: 400 }, (_, i) => (i === 17 ? '{"query": "no positive"}' : pair(1, i)));
    one.splice(100, 0, '', '   ');
    fs.writeFileSync(path.join(dir, 'part-1.jsonl'), one.join('\n') + '\n');
    fs.writeFileSync(path.join(dir, 'part-2.jsonl.gz'), gzipSync(Array.from({ length: 300 }, (_, i) => pair(2, i)).join('\n') + '\n'));
    const glob = path.join(dir, 'part-*');
    const exp = smallExperiment({ data: { train: glob, shuffleBuffer: 100 }, training: { steps: 30, logEvery: 10, checkpointEvery: 30 } });
    try {
      const { started, counted, logs, status } = await train(exp.config, exp.runs);
      assert.equal(status, 'completed');
      assert.deepEqual(
        { examples: started.examples, badLines: started.badLines, count: started.count, dataLines: started.dataLines },
        { examples: 700, badLines: 0, count: 'at most', dataLines: 700 },
      );
      assert.equal(describeStartedCounts(started), '≤ 700 examples (700 data lines; bad lines counted when epoch 1 is read)');
      assert.ok(
        logs.some((m) =>
          m.startsWith(
            'at most 700 training examples (700 data lines by the line index, one pair each; bad lines are counted when the first epoch is read) from ',
          ),
        ),
        logs.join('\n'),
      );
      // 30 steps of 32 read the first epoch (699 pairs): the exact count follows in the log.
      assert.ok(logs.includes('epoch 1 read: 699 training examples from 700 lines, 1 bad lines'), logs.join('\n'));
      // The data lens shows the trainer's count as what it is: data lines, bad lines still to come.
      const lens = formatDataLens(await lensStateFromTrainer({ absPath: glob, what: 'examples' }, started));
      assert.match(lens, /^2 files · ≈700 examples \(data lines of \d+ kB\) · bad lines counted when training reads it$/);
      // Once epoch 1 is read the trainer sends its exact counts, once, and the lens shows them instead.
      assert.deepEqual(counted, [{ type: 'dataCounted', examples: 699, linesRead: 700, badLines: 1 }]);
      const before = await lensStateFromTrainer({ absPath: glob, what: 'examples' }, started);
      assert.equal(trainerCountsReplace(before, true, { count: started.count }), false, 'an estimate does not replace the index count');
      assert.equal(trainerCountsReplace(before, true, { count: 'exact' }), true);
      const after = await lensStateFromTrainer(
        { absPath: glob, what: 'examples' },
        { examples: counted[0].examples, badLines: counted[0].badLines, count: 'exact' },
      );
      assert.equal(formatDataLens(after), '2 files · 699 examples · $(warning) 1 bad line');
      assert.equal(
        trainerCountsReplace({ kind: 'loaded', examples: 699, badLines: 1, what: 'examples', from: 'load' }, true, { count: 'exact' }),
        false,
        "the lens's own parse stays",
      );
    } finally {
      fs.rmSync(exp.dir, { recursive: true, force: true });
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('BGE data over the shuffle buffer starts with an estimate (a line may hold several pairs), and training.epochs says what it planned on', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rlens-counts-'));
  try {
    const file = path.join(dir, 'bge.jsonl');
    const lines = Array.from({ length: 200 }, (_, i) =>
      JSON.stringify({ query: `query ${i}`, pos: Array.from({ length: 1 + (i % 2) }, (_, p) => `item ${i} ${p}`), neg: [`other ${i}`] }),
    );
    fs.writeFileSync(file, lines.join('\n') + '\n');
    const exp = smallExperiment({ data: { train: file, shuffleBuffer: 50 }, training: { epochs: 2, logEvery: 5, checkpointEvery: 100 } });
    try {
      const { started, counted, logs, status } = await train(exp.config, exp.runs);
      assert.equal(status, 'completed');
      assert.equal(started.count, 'estimate');
      assert.deepEqual(counted, [{ type: 'dataCounted', examples: 300, linesRead: 200, badLines: 0 }], 'epoch 1 counted once, not again in epoch 2');
      assert.equal(started.dataLines, 200);
      assert.equal(started.totalSteps, Math.ceil((2 * 200) / 32), 'two epochs planned on the data lines (the pairs are 300: an estimate)');
      assert.equal(describeStartedCounts(started), '≈ 200 examples (estimate from 200 data lines; counted when epoch 1 is read)');
      assert.ok(
        logs.some((m) =>
          /^~200 training examples \(estimate: 200 data lines by the line index, and a line may hold several pairs; .*; 13 steps of 32 \(training\.epochs planned on the 200 data lines\)$/.test(
            m,
          ),
        ),
        logs.join('\n'),
      );
      assert.ok(logs.includes('epoch 1 read: 300 training examples from 200 lines, 0 bad lines'), logs.join('\n'));
    } finally {
      fs.rmSync(exp.dir, { recursive: true, force: true });
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('data that fits the shuffle buffer is read before the run starts: the count is exact, with its bad lines', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rlens-counts-'));
  try {
    const file = path.join(dir, 'train.jsonl');
    fs.writeFileSync(file, [...Array.from({ length: 120 }, (_, i) => pair(0, i)), '{ broken'].join('\n') + '\n');
    const exp = smallExperiment({ data: { train: file, maxBadLineShare: 0.1 }, training: { steps: 2, logEvery: 1, checkpointEvery: 2 } });
    try {
      const { started, counted, logs } = await train(exp.config, exp.runs);
      assert.deepEqual({ examples: started.examples, badLines: started.badLines, count: started.count }, { examples: 120, badLines: 1, count: 'exact' });
      assert.deepEqual(counted, [], 'an exact start count needs no dataCounted');
      assert.equal(describeStartedCounts(started), '120 examples (1 bad lines)');
      assert.ok(
        logs.some((m) => m.startsWith(`120 training examples from ${file}`)),
        logs.join('\n'),
      );
      assert.deepEqual(await lensStateFromTrainer({ absPath: file, what: 'examples' }, started), {
        kind: 'loaded',
        examples: 120,
        badLines: 1,
        what: 'examples',
        from: 'run',
      });
    } finally {
      fs.rmSync(exp.dir, { recursive: true, force: true });
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('count wording: exact, at most, estimate', () => {
  assert.equal(exampleCountKind({}), 'exact');
  assert.equal(exampleCountKind({ estimated: true, onePairPerLine: true }), 'at most');
  assert.equal(exampleCountKind({ estimated: true, onePairPerLine: false }), 'estimate');
  assert.equal(describeExampleCount({ examples: 25110 }), '25110 training examples');
  assert.match(describeExampleCount({ examples: 10, dataLines: 10, estimated: true }), /^~10 training examples \(estimate: 10 data lines/);
  assert.equal(
    describeStartedCounts({ examples: 1_000_000, badLines: 0, count: 'at most', dataLines: 1_000_000 }),
    '≤ 1,000,000 examples (1,000,000 data lines; bad lines counted when epoch 1 is read)',
  );
  assert.equal(describeStartedCounts({ examples: 25110, badLines: 2 }), '25,110 examples (2 bad lines)', 'no count: exact (older trainers)');
});
