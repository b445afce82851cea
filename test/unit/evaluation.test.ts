import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { initBackend, type BackendInfo } from '../../src/core/backend';
import { loadConfig } from '../../src/core/config';
import {
  evaluateRun,
  evidenceProblem,
  findFailures,
  loadEvalData,
  loadRunConfig,
  readFailuresFile,
  readMetrics,
  triage,
  wordSeen,
  type FailureRecord,
} from '../../src/core/eval';
import { loadCheckpoint } from '../../src/core/model/checkpoint';
import { encodeFeatures } from '../../src/core/model/encode';
import { featurize, featurizeOptions } from '../../src/core/model/featurize';
import type { TriageInput } from '../../src/core/eval/triage';
import { decodeFailures, encodeFailures } from '../../src/core/eval/failuresFile';
import { Bm25Index, TermStats } from '../../src/core/lexical';
import seedrandom from 'seedrandom';
import { buildIndex, search } from '../../src/core/vectorIndex';
import { readEvents, type EvalEvent } from '../../src/core/runs';
import { runTraining } from '../../src/core/training/trainLoop';
import { startEvaluation } from '../../src/trainer/client';
import type { FromTrainer } from '../../src/trainer/protocol';
import { smallExperiment, SHOP_CORPUS, SHOP_TEST, SHOP_TRAIN } from '../helpers/smallExperiment';
import { formatEvalSummary } from '../../src/cli/evalCommand';
import { EvalEntrySchema } from '../../src/core/eval/evalEntrySchema';
import { schemaProblem } from '../../src/core/schemaCheck';

let backend: BackendInfo;
let runDir: string;
before(async () => {
  backend = await initBackend('wasm');
  const exp = smallExperiment({
    data: { test: SHOP_TEST, corpus: SHOP_CORPUS },
    training: { steps: 60, logEvery: 20, checkpointEvery: 30 },
    // No live held-out evaluation (on by default with test data): best by in-batch recall, so `last` is evaluated.
    evaluation: { index: { type: 'IVF-PQ', nlist: 64, m: 8, nbits: 6, nprobe: 8 }, every: 0 },
  });
  runDir = (await runTraining({ loaded: loadConfig(exp.config), backend })).runDir;
});

/** The 1-based line `n` of a file, parsed as JSON. */
function lineOf(file: string, n: number): Record<string, unknown> {
  return JSON.parse(fs.readFileSync(file, 'utf8').split('\n')[n - 1]);
}

