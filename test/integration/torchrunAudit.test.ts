/**
 * data.audit and data.positiveText "corpus" in both trainers, on the planted audit fixture (test/fixtures/audit/):
 * the built-in trainer (in this process, wasm) and the PyTorch trainer under the real launcher (torchrun, Debian's
 * /usr/bin/python3 with torch; the launcher audits the data once for the job, torchrunPrep.ts, and the trainer
 * reads its corpus itself). Both runs' logs hold the same audit line and the same positiveText note, and every
 * sampled positive whose id the corpus has refers to its corpus line (its text trained on), the others to their
 * training line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { initBackend } from '../../src/core/backend';
import { loadConfig } from '../../src/core/config/loadConfig';
import { readEvents, type StepEvent } from '../../src/core/runs';
import { runTraining } from '../../src/core/training/trainLoop';
import { DEBIAN_PYTHON } from '../../src/trainer/launch/torchrunArgs';
import { startTorchrunTrainer } from '../../src/trainer/launch/torchrun';
import type { FromTrainer } from '../../src/trainer/protocol';
import { torchSkip } from '../helpers/torch';

const PLANTED = path.resolve(__dirname, '../fixtures/audit/planted');

/** The planted fixture in a temp folder, its config training a few steps with the audit and corpus positives on. */
function experiment(kind: 'node' | 'torchrun'): { dir: string; config: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `rlens-audit-${kind}-`));
  for (const f of ['train.jsonl', 'test.jsonl', 'corpus.jsonl']) fs.copyFileSync(path.join(PLANTED, f), path.join(dir, f));
  const config = path.join(dir, 'audit.rlens.json');
  fs.writeFileSync(
    config,
    JSON.stringify({
      name: `audit-${kind}`,
      data: { train: 'train.jsonl', test: 'test.jsonl', corpus: 'corpus.jsonl', audit: true, positiveText: 'corpus' },
      model: { vocabBuckets: 1024, embeddingDim: 8, hiddenDim: 8, outputDim: 8, maxQueryTokens: 8, maxItemTokens: 20 },
      training: { steps: 6, batchSize: 4, logEvery: 1, checkpointEvery: 1000 },
      evaluation: { every: 0 },
      trainer: kind === 'node' ? { kind: 'node' } : { kind: 'torchrun', nprocPerNode: 1, python: DEBIAN_PYTHON },
      output: { runsDir: 'runs' },
    }),
  );
  return { dir, config };
}

/** What the parity is checked on: the audit and positiveText log lines (timing dropped), and every sampled positive as id → where it refers. */
function observed(runDir: string, dir: string) {
  const events = readEvents(path.join(runDir, 'events.jsonl')).events;
  const logs = events.flatMap((e) => (e.type === 'log' ? [e.message.split(dir).join('<dir>')] : []));
  const audit = logs.filter((l) => l.startsWith('data.audit:')).map((l) => l.replace(/ \(\d+\.\d s; full report: /, ' (full report: '));
  const note = logs.filter((l) => l.startsWith('data.positiveText'));
  const positives = new Map<string, string>();
  for (const e of events)
    if (e.type === 'step')
      for (const r of (e as StepEvent).samples?.rows ?? []) positives.set(r.v[0], `${path.basename((e as StepEvent).samples!.files[r.v[1]])}:${r.v[2]}`);
  return { audit, note, positives };
}

test('both trainers log the same audit line and positiveText note, and train positives on their corpus items', { skip: torchSkip }, async (t) => {
  const node = experiment('node');
  const torch = experiment('torchrun');
  t.after(() => [node, torch].forEach((e) => fs.rmSync(e.dir, { recursive: true, force: true })));

  const { runDir: nodeRun } = await runTraining({ loaded: loadConfig(node.config), backend: await initBackend('wasm'), runsRoot: path.join(node.dir, 'runs') });

  const messages: FromTrainer[] = [];
  let output = '';
  const loaded = loadConfig(torch.config);
  const handle = startTorchrunTrainer({ configPath: torch.config, overrides: [], trainer: loaded.config.trainer }, (m) => messages.push(m), {
    onOutput: (chunk) => (output += chunk),
    stopWithParent: true,
  });
  const done = await handle.done;
  assert.ok(done?.type === 'done' && done.status === 'completed', `${JSON.stringify(done)}\n${handle.failure?.message}\n${output.slice(-3000)}`);
  const torchRun = (messages.find((m) => m.type === 'started') as Extract<FromTrainer, { type: 'started' }>).runDir;

  const a = observed(nodeRun, node.dir);
  const b = observed(torchRun, torch.dir);
  assert.equal(a.audit.length, 1, 'the built-in trainer logs the audit once');
  assert.match(
    a.audit[0],
    /^data\.audit: audit of 13 pairs: 1 duplicate pairs .*; 1 training queries that are test queries \(normalised text\); 2 positives whose corpus item has another text \(1 without the title\) \(full report: retrieval-lens audit <dir>\/audit\.rlens\.json\)$/,
  );
  assert.deepEqual(b.audit, a.audit, 'the launcher audits once for the torchrun job: the same line');
  assert.deepEqual(a.note, ['data.positiveText "corpus": positives are trained on the text of their id in <dir>/corpus.jsonl (3 items)']);
  assert.deepEqual(b.note, a.note);

  // Corpus ids (p1, p2, p4) refer to their corpus line in both trainers; the others to a training line.
  const corpusLine: Record<string, string> = { p1: 'corpus.jsonl:1', p2: 'corpus.jsonl:2', p4: 'corpus.jsonl:3' };
  for (const [name, seen] of [
    ['node', a.positives],
    ['torchrun', b.positives],
  ] as const) {
    assert.ok(
      [...seen.keys()].some((id) => id in corpusLine),
      `${name}: a corpus id sampled: ${JSON.stringify([...seen])}`,
    );
    for (const [id, at] of seen) {
      if (id in corpusLine) assert.equal(at, corpusLine[id], `${name}: positive ${id}`);
      else assert.match(at, /^train\.jsonl:\d+$/, `${name}: positive ${id}`);
    }
  }
});
