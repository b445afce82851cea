import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { TRIAGE_LABELS, type FailureRecord, type TriageLabel } from '../src/core/eval/types';
import { startEvaluation, startTrainer } from '../src/trainer/client';
import type { FromTrainer } from '../src/trainer/protocol';
import { renderFailureDetail, escapeMarkdown } from '../src/extension/failureDetail';
import { evaluationSummary } from '../src/extension/evaluationSummary';
import { failureKey, flattenGroups, formatRank, groupFailures, stepIndex } from '../src/extension/failureGroups';
import { evaluationTime, parseFailures, readEvalEntries, readFailures } from '../src/extension/failureRecords';
import { smallExperiment, SHOP_CORPUS, SHOP_TEST } from './helpers/smallExperiment';

/** A failure record in the evaluator's shape. */
function failure(queryId: string, label: TriageLabel, severity: number, o: { rank?: number | null; line?: number; query?: string } = {}): FailureRecord {
  const file = '/data/test.jsonl';
  return {
    v: 1, step: 300, queryId, query: o.query ?? `query ${queryId}`, source: { file, line: o.line ?? 1 },
    rank: o.rank === undefined ? 37 : o.rank, rankCutoff: 100,
    positives: [{ itemId: 'p1', text: 'Acme Phone X12 | 256GB', rank: o.rank === undefined ? 37 : o.rank, score: 0.61, source: { file: '/data/corpus.jsonl', line: 1 } }],
    topK: [
      { itemId: 'p2', text: 'Acme Phone X13 256GB', score: 0.83, simToPositive: 0.97, relevant: false, source: { file: '/data/corpus.jsonl', line: 2 } },
      { itemId: 'p3', text: 'Acme *Phone* X12 128GB', score: 0.8, simToPositive: 0.91, relevant: false, source: { file: '/data/corpus.jsonl', line: 3 } },
    ],
    label, labelReason: `reason of ${queryId}`, severity,
  };
}

test('failures are grouped by triage label, the largest group first, worst first inside a group', () => {
  const records = [
    failure('a', 'ranked-low', 0.2),
    failure('b', 'near-duplicate', 0.5),
    failure('c', 'ranked-low', 0.9),
    failure('d', 'missing-terms', 0.7),
    failure('e', 'near-duplicate', 0.5),
    failure('f', 'ranked-low', 0.4),
    failure('g', 'near-duplicate', 0.8),
    failure('h', 'collapsed-neighbourhood', 0.1),
    failure('i', 'missing-terms', 0.6),
  ];
  const groups = groupFailures(records);
  assert.deepEqual(groups.map((g) => [g.label, g.items.length]), [
    ['near-duplicate', 3], // ties on size keep TRIAGE_LABELS order
    ['ranked-low', 3],
    ['missing-terms', 2],
    ['collapsed-neighbourhood', 1],
  ]);
  assert.deepEqual(groups[0].items.map((r) => r.queryId), ['g', 'b', 'e'], 'severity descending; equal severities keep file order');
  assert.deepEqual(groups[1].items.map((r) => r.queryId), ['c', 'f', 'a']);
  assert.deepEqual(flattenGroups(groups).map((r) => r.queryId), ['g', 'b', 'e', 'c', 'f', 'a', 'd', 'i', 'h']);
  assert.deepEqual(groupFailures([]), []);
});

test('next / previous walk the tree order and wrap around', () => {
  assert.equal(stepIndex(5, null, 1), 0, 'Next starts at the first');
  assert.equal(stepIndex(5, null, -1), 4, 'Previous starts at the last');
  assert.equal(stepIndex(5, 0, 1), 1);
  assert.equal(stepIndex(5, 4, 1), 0, 'wraps forward');
  assert.equal(stepIndex(5, 0, -1), 4, 'wraps backward');
  assert.equal(stepIndex(5, 9, 1), 0, 'a stale index restarts');
  assert.equal(stepIndex(0, null, 1), -1);
  // A full walk forward visits every failure once and comes back; backward is the reverse.
  const flat = flattenGroups(groupFailures(['a', 'b', 'c', 'd'].map((id, i) => failure(id, TRIAGE_LABELS[i % 2], i))));
  const walk = (dir: 1 | -1) => {
    const seen: string[] = [];
    let at: number | null = null;
    for (let i = 0; i <= flat.length; i++) seen.push(flat[(at = stepIndex(flat.length, at, dir))].queryId);
    return seen;
  };
  assert.deepEqual(walk(1), [...flat.map((r) => r.queryId), flat[0].queryId]);
  assert.deepEqual(walk(-1), [...flat.map((r) => r.queryId).reverse(), flat.at(-1)!.queryId]);
  assert.notEqual(failureKey(failure('a', 'ranked-low', 1, { line: 3 })), failureKey(failure('a', 'ranked-low', 1, { line: 4 })));
});

test('failures.jsonl reading skips malformed lines (with their numbers) and tolerates an unterminated last line', () => {
  const good = JSON.stringify(failure('a', 'ranked-low', 1));
  const text = [good, '{not json', JSON.stringify({ ...failure('b', 'near-duplicate', 1), label: 'bogus' }), '', JSON.stringify(failure('c', 'missing-terms', 2)), good.slice(0, 30)].join('\n');
  const r = parseFailures(text);
  assert.deepEqual(r.records.map((x) => x.queryId), ['a', 'c']);
  assert.deepEqual(r.badLines.map((b) => b.line), [2, 3]);
  assert.match(r.badLines[1].reason, /label/);
});