test('a full evaluation writes metrics, located failures and an eval event', async () => {
  const logs: string[] = [];
  const r = await evaluateRun({ runDir, log: (m) => logs.push(m) });
  const e = r.entry;
  assert.equal(e.checkpoint, 'checkpoints/last', 'best was chosen by in-batch recall only: last is evaluated');
  assert.equal(e.queries.count, 1500);
  assert.equal(e.corpus.count, 6120);
  assert.ok(e.ann && e.annGap && e.exact);
  assert.equal(e.exactSkipped, undefined, '6,120 items are searched exactly under exact "auto"');
  for (const k of [1, 5, 10, 50, 100]) {
    assert.ok(e.exact[`recall@${k}`] >= 0 && e.exact[`recall@${k}`] <= 1);
    assert.ok(Math.abs(e.annGap[`recall@${k}`] - (e.exact[`recall@${k}`] - e.ann[`recall@${k}`])) < 1e-12);
  }
  assert.ok(e.exact['recall@100'] >= e.exact['recall@10'] && e.exact['recall@10'] >= e.exact['recall@1']);
  const chance = 10 / e.corpus.count;
  assert.ok(e.exact['recall@10'] > 10 * chance, `a trained model beats chance (${chance.toFixed(4)}) tenfold: recall@10 ${e.exact['recall@10']}`);
  assert.ok(e.index.notes.some((n) => /nlist 64 clamped|nlist/.test(n)) || e.index.spec.nlist === 64);

  const metrics = readMetrics(runDir);
  assert.equal(metrics.evaluations.length, 1);
  assert.deepEqual(metrics.evaluations[0].exact, e.exact);

  const { records: failures, badLines } = readFailuresFile(r.failuresFile)!;
  assert.equal(badLines.length, 0);
  assert.equal(failures.length, e.failures.count);
  assert.equal(e.failures.search, 'exact');
  assert.ok(r.annFailuresFile && e.annFailures);
  assert.equal(e.annFailures.search, `IVF-PQ, nprobe ${String(e.index.spec.nprobe)}`);
  const annRead = readFailuresFile(r.annFailuresFile)!;
  assert.equal(annRead.records.length, e.annFailures.count);
  // Every number of a record comes from its one search: the top-k is sorted by the scores shown and the
  // positive's rank agrees with them (a positive below the top k scores at most the k-th item's score).
  for (const [list, name] of [
    [failures, e.failures.search],
    [annRead.records, e.annFailures.search],
  ] as const) {
    assert.ok(list.length > 0, name);
    for (const f of list) {
      assert.equal(f.search, name);
      assert.equal(
        evidenceProblem(f.label, f.evidence, e.failures.k, { nearDuplicate: 0.95, collapsedSpread: 0.02 }),
        null,
        `${f.label} without its evidence: ${f.labelReason}`,
      );
      assert.notEqual(f.label, 'ranked-low', 'with BM25 every failure has a more specific label');
      for (const m of f.evidence!.matchingTerms) {
        assert.ok(f.query.toLowerCase().includes(m.term) && f.positives.some((p) => shopItems.get(p.itemId)!.toLowerCase().includes(m.term)), m.term);
      }
      for (let j = 1; j < f.topK.length; j++) assert.ok(f.topK[j - 1].score >= f.topK[j].score, `${name}: top-k sorted by the shown score`);
      for (const p of f.positives) {
        if (p.score === null) {
          assert.equal(p.rank, null, 'only a positive the ANN search did not return has no score');
          assert.notEqual(name, 'exact');
        } else if (p.rank === null || p.rank > f.topK.length)
          assert.ok(p.score <= f.topK.at(-1)!.score + 1e-6, `${name}: positive ${p.score} ranked ${p.rank} vs k-th ${f.topK.at(-1)!.score}`);
      }
    }
  }

  assert.equal(
    Object.values(e.failures.byLabel).reduce((a, b) => a + b, 0),
    failures.length,
  );
  for (let i = 1; i < failures.length; i++) assert.ok(failures[i - 1].severity >= failures[i].severity, 'worst first');
  for (const f of failures.slice(0, 50)) {
    // Locations are exact: the recorded line of the test file is this query's record.
    assert.equal(f.source.file, SHOP_TEST);
    const rec = lineOf(f.source.file, f.source.line);
    assert.equal(rec.query_id, f.queryId);
    assert.equal(rec.query, f.query);
    assert.ok(f.rank === null || f.rank > 10);
    assert.equal(f.topK.length, 10);
    assert.ok(f.topK.every((t) => !t.relevant));
    for (const p of f.positives) assert.equal(lineOf(p.source.file, p.source.line).id, p.itemId);
    for (const t of f.topK) assert.equal(lineOf(t.source.file, t.source.line).id, t.itemId);
  }
  const evals = readEvents(path.join(runDir, 'events.jsonl')).events.filter((x): x is EvalEvent => x.type === 'eval');
  assert.equal(evals.at(-1)!.metrics['recall@10'], e.exact['recall@10']);
  assert.equal(evals.at(-1)!.metrics.failures, failures.length);
  assert.ok(logs.some((l) => /^index saved in/.test(l)));
  // BM25 beside the dense model: same queries and corpus, the third set of metrics, saved beside the Faiss index.
  assert.ok(e.bm25 && e.lexical, 'BM25 runs by default');
  assert.deepEqual(Object.keys(e.bm25), Object.keys(e.exact));
  assert.ok(e.bm25['recall@100'] >= e.bm25['recall@10'] && e.bm25['recall@10'] > 10 * chance, `BM25 recall@10 ${e.bm25['recall@10']}`);
  assert.equal(e.lexical.reused, false);
  assert.ok(fs.existsSync(path.join(runDir, 'checkpoints', 'last', 'index', 'bm25.bin')));
  assert.ok(
    logs.some((l) => /^BM25 index saved in/.test(l)),
    logs.join('\n'),
  );
  assert.equal(evals.at(-1)!.metrics['bm25/recall@10'], e.bm25['recall@10']);
});

test('the saved index is reused; a corrupt one is rebuilt with a message, never trusted', async () => {
  const before = readMetrics(runDir).evaluations.at(-1)!;
  const logs: string[] = [];
  const again = await evaluateRun({ runDir, log: (m) => logs.push(m) });
  assert.ok(
    logs.some((l) => /reusing the index/.test(l)),
    logs.join('\n'),
  );
  assert.ok(
    logs.some((l) => /reusing the BM25 index saved in/.test(l)),
    logs.join('\n'),
  );
  assert.equal(again.entry.lexical?.reused, true);
  assert.deepEqual(again.entry.bm25, before.bm25, 'the reused BM25 index ranks exactly as the built one');
  assert.deepEqual(again.entry.exact, before.exact);
  assert.deepEqual(again.entry.ann, before.ann);
  const indexFile = path.join(runDir, 'checkpoints', 'last', 'index', 'index.faiss');
  fs.truncateSync(indexFile, 100);
  const logs2: string[] = [];
  const third = await evaluateRun({ runDir, log: (m) => logs2.push(m) });
  assert.ok(
    logs2.some((l) => /unusable .*truncated.*rebuilding/.test(l)),
    logs2.join('\n'),
  );
  assert.deepEqual(third.entry.exact, before.exact);
  assert.equal(readMetrics(runDir).evaluations.length, 3);
  // evaluation.lexicalBaseline false: no BM25 (and no BM25 evidence: labels fall back to ranked-low where nothing else holds).
  const off = fs.mkdtempSync(path.join(path.dirname(runDir), 'nobm25-'));
  fs.cpSync(runDir, off, { recursive: true });
  fs.rmSync(path.join(off, 'eval'), { recursive: true, force: true });
  const cfgFile = path.join(off, 'config.json');
  const cfg = JSON.parse(fs.readFileSync(cfgFile, 'utf8'));
  cfg.evaluation.lexicalBaseline = false;
  fs.writeFileSync(cfgFile, JSON.stringify(cfg));
  const logs3: string[] = [];
  const noBm25 = await evaluateRun({ runDir: off, log: (m) => logs3.push(m) });
  assert.equal(noBm25.entry.bm25, null);
  assert.equal(noBm25.entry.lexical, null);
  assert.ok(!logs3.some((l) => /BM25/.test(l)), logs3.join('\n'));
  const offFailures = readFailuresFile(noBm25.failuresFile)!.records;
  assert.ok(offFailures.length > 0 && offFailures.every((f) => f.evidence!.bm25Rank === undefined && !['lexical-miss', 'hard-for-both'].includes(f.label)));
  assert.ok(offFailures.some((f) => f.label === 'ranked-low'));
  fs.rmSync(off, { recursive: true, force: true });
});

