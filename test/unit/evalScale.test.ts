import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { initBackend } from '../../src/core/backend';
import { loadConfig } from '../../src/core/config';
import { runTraining } from '../../src/core/training/trainLoop';
import { loadCheckpoint } from '../../src/core/model/checkpoint';
import { loadCorpus } from '../../src/core/data/load';
import { evaluateParams, exactDecision } from '../../src/core/eval/evaluate';
import { towerEncoder } from '../../src/core/eval/encoders';
import { evaluateRun, loadRunConfig } from '../../src/core/eval/evaluateRun';
import { loadEvalData } from '../../src/core/eval/evalData';
import { fileCorpus, memoryCorpus } from '../../src/core/eval/evalCorpus';
import { readFailuresFile } from '../../src/core/eval';
import { formatEvalSummary } from '../../src/cli/evalCommand';
import { evaluationSummary } from '../../src/extension/evaluation/evaluationSummary';
import { parseFromTrainer } from '../../src/trainer/protocol';
import type { EvaluationConfig } from '../../src/core/config/types';
import { smallExperiment, SHOP_CORPUS, SHOP_TEST } from '../helpers/smallExperiment';

let runDir: string;
const IVF = { type: 'IVF-PQ', nlist: 64, m: 8, nbits: 6, nprobe: 8 } as const;

before(async () => {
  const backend = await initBackend('wasm');
  const exp = smallExperiment({
    data: { test: SHOP_TEST, corpus: SHOP_CORPUS },
    training: { steps: 60, logEvery: 20, checkpointEvery: 60 },
    // 6,120 corpus items: more than exactMaxCorpus, so exact "auto" skips the exact search.
    evaluation: { index: IVF, exactMaxCorpus: 5000 },
  });
  runDir = (await runTraining({ loaded: loadConfig(exp.config), backend })).runDir;
});

test('exact "auto" above evaluation.exactMaxCorpus skips the exact search, says why, and triages the ANN search', async () => {
  const logs: string[] = [];
  const r = await evaluateRun({ runDir, log: (m) => logs.push(m) });
  const e = r.entry;
  assert.equal(e.corpus.count, 6120);
  assert.equal(e.exact, null);
  assert.equal(
    e.exactSkipped,
    'the corpus has 6120 items, more than evaluation.exactMaxCorpus 5000 (evaluation.exact "auto"): exact search costs O(corpus) per query',
  );
  assert.equal(e.annGap, null, 'the ANN gap is n/a without the exact search');
  assert.ok(e.ann && e.ann['recall@10'] > 10 * (10 / 6120), `IVF-PQ recall@10 ${e.ann?.['recall@10']}`);
  assert.ok(
    logs.some((l) => l.startsWith('exact search skipped: the corpus has 6120 items')),
    logs.join('\n'),
  );
  assert.ok(e.index.notes.some((n) => n.startsWith('exact search skipped')));
  // The failing queries are the ANN search's, named so in the summary and in every record.
  const annName = `IVF-PQ, nprobe ${String(e.index.spec.nprobe)}`;
  assert.equal(e.failures.search, annName);
  assert.equal(e.annFailures, null, 'no second search to switch to');
  assert.equal(r.annFailuresFile, null);
  const failures = readFailuresFile(r.failuresFile)!.records;
  assert.ok(failures.length > 0);
  assert.equal(failures.length, e.failures.count);
  assert.ok(failures.every((f) => f.search === annName && f.topK.length === 10 && f.topK.every((t) => t.text.length > 0)));
  for (const f of failures) for (const p of f.positives) if (p.score === null) assert.equal(p.rank, null, 'an ANN positive not returned has no score');
  // Said where a user reads it: the CLI table and the toast.
  const table = formatEvalSummary(e);
  assert.match(table, /exact search skipped: the corpus has 6120 items.*; ANN gap n\/a/);
  assert.match(table, new RegExp(`recall@10 +\\d+\\.\\d +n/a`), table);
  assert.match(evaluationSummary(e), new RegExp(`^IVF-PQ, nprobe \\d+: recall@10 0\\.\\d{3}, ${e.failures.count} failing queries · exact search skipped`));

  // The trainer process can send it to the extension (exact: null passes the protocol check).
  assert.equal(parseFromTrainer({ type: 'evaluated', runDir, entry: e, failuresFile: r.failuresFile }).ok, true);

  // exact true searches exactly at any size; exact false never; a Flat index always.
  const ev = loadRunConfig(runDir).config.evaluation;
  assert.equal(ev.exact, 'auto');
  assert.deepEqual(exactDecision({ ...ev, exact: true }, 6120, false), { run: true, skipped: null });
  assert.deepEqual(exactDecision({ ...ev, exact: false }, 10, false), { run: false, skipped: 'evaluation.exact is false' });
  assert.deepEqual(exactDecision({ ...ev, exact: false, index: { ...ev.index, type: 'Flat' } }, 6120, false), { run: true, skipped: null });
  assert.deepEqual(exactDecision({ ...ev }, 5000, false), { run: true, skipped: null });
});

test('the corpus streamed from its file gives the same embeddings, recall and failures as the corpus held in memory', async () => {
  const loaded = loadRunConfig(runDir);
  const { params, info } = loadCheckpoint(path.join(runDir, 'checkpoints', 'last'));
  const streamedData = await loadEvalData(loaded);
  const inMemory = memoryCorpus((await loadCorpus({ path: SHOP_CORPUS })).items);
  assert.equal(streamedData.corpus.count, inMemory.count);
  assert.equal(streamedData.corpus.fingerprint, inMemory.fingerprint, 'the same fingerprint: a saved index stays valid');
  assert.deepEqual(streamedData.corpus.ids, inMemory.ids);
  const evaluation: EvaluationConfig = { ...loaded.config.evaluation, exact: true };
  const run = async (data: typeof streamedData) =>
    evaluateParams({ encoder: towerEncoder(params, loaded.config.model), evaluation, data, step: info.step, checkpoint: 'checkpoints/last', subset: false });
  const streamed = await run(streamedData);
  const held = await run({ ...streamedData, corpus: inMemory });
  assert.deepEqual(Buffer.from(streamed.corpusEmb.buffer), Buffer.from(held.corpusEmb.buffer), 'identical corpus embeddings');
  const chance = 10 / inMemory.count;
  assert.ok(streamed.entry.exact && streamed.entry.exact['recall@10'] > 10 * chance, `exact recall@10 ${streamed.entry.exact?.['recall@10']}`);
  assert.deepEqual(streamed.entry.exact, held.entry.exact);
  assert.deepEqual(streamed.entry.ann, held.entry.ann);
  assert.deepEqual(streamed.entry.bm25, held.entry.bm25);
  assert.deepEqual(streamed.failures, held.failures, 'the same failing queries, with the texts read back from the corpus file');
  assert.deepEqual(streamed.annFailures, held.annFailures);

  // A corpus file that changes between its passes is an error naming the line, never a silent mix-up.
  const copy = path.join(path.dirname(runDir), 'corpus-copy.jsonl');
  fs.copyFileSync(SHOP_CORPUS, copy);
  const { corpus } = await fileCorpus({ path: copy });
  const lines = fs.readFileSync(copy, 'utf8').split('\n');
  lines[9] = JSON.stringify({ id: 'replaced', text: 'a different item' });
  fs.writeFileSync(copy, lines.join('\n'));
  await assert.rejects(corpus.items([20]), new RegExp(`corpus-copy\\.jsonl:10: the corpus changed during the evaluation`));
});