test('the detail document shows the query, the positive with its rank, and the top-k with s(q,·) and s(v,·), escaped', () => {
  const md = renderFailureDetail(failure('te-7', 'near-duplicate', 1, { rank: null, line: 12, query: 'acme | x12 *pro*' }), { baseDir: '/data', staleWarning: 'test.jsonl changed' });
  assert.match(md, /^# acme \\\| x12 \\\*pro\\\*$/m);
  assert.match(md, /⚠️ test.jsonl changed/);
  assert.match(md, /at test.jsonl:12/);
  assert.match(md, /\*\*Best positive\*\*: rank >100/);
  assert.match(md, /\| >100 \| `p1` \| 0\.610 \| Acme Phone X12 \\\| 256GB \|/);
  // Query words in the retrieved texts are bold.
  assert.match(md, /\| 1 \| `p2` \| 0\.830 \| 0\.970 \| \*\*Acme\*\* Phone X13 256GB \|/);
  assert.match(md, /\| 2 \| `p3` \| 0\.800 \| 0\.910 \| \*\*Acme\*\* \\\*Phone\\\* \*\*X12\*\* 128GB \|/);
  // Every table row has the header's number of cells (escaped pipes do not split cells).
  for (const row of md.split('\n').filter((l) => l.startsWith('| '))) {
    const cells = row.replace(/\\\|/g, '').split('|').length - 2;
    assert.ok(cells === 4 || cells === 5, row);
  }
  assert.equal(escapeMarkdown('a\nb'), 'a b');
  assert.equal(formatRank(failure('x', 'ranked-low', 1, { rank: 12 })), 'rank 12');
});

test('a real evaluation\'s failures.jsonl: every record is read, grouped as the evaluator counted, with its source line', async () => {
  const exp = smallExperiment({ data: { test: SHOP_TEST, corpus: SHOP_CORPUS }, training: { steps: 30, logEvery: 10, checkpointEvery: 30 } });
  try {
    const trained = await new Promise<string>((resolve, reject) => {
      const h = startTrainer({ configPath: exp.config, overrides: [] }, () => undefined);
      void h.done.then((d) => (d?.status === 'completed' && d.runDir ? resolve(d.runDir) : reject(new Error(`training ${d?.status}`))));
    });
    const messages: FromTrainer[] = [];
    const ev = startEvaluation({ runDir: trained }, (m) => messages.push(m));
    const done = await ev.done;
    assert.equal(done?.status, 'completed', JSON.stringify(messages.filter((m) => m.type === 'error')));
    const evaluated = messages.find((m): m is Extract<FromTrainer, { type: 'evaluated' }> => m.type === 'evaluated');
    assert.ok(evaluated);
    const read = readFailures(trained);
    assert.ok(read);
    assert.deepEqual(read.badLines, []);
    assert.equal(read.records.length, evaluated.entry.failures.count);
    const groups = groupFailures(read.records);
    for (const g of groups) assert.equal(g.items.length, evaluated.entry.failures.byLabel[g.label], g.label);
    assert.equal(flattenGroups(groups).length, read.records.length);
    const lines = fs.readFileSync(SHOP_TEST, 'utf8').split('\n');
    for (const r of read.records.slice(0, 50)) {
      assert.equal(r.source.file, SHOP_TEST);
      assert.equal(JSON.parse(lines[r.source.line - 1]).query_id, r.queryId, 'the recorded line holds the query');
    }
    const entries = readEvalEntries(trained);
    assert.equal(entries.length, 1);
    assert.equal(evaluationTime(trained)?.toISOString(), new Date(entries[0].time).toISOString());
    assert.equal(readFailures(path.join(os.tmpdir(), 'no-such-run')), null);
  } finally {
    fs.rmSync(exp.dir, { recursive: true, force: true });
  }
});

test('the toast names the search of every number; the detail names its search and an unreturned positive has no score', () => {
  const byLabel = Object.fromEntries(TRIAGE_LABELS.map((l) => [l, 0])) as Record<TriageLabel, number>;
  const entry = {
    step: 5, time: '', checkpoint: 'checkpoints/last', queries: { source: '', count: 10, withoutRelevant: 0, subset: false }, corpus: { source: '', count: 100 },
    index: { spec: { type: 'IVF-PQ', nprobe: 16 }, notes: [], buildMs: 0, searchMs: 0 }, encodeMs: 0,
    exact: { 'recall@10': 0.307 }, ann: { 'recall@10': 0.236 }, annGap: { 'recall@10': 0.071 },
    failures: { k: 10, count: 4, byLabel, search: 'exact', file: 'failures.jsonl' },
    annFailures: { k: 10, count: 6, byLabel, search: 'IVF-PQ, nprobe 16', file: 'failures-ann.jsonl' },
  };
  assert.equal(evaluationSummary(entry), 'exact: recall@10 0.307, 4 failing queries · IVF-PQ, nprobe 16: recall@10 0.236, 6 failing queries');
  assert.equal(evaluationSummary({ ...entry, bm25: { 'recall@10': 0.612 } }), 'exact: recall@10 0.307, 4 failing queries · IVF-PQ, nprobe 16: recall@10 0.236, 6 failing queries · BM25: recall@10 0.612');
  const r = failure('te-1', 'ranked-low', 1, { rank: null });
  r.search = 'IVF-PQ, nprobe 16';
  r.positives[0].score = null;
  const md = renderFailureDetail(r);
  assert.match(md, /\*\*Search\*\*: IVF-PQ, nprobe 16 — every rank and s\(q, ·\) below is this search's/);
  assert.match(md, /\| >100 \| `p1` \| not returned by IVF-PQ, nprobe 16 \|/);
});