test('evaluation through the trainer process reports phases in order, then the result', async () => {
  const msgs: FromTrainer[] = [];
  const h = startEvaluation({ runDir, checkpoint: 'best', data: SHOP_TEST }, (m) => msgs.push(m), { onInvalid: (r) => assert.fail(r) });
  const done = await h.done;
  assert.equal(done?.status, 'completed');
  const phases = msgs.filter((m) => m.type === 'progress').map((m) => (m as { phase: string }).phase);
  const order = ['load', 'encode-corpus', 'encode-queries', 'build-index', 'search', 'triage'];
  const firstSeen = order.map((p) => phases.indexOf(p));
  assert.ok(
    firstSeen.every((i) => i >= 0),
    `all phases reported: ${[...new Set(phases)]}`,
  );
  assert.deepEqual(
    [...firstSeen].sort((a, b) => a - b),
    firstSeen,
    'in order',
  );
  const evaluated = msgs.find((m) => m.type === 'evaluated') as Extract<FromTrainer, { type: 'evaluated' }>;
  assert.equal(evaluated.entry.checkpoint, 'checkpoints/best');
  assert.ok(evaluated.entry.step === 30 || evaluated.entry.step === 60);
});

test('a missing run or checkpoint is a clear error', async () => {
  await assert.rejects(evaluateRun({ runDir: path.join(runDir, 'nope') }), /not a run folder/);
  const msgs: FromTrainer[] = [];
  const h = startEvaluation({ runDir: path.join(runDir, 'nope') }, (m) => msgs.push(m));
  const done = await h.done;
  assert.equal(done?.status, 'failed');
  assert.match(done!.error!.message, /not a run folder/);
});

/** The bundled example's corpus (id → text) and its word statistics, for hand-built triage cases. */
const shopItems = new Map(
  fs
    .readFileSync(SHOP_CORPUS, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const r = JSON.parse(l) as { id: string; text: string };
      return [r.id, r.text] as [string, string];
    }),
);
const shopTerms = new TermStats([...shopItems.values()]);
const T = { nearDuplicate: 0.95, collapsedSpread: 0.02 };
const LIMITS = { maxQueryTokens: 30, maxItemTokens: 100, charTrigrams: true };

/** A triage input on real items of the bundled example: `ids` retrieved (s(v, ·) from `sims`), pairwise s all `pairwise`. */
function shopCase(query: string, positive: string, ids: string[], sims: number[], pairwise: number, o: Partial<TriageInput> = {}): TriageInput {
  const retrieved = ids.map((id, i) => ({ id, text: shopItems.get(id) ?? id, simToPositive: sims[i], relevant: false }));
  return {
    query,
    positiveText: shopItems.get(positive)!,
    search: 'exact',
    rank: null,
    rankCutoff: 100,
    k: 10,
    retrieved,
    topScores: ids.map((_, i) => 0.9 - 0.01 * i),
    pairwise: Array.from({ length: (ids.length * (ids.length - 1)) / 2 }, () => pairwise),
    bm25: { rank: null },
    terms: shopTerms,
    limits: LIMITS,
    ...o,
  };
}

/** The label, checked to be backed by its evidence. */
function labelled(x: TriageInput) {
  const r = triage(x, T);
  assert.equal(evidenceProblem(r.label, r.evidence, x.k, T), null, `${r.label}: ${r.reason}`);
  return r;
}

test('triage: each label on hand-built cases of the bundled example, each with its evidence', () => {
  const diverse = ['p00001', 'p04810', 'p02187', 'p04741', 'p00500', 'p01000', 'p01500', 'p03000', 'p03500', 'p05000'];
  // A collapsed model: the retrieved items (different products) are mutually near-identical, and so is the
  // positive to all of them — collapsed-neighbourhood, not near-duplicate (nothing stands out from the rest).
  const col = labelled(
    shopCase(
      'loom 410 w36 l30',
      'p04818',
      diverse,
      diverse.map((_, i) => 0.995 - 0.001 * i),
      0.993,
    ),
  );
  assert.equal(col.label, 'collapsed-neighbourhood');
  assert.match(col.reason, /median s\(v̂ᵢ, v̂ⱼ\) 0\.993.*share a median \d+% of words/);
  // The same text under another id: a missing label.
  const sameText = triage(
    {
      ...shopCase(
        'loom 410 w36 l30',
        'p04818',
        diverse,
        diverse.map(() => 0.5),
        0.4,
      ),
      retrieved: [{ id: 'x-dup', text: 'LOOM 410 Bootcut  Selvedge Jeans W36 L30 Mid Blue', simToPositive: 0.99, relevant: false }],
    },
    T,
  );
  assert.equal(sameText.label, 'near-duplicate');
  assert.equal(evidenceProblem('near-duplicate', sameText.evidence, 10, T), null);
  assert.match(sameText.reason, /x-dup has the same normalised text/);
  // Close relative to the neighbourhood, and the query cannot tell them apart (W34 vs W36 not in the query).
  const jeans = ['p04816', 'p04810', 'p02187', 'p04741', 'p00500', 'p01000', 'p01500', 'p03000', 'p03500', 'p05000'];
  const nd = labelled(shopCase('loom 410 bootcut l30', 'p04818', jeans, [0.98, 0.6, 0.5, 0.5, 0.4, 0.4, 0.4, 0.3, 0.3, 0.3], 0.45));
  assert.equal(nd.label, 'near-duplicate');
  assert.match(
    nd.reason,
    /p04816 is s\(v, v̂\) 0\.980 from the positive vs a median 0\.400.*contains every query word the positive does \(loom, 410, bootcut, l30\).*differ in w36 \+w34/,
  );
  // A query that names the difference (w36) is a real distinction, not a near-duplicate: BM25 finds it → lexical miss.
  const lm = labelled(
    shopCase('loom 410 w36 l30', 'p04818', jeans, [0.98, 0.6, 0.5, 0.5, 0.4, 0.4, 0.4, 0.3, 0.3, 0.3], 0.45, { bm25: { rank: 1, score: 12.5 } }),
  );
  assert.equal(lm.label, 'lexical-miss');
  assert.match(lm.reason, /BM25 ranks the positive 1, the exact search >100; query terms in the positive: .*w36 \(idf \d+\.\d\d, df \d+\)/);
  const w36 = lm.evidence.matchingTerms.find((m) => m.term === 'w36')!;
  const loom = lm.evidence.matchingTerms.find((m) => m.term === 'loom')!;
  assert.equal(w36.df, [...shopItems.values()].filter((t) => /\bw36\b/i.test(t)).length, 'df counted over the corpus');
  assert.ok(lm.evidence.matchingTerms.indexOf(w36) < lm.evidence.matchingTerms.indexOf(loom) === w36.idf > loom.idf, 'rarest first');
  // Neither finds it: both ranks shown.
  const hb = labelled(
    shopCase('loom 410 w36 l30', 'p04818', jeans, [0.7, 0.6, 0.5, 0.5, 0.4, 0.4, 0.4, 0.3, 0.3, 0.3], 0.45, { rank: 37, bm25: { rank: 55, score: 3 } }),
  );
  assert.equal(hb.label, 'hard-for-both');
  assert.match(hb.reason, /exact rank 37, BM25 rank 55/);
  // The matching word lies beyond the item tower's features (maxItemTokens 5: w36 is word 6 of 9, trigrams start after).
  const tr = labelled(
    shopCase('loom w36', 'p04818', jeans, [0.7, 0.6, 0.5, 0.5, 0.4, 0.4, 0.4, 0.3, 0.3, 0.3], 0.45, {
      limits: { ...LIMITS, maxItemTokens: 5 },
      bm25: { rank: 1 },
    }),
  );
  assert.equal(tr.label, 'truncated');
  assert.match(tr.reason, /w36 is word 6 of 9 of the positive \(the item tower keeps 5 features\)/);
  // Without BM25 and without any other cause: ranked-low, saying so.
  const rl = labelled(shopCase('loom 410 w36 l30', 'p04818', jeans, [0.7, 0.6, 0.5, 0.5, 0.4, 0.4, 0.4, 0.3, 0.3, 0.3], 0.45, { rank: 37, bm25: undefined }));
  assert.equal(rl.label, 'ranked-low');
  assert.match(rl.reason, /no BM25 baseline/);
  // No label without its evidence: another label's evidence does not back it.
  assert.notEqual(evidenceProblem('lexical-miss', hb.evidence, 10, T), null);
  assert.notEqual(evidenceProblem('near-duplicate', col.evidence, 10, T), null);
  assert.notEqual(evidenceProblem('collapsed-neighbourhood', nd.evidence, 10, T), null);
  assert.notEqual(evidenceProblem('truncated', lm.evidence, 10, T), null);
  assert.notEqual(evidenceProblem('ranked-low', hb.evidence, 10, T), null);
  assert.notEqual(evidenceProblem('hard-for-both', lm.evidence, 10, T), null);
});

test('triage is honest: truncated only when the decisive (rarest) term was cut, not a common word such as "blue"', () => {
  // maxItemTokens 6: the positive's words 1–6 (loom … w36) are seen, "blue" (word 9) is not; w36 (df 65) is far
  // rarer than blue (df 760), and BM25 found the positive by it: a lexical miss, not a truncation.
  const jeans = ['p04816', 'p04810', 'p02187', 'p04741', 'p00500', 'p01000', 'p01500', 'p03000', 'p03500', 'p05000'];
  const x = shopCase('blue w36', 'p04818', jeans, [0.7, 0.6, 0.5, 0.5, 0.4, 0.4, 0.4, 0.3, 0.3, 0.3], 0.45, {
    limits: { ...LIMITS, maxItemTokens: 6 },
    bm25: { rank: 2 },
  });
  const r = labelled(x);
  assert.deepEqual(
    r.evidence.matchingTerms.map((m) => [m.term, m.positiveSeen]),
    [
      ['w36', true],
      ['blue', false],
    ],
  );
  assert.equal(r.label, 'lexical-miss', r.reason);
  // The decisive term itself cut off (maxItemTokens 5: w36 is word 6): truncated, naming it.
  const cut = labelled({ ...x, limits: { ...LIMITS, maxItemTokens: 5 } });
  assert.equal(cut.label, 'truncated');
  assert.match(cut.reason, /the decisive term .* w36 is word 6 of 9 of the positive \(the item tower keeps 5 features\)/);
  assert.doesNotMatch(cut.reason, /blue/);
});

test('triage is honest: no "missing label" when BM25 ranks the labelled positive first or the words mismatch', () => {
  const jeans = ['p04816', 'p04810', 'p02187', 'p04741', 'p00500', 'p01000', 'p01500', 'p03000', 'p03500', 'p05000'];
  const sims = [0.98, 0.6, 0.5, 0.5, 0.4, 0.4, 0.4, 0.3, 0.3, 0.3];
  // p04816 (W34) is as close as a near-duplicate, but BM25 puts the labelled W36 item first: the words tell them apart.
  const nd = labelled(shopCase('loom 410 bootcut l30', 'p04818', jeans, sims, 0.45, { bm25: { rank: 1, score: 14 } }));
  assert.equal(nd.label, 'near-duplicate');
  assert.doesNotMatch(nd.reason, /missing label/);
  assert.match(nd.reason, /BM25 ranks the labelled positive first/);
  // Without BM25's word it still is a likely missing label.
  assert.match(labelled(shopCase('loom 410 bootcut l30', 'p04818', jeans, sims, 0.45, { bm25: { rank: 4 } })).reason, /likely a missing label/);
  // A query sharing no word with the positive ("denim trousers": neither word is in the catalogue): a vocabulary mismatch.
  const vocab = labelled(shopCase('denim trousers', 'p04818', jeans, sims, 0.45, { bm25: { rank: null } }));
  assert.equal(vocab.label, 'near-duplicate');
  assert.doesNotMatch(vocab.reason, /missing label/);
  assert.match(vocab.reason, /vocabulary mismatch/);
  const hb = labelled(
    shopCase('denim trousers', 'p04818', jeans, [0.7, 0.6, 0.5, 0.5, 0.4, 0.4, 0.4, 0.3, 0.3, 0.3], 0.45, { rank: 40, bm25: { rank: null } }),
  );
  assert.equal(hb.label, 'hard-for-both');
  assert.doesNotMatch(hb.reason, /check the label/);
  assert.match(hb.reason, /vocabulary mismatch/);
});

test('triage is honest: a collapsed top-k is said under a lexical label too, and "fixed by hybrid" when the RRF ranking finds it', () => {
  // Three Loom 410 variants (their texts share ≥ 80% of words, so not collapsed-neighbourhood), mutually at cosine 0.97.
  const family = ['p04816', 'p04817', 'p04819'];
  const r = labelled(shopCase('loom 410 w36 l30', 'p04818', family, [0.9, 0.89, 0.88], 0.97, { bm25: { rank: 1 }, hybrid: { rank: 3 } }));
  assert.equal(r.label, 'lexical-miss');
  assert.ok(r.evidence.neighbourhood.wordOverlapMedian >= 0.5);
  assert.equal(r.evidence.collapsed, true);
  assert.match(r.reason, /the top 3 are also collapsed in the embedding \(median s\(v̂ᵢ, v̂ⱼ\) 0\.970 ≥ 0\.95\)/);
  assert.equal(r.evidence.hybridRank, 3);
  assert.match(r.reason, /fixed by hybrid \(RRF rank 3\)/);
  // Spread out (pairwise 0.45): nothing of the kind.
  const spread = labelled(shopCase('loom 410 w36 l30', 'p04818', family, [0.9, 0.89, 0.88], 0.45, { bm25: { rank: 1 }, hybrid: { rank: 40 } }));
  assert.equal(spread.evidence.collapsed, undefined);
  assert.doesNotMatch(spread.reason, /collapsed|fixed by hybrid/);
});

test('the failures file keeps every matching term the reason names, beyond the rarest 8', () => {
  // A long query matching all 9 words of the positive; a reason naming the 9th (the commonest, "blue").
  const x = shopCase('loom 410 bootcut selvedge jeans w36 l30 mid blue', 'p04818', ['p04816'], [0.7], 0.5, { bm25: { rank: 1 } });
  const r = triage(x, T);
  assert.equal(r.evidence.matchingTerms.length, 9);
  assert.equal(r.evidence.matchingTerms[8].term, 'blue');
  const record: FailureRecord = {
    v: 1,
    step: 1,
    search: 'exact',
    queryId: 'q1',
    query: x.query,
    source: { file: SHOP_TEST, line: 1 },
    rank: null,
    rankCutoff: 100,
    positives: [{ itemId: 'p04818', text: x.positiveText, rank: null, score: 0.1, source: { file: SHOP_CORPUS, line: 4818 } }],
    topK: [],
    label: 'truncated',
    labelReason: "matching terms beyond the towers' features: blue is word 9 of 9 of the positive",
    evidence: r.evidence,
    severity: 101,
  };
  const back = decodeFailures(encodeFailures([record])).records[0];
  assert.ok(
    back.evidence!.matchingTerms.some((m) => m.term === 'blue'),
    'the term the reason names is kept',
  );
  assert.equal(back.evidence!.matchingTerms.length, 9);
  // A reason naming none of the rest keeps the rarest 8.
  assert.equal(decodeFailures(encodeFailures([{ ...record, labelReason: 'lexical' }])).records[0].evidence!.matchingTerms.length, 8);
});

test("the towers' feature limits: words first, then each word's trigrams, cut at maxTokens", () => {
  const ws = ['loom', '410', 'w36'];
  assert.equal(wordSeen(ws, 2, 3), true, 'word feature 3 of 3');
  assert.equal(wordSeen(ws, 2, 2), false, 'word cut; trigrams start at 2 ≥ 2');
  assert.equal(wordSeen(['a', 'b', 'c', 'd'], 3, 3, true), false);
  // maxTokens 10, 3 words: trigrams of loom at 3..6, of 410 at 7..9, of w36 at 10 (cut).
  assert.equal(wordSeen([...ws, 'x', 'y', 'z', 'u', 'v', 'q', 'r', 's'], 10, 10), false);
  assert.equal(wordSeen(ws, 0, 0), false);
});

test('failures: ranks, scores and s(v, ·) on a hand-made corpus', () => {
  // 2-d unit vectors: the query points at item 0 and 1; its positive (item 3) is last.
  const corpusEmb = Float32Array.from([1, 0, 0.8, 0.6, 0.6, 0.8, 0, 1]);
  const queryEmb = Float32Array.from([1, 0]);
  const src = (line: number) => ({ file: '/c.jsonl', line });
  const corpus = ['a', 'b', 'c', 'd'].map((id, i) => ({ id, text: `item ${id}`, source: src(i + 1) }));
  const result = search(buildIndex(corpusEmb, 4, 2, { type: 'Flat' }), queryEmb, 1, 4);
  const { failures, byLabel } = findFailures({
    step: 7,
    queries: [{ id: 'q1', text: 'item d', source: { file: '/q.jsonl', line: 9 } }],
    qrels: new Map([['q1', new Set(['d'])]]),
    corpus,
    queryEmb,
    corpusEmb,
    dim: 2,
    result,
    k: 2,
    thresholds: { nearDuplicate: 0.95, collapsedSpread: 0.02 },
    search: 'exact',
    exactScores: true,
    terms: new TermStats(corpus.map((c) => c.text)),
    limits: LIMITS,
  });
  assert.equal(failures.length, 1);
  const f: FailureRecord = failures[0];
  assert.equal(f.rank, 4);
  assert.equal(f.positives[0].score, 0);
  assert.deepEqual(
    f.topK.map((t) => t.itemId),
    ['a', 'b'],
  );
  assert.ok(Math.abs(f.topK[1].score - 0.8) < 1e-6);
  assert.ok(Math.abs(f.topK[1].simToPositive - 0.6) < 1e-6);
  assert.ok(Math.abs(f.severity - (4 + 0.8)) < 1e-6);
  assert.equal(f.label, 'ranked-low');
  assert.equal(byLabel['ranked-low'], 1);
  // Found within k: not a failure.
  const ok = findFailures({
    step: 7,
    queries: [{ id: 'q1', text: 'x', source: src(1) }],
    qrels: new Map([['q1', new Set(['b'])]]),
    corpus,
    queryEmb,
    corpusEmb,
    dim: 2,
    result,
    k: 2,
    thresholds: { nearDuplicate: 0.95, collapsedSpread: 0.02 },
    search: 'exact',
    exactScores: true,
    terms: new TermStats(corpus.map((c) => c.text)),
    limits: LIMITS,
  });
  assert.equal(ok.failures.length, 0);
});

test("a collapsed embedding's failures are collapsed-neighbourhood, not near-duplicate; a spread one's are neither", () => {
  // 60 real items of the bundled example; queries are their own texts with the item as the positive.
  const items = [...shopItems.entries()]
    .filter((_, i) => i % 97 === 0)
    .slice(0, 60)
    .map(([id, text], i) => ({ id, text, source: { file: SHOP_CORPUS, line: i + 1 } }));
  const n = items.length;
  const dim = 16;
  const rng = seedrandom('collapse-triage');
  const unit = (v: number[]) => {
    const norm = Math.hypot(...v);
    return v.map((x) => x / norm);
  };
  const embed = (spread: number) =>
    Float32Array.from(Array.from({ length: n }, () => unit(Array.from({ length: dim }, (_, c) => (c === 0 ? 1 : 0) + spread * (rng() - 0.5)))).flat());
  const queries = items.map((it, i) => ({ id: `q${i}`, text: it.text, source: it.source }));
  const qrels = new Map(items.map((it, i) => [`q${i}`, new Set([it.id])]));
  const terms = new TermStats(items.map((it) => it.text));
  for (const [spread, collapsed] of [
    [0.01, true],
    [2, false],
  ] as const) {
    const corpusEmb = embed(spread);
    // Queries point away from their positive: every query fails.
    const queryEmb = Float32Array.from(
      Array.from({ length: n }, (_, i) => Array.from(corpusEmb.subarray(((i + n / 2) % n) * dim, (((i + n / 2) % n) + 1) * dim))).flat(),
    );
    const result = search(buildIndex(corpusEmb, n, dim, { type: 'Flat' }), queryEmb, n, 30);
    const { failures, byLabel } = findFailures({
      step: 1,
      queries,
      qrels,
      corpus: items,
      queryEmb,
      corpusEmb,
      dim,
      result,
      k: 10,
      thresholds: T,
      search: 'exact',
      exactScores: true,
      terms,
      limits: LIMITS,
      bm25: null,
    });
    assert.ok(failures.length > n / 2, `${failures.length} failures`);
    for (const f of failures) assert.equal(evidenceProblem(f.label, f.evidence, 10, T), null, `${f.label}: ${f.labelReason}`);
    if (collapsed) {
      assert.equal(byLabel['collapsed-neighbourhood'], failures.length, JSON.stringify(byLabel));
      assert.equal(byLabel['near-duplicate'], 0);
    } else {
      assert.equal(byLabel['collapsed-neighbourhood'], 0, JSON.stringify(byLabel));
      assert.ok(byLabel['near-duplicate'] < failures.length / 4, JSON.stringify(byLabel));
    }
  }
});

test('periodic evaluation during training writes eval events and picks the best checkpoint by it', async () => {
  const exp = smallExperiment({
    data: { test: SHOP_TEST, corpus: SHOP_CORPUS },
    training: { steps: 30, logEvery: 10, checkpointEvery: 10 },
    evaluation: { every: 10, heldOutQueries: 100 },
  });
  const r = await runTraining({ loaded: loadConfig(exp.config), backend });
  const evals = readEvents(path.join(r.runDir, 'events.jsonl')).events.filter((x): x is EvalEvent => x.type === 'eval');
  assert.deepEqual(
    evals.map((e) => e.step),
    [10, 20, 30],
  );
  assert.ok(evals.every((e) => e.metrics.queries === 100));
  const m = readMetrics(r.runDir);
  assert.ok(m.evaluations.every((x) => x.queries.subset && x.ann === null));
  const meta = JSON.parse(fs.readFileSync(path.join(r.runDir, 'meta.json'), 'utf8'));
  assert.equal(meta.checkpoints.best.metric, 'eval recall@10 (held-out queries)');
  const recallAt10 = (e: EvalEvent) => e.metrics['recall@10'] as number;
  const bestEval = evals.reduce((a, b) => (recallAt10(b) > recallAt10(a) ? b : a));
  assert.equal(meta.checkpoints.best.value, recallAt10(bestEval));
});

test('hybrid (RRF k=60) and term coverage on a real run of the bundled example (real faiss, real BM25, real training data)', async () => {
  const r = await evaluateRun({ runDir, checkpoint: 'last' });
  const e = r.entry;
  assert.deepEqual(e.fusion, { method: 'RRF', k: 60, dense: 'exact' });
  assert.ok(e.hybrid && e.exact && e.bm25);
  // The fusion written out here on the same rankings: faiss Flat over the checkpoint's embeddings and BM25.
  const loaded = loadRunConfig(runDir);
  const { params } = loadCheckpoint(path.join(runDir, 'checkpoints', 'last'));
  const data = await loadEvalData(loaded);
  const items = await data.corpus.items(data.corpus.ids.map((_, i) => i));
  const enc = (texts: string[], tower: 'query' | 'item') =>
    encodeFeatures(
      params,
      tower,
      texts.map((t) => featurize(t, featurizeOptions(loaded.config.model, tower))),
    );
  const corpusEmb = enc(
    items.map((it) => it.text),
    'item',
  );
  const queryEmb = enc(
    data.queries.map((q) => q.text),
    'query',
  );
  const dim = params.dims.out;
  const dense = search(buildIndex(corpusEmb, items.length, dim, { type: 'Flat' }), queryEmb, data.queries.length, 100);
  const lexical = Bm25Index.build(items.map((it) => it.text)).search(
    data.queries.map((q) => q.text),
    100,
  );
  let hits = 0;
  let counted = 0;
  data.queries.forEach((q, qi) => {
    const relevant = data.qrels.get(q.id);
    if (!relevant || relevant.size === 0) return;
    const score = new Map<number, number>();
    const denseRank = new Map<number, number>();
    for (const [res, isDense] of [
      [dense, true],
      [lexical, false],
    ] as const) {
      let rank = 0;
      for (let j = 0; j < 100; j++) {
        const row = res.labels[qi * 100 + j];
        if (row < 0) continue;
        rank++;
        score.set(row, (score.get(row) ?? 0) + 1 / (60 + rank));
        if (isDense) denseRank.set(row, rank);
      }
    }
    const top = [...score.keys()]
      .sort((a, b) => score.get(b)! - score.get(a)! || (denseRank.get(a) ?? Infinity) - (denseRank.get(b) ?? Infinity) || a - b)
      .slice(0, 10);
    const found = top.filter((row) => relevant.has(items[row].id)).length;
    hits += found / Math.min(10, relevant.size);
    counted++;
  });
  assert.ok(Math.abs(e.hybrid['recall@10'] - hits / counted) < 1e-12, `hybrid recall@10 ${e.hybrid['recall@10']} vs ${hits / counted} written out`);

  // "fixed by hybrid": the failures whose RRF rank is within the top 10, counted and said.
  const failures = readFailuresFile(r.failuresFile)!.records;
  const fixed = failures.filter((f) => f.evidence?.hybridRank != null && f.evidence.hybridRank <= 10);
  assert.ok(fixed.length > 0, 'on the bundled example the fusion finds some of what the dense search missed');
  assert.equal(e.failures.fixedByHybrid, fixed.length);
  for (const f of failures) assert.equal(/fixed by hybrid/.test(f.labelReason), fixed.includes(f), f.labelReason);

  // Term coverage: the decisive term's training pairs, counted here by a plain scan of train.jsonl.
  const train = fs
    .readFileSync(SHOP_TRAIN, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { query: string; positive: string });
  const words = (t: string) => new Set(t.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []);
  const trainWords = train.map((p) => new Set([...words(p.query), ...words(p.positive)]));
  const misses = failures.filter((f) => f.label === 'lexical-miss');
  assert.ok(misses.length > 0);
  const groups: Record<string, number> = {};
  for (const f of misses) {
    const c = f.evidence!.termCoverage!;
    assert.equal(c.term, f.evidence!.matchingTerms[0].term, 'the rarest matching term');
    assert.equal(c.trainingPairs, trainWords.filter((w) => w.has(c.term)).length, c.term);
    const group =
      c.trainingPairs === 0 ? 'term never seen in training' : c.trainingPairs < 10 ? 'term seen 1–9 times in training' : 'term seen ≥ 10 times in training';
    assert.match(f.labelReason, new RegExp(`the decisive term "${c.term}" is in ${c.trainingPairs} training pairs?: ${group}`));
    groups[group] = (groups[group] ?? 0) + 1;
  }
  assert.deepEqual(e.failures.byCoverage, groups);
  for (const f of failures) if (f.label !== 'lexical-miss') assert.equal(f.evidence?.termCoverage, undefined);

  // The CLI table says all three: the hybrid column, "fixed by hybrid" and the coverage split, with these numbers.
  const table = formatEvalSummary(e);
  const pct = (x: number) => (100 * x).toFixed(1);
  assert.match(table, /hybrid RRF k=60/, table);
  assert.match(table, new RegExp(`recall@10 .*${pct(e.hybrid['recall@10']).replace('.', '\\.')}`), table);
  assert.ok(table.includes(`fixed by hybrid (the RRF ranking has a relevant item in the top 10): ${fixed.length} of ${e.failures.count}`), table);
  for (const [group, n] of Object.entries(groups)) assert.ok(table.includes(`${group} ${n}`), `${group} ${n} in\n${table}`);
  // And the entry is one of the run format (schemas/run-events.schema.json definitions.evalEntry).
  assert.equal(schemaProblem(EvalEntrySchema, e, 'eval/metrics.json'), null);
});
