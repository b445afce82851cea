import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { TRIAGE_LABELS, type FailureRecord, type TriageLabel } from '../../src/core/eval/types';
import { startEvaluation, startTrainer } from '../../src/trainer/client';
import type { FromTrainer } from '../../src/trainer/protocol';
import { renderFailureDetail } from '../../src/extension/failures/failureDetail';
import { evaluationSummary } from '../../src/extension/evaluation/evaluationSummary';
import { nprobeEdit, suggestedNprobe } from '../../src/extension/evaluation/nprobeFix';
import { ItemTextReader } from '../../src/extension/failures/itemTexts';
import { encodeFailures } from '../../src/core/eval/failuresFile';
import { failureKey, flattenGroups, formatRank, groupDescription, groupFailures, stepIndex } from '../../src/extension/failures/failureGroups';
import { itemTextFromLine } from '../../src/core/data/itemText';
import { evaluationTime, parseFailures, readEvalEntries, readFailures } from '../../src/extension/failures/failureRecords';
import { smallExperiment, SHOP_CORPUS, SHOP_TEST } from '../helpers/smallExperiment';

/** A text with one replacement applied. */
function applyEditText(text: string, e: { offset: number; length: number; content: string }): string {
  return text.slice(0, e.offset) + e.content + text.slice(e.offset + e.length);
}

/** A failure record in the evaluator's shape. */
function failure(queryId: string, label: TriageLabel, severity: number, o: { rank?: number | null; line?: number; query?: string } = {}): FailureRecord {
  const file = '/data/test.jsonl';
  return {
    v: 1,
    step: 300,
    queryId,
    query: o.query ?? `query ${queryId}`,
    source: { file, line: o.line ?? 1 },
    rank: o.rank === undefined ? 37 : o.rank,
    rankCutoff: 100,
    positives: [
      { itemId: 'p1', text: 'Acme Phone X12 | 256GB', rank: o.rank === undefined ? 37 : o.rank, score: 0.61, source: { file: '/data/corpus.jsonl', line: 1 } },
    ],
    topK: [
      { itemId: 'p2', text: 'Acme Phone X13 256GB', score: 0.83, simToPositive: 0.97, relevant: false, source: { file: '/data/corpus.jsonl', line: 2 } },
      { itemId: 'p3', text: 'Acme *Phone* X12 128GB', score: 0.8, simToPositive: 0.91, relevant: false, source: { file: '/data/corpus.jsonl', line: 3 } },
    ],
    label,
    labelReason: `reason of ${queryId}`,
    severity,
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
  assert.deepEqual(
    groups.map((g) => [g.label, g.items.length]),
    [
      ['near-duplicate', 3], // ties on size keep TRIAGE_LABELS order
      ['ranked-low', 3],
      ['missing-terms', 2],
      ['collapsed-neighbourhood', 1],
    ],
  );
  assert.deepEqual(
    groups[0].items.map((r) => r.queryId),
    ['g', 'b', 'e'],
    'severity descending; equal severities keep file order',
  );
  assert.deepEqual(
    groups[1].items.map((r) => r.queryId),
    ['c', 'f', 'a'],
  );
  assert.deepEqual(
    flattenGroups(groups).map((r) => r.queryId),
    ['g', 'b', 'e', 'c', 'f', 'a', 'd', 'i', 'h'],
  );
  assert.deepEqual(groupFailures([]), []);
});

test('lexical misses are split by the training coverage of their decisive term', () => {
  const miss = (id: string, pairs: number | null, severity: number): FailureRecord => {
    const f = failure(id, 'lexical-miss', severity);
    if (pairs === null) return f;
    const term = { term: 'x12', df: 3, idf: 7.1, queryWord: 3, positiveWord: 3, querySeen: true, positiveSeen: true };
    const neighbourhood = { simToPositiveMedian: 0.9, pairwiseMedian: 0.5, pairwiseMin: 0.4, wordOverlapMedian: 0.2, scoreSpread: 0.1 };
    return {
      ...f,
      evidence: {
        rank: null,
        bm25Rank: 2,
        matchingTerms: [term],
        corpusSize: 100,
        limits: { maxQueryTokens: 30, maxItemTokens: 100, queryWords: 3, positiveWords: 4 },
        neighbourhood,
        termCoverage: { term: 'x12', trainingPairs: pairs },
      },
    };
  };
  const groups = groupFailures([miss('a', 0, 5), miss('b', 3, 4), miss('c', 0, 6), miss('d', 40, 1), miss('e', null, 2), failure('f', 'hard-for-both', 3)]);
  assert.deepEqual(
    groups.map((g) => [g.title, g.items.map((r) => r.queryId).join('')]),
    [
      ['lexical miss · term never seen in training', 'ca'],
      ['lexical miss · term seen 1–9 times in training', 'b'],
      ['lexical miss · term seen ≥ 10 times in training', 'd'],
      ['lexical miss', 'e'],
      ['hard for both', 'f'],
    ],
  );
  assert.equal(new Set(groups.map((g) => g.key)).size, groups.length, 'each group its own tree id');
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
  const text = [
    good,
    '{not json',
    JSON.stringify({ ...failure('b', 'near-duplicate', 1), label: 'bogus' }),
    '',
    JSON.stringify(failure('c', 'missing-terms', 2)),
    good.slice(0, 30),
  ].join('\n');
  const r = parseFailures(text);
  assert.deepEqual(
    r.records.map((x) => x.queryId),
    ['a', 'c'],
  );
  assert.deepEqual(
    r.badLines.map((b) => b.line),
    [2, 3],
  );
  assert.match(r.badLines[1].reason, /label/);
});

test('the detail shows the query, the positive with its rank, and the top-k with s(q,·) and s(v,·), escaped, each item linked to its line', () => {
  const html = renderFailureDetail(failure('te-7', 'near-duplicate', 1, { rank: null, line: 12, query: 'acme | x12 *pro* <b>' }), {
    baseDir: '/data',
    staleWarning: 'test.jsonl changed',
  });
  assert.match(html, /^<h1>acme \| x12 \*pro\* &lt;b&gt;<\/h1>$/m, 'the query text is escaped, not markup');
  assert.match(html, /⚠️ test.jsonl changed/);
  assert.match(html, /at <a href="#" data-file="\/data\/test.jsonl" data-line="12"[^>]*>test.jsonl:12<\/a>/);
  assert.match(html, /<b>Best positive<\/b>: rank &gt;100/);
  assert.match(
    html,
    /<td class="num">&gt;100<\/td><td class="item"><a href="#" data-file="[^"]+" data-line="\d+"[^>]*>p1<\/a><\/td><td class="num">0\.610<\/td><td class="text">Acme Phone X12 \| 256GB<\/td>/,
  );
  // Query words in the retrieved texts are bold; every retrieved item links to its corpus line.
  assert.match(
    html,
    /<td class="num">1<\/td><td class="item"><a href="#" data-file="[^"]+" data-line="\d+" title="Open the corpus line [^"]+">p2<\/a><\/td><td class="num">0\.830<\/td><td class="num">0\.970<\/td><td class="text"><b>Acme<\/b> Phone X13 256GB<\/td>/,
  );
  assert.match(html, /<b>Acme<\/b> \*Phone\* <b>X12<\/b> 128GB/);
  assert.equal((html.match(/<tr><td/g) ?? []).length, 1 + 2, 'one positive row and the two retrieved rows');
  assert.equal(formatRank(failure('x', 'ranked-low', 1, { rank: 12 })), 'rank 12');
});

test("a real evaluation's failures.jsonl: every record is read, grouped as the evaluator counted, with its source line", async () => {
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
    // A file that scales: items by id and source line, text once as a ≤ 80-character snippet, the full text read on demand.
    const bytes = fs.statSync(path.join(trained, 'eval', 'failures.jsonl')).size;
    assert.ok(bytes / read.records.length <= 2048, `${(bytes / read.records.length).toFixed(0)} bytes per failing query`);
    const fileText = fs.readFileSync(path.join(trained, 'eval', 'failures.jsonl'), 'utf8');
    const itemLines = fileText.split('\n').filter((l) => l.startsWith('{"item":'));
    assert.equal(new Set(itemLines.map((l) => (JSON.parse(l) as { item: string }).item)).size, itemLines.length, 'each item stored once');
    const corpusText = new Map(
      fs
        .readFileSync(SHOP_CORPUS, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => {
          const o = JSON.parse(l) as { id: string; text: string };
          return [o.id, o.text] as [string, string];
        }),
    );
    const reader = new ItemTextReader();
    for (const r of read.records.slice(0, 50)) {
      for (const it of [...r.positives, ...r.topK]) {
        assert.ok(it.snippet && it.text.length <= 60, it.text);
        assert.ok(corpusText.get(it.itemId)!.startsWith(it.text.replace(/…$/, '')), 'the snippet is the start of the text');
      }
      const full = await reader.withFullTexts(r);
      for (const it of [...full.positives, ...full.topK]) {
        assert.equal(it.text, corpusText.get(it.itemId), "the full text read from the item's source line");
        assert.equal(it.snippet, false);
      }
      assert.match(renderFailureDetail(full), new RegExp(`<h2>Top ${r.topK.length} retrieved</h2>`));
    }
    const entries = readEvalEntries(trained);
    // The live held-out evaluations of training (on by default with test data), then the one full evaluation.
    const full = entries.filter((e) => !e.queries.subset);
    assert.equal(full.length, 1);
    assert.equal(entries.at(-1), full[0]);
    assert.equal(evaluationTime(trained)?.toISOString(), new Date(full[0].time).toISOString());
    assert.equal(readFailures(path.join(os.tmpdir(), 'no-such-run')), null);
  } finally {
    fs.rmSync(exp.dir, { recursive: true, force: true });
  }
});

test('an old (format 1) failures file still opens: records, groups with the old labels, detail without evidence', async () => {
  const text = fs.readFileSync(path.join(__dirname, '../fixtures', 'data', 'failures-format1.jsonl'), 'utf8');
  const read = parseFailures(text);
  assert.deepEqual(read.badLines, []);
  assert.equal(read.records.length, 6);
  const groups = groupFailures(read.records);
  assert.deepEqual(groups.map((g) => g.label).sort(), ['missing-terms', 'near-duplicate', 'ranked-low']);
  for (const r of read.records) {
    assert.equal(r.evidence, undefined);
    assert.ok(
      r.topK.every((t) => !t.snippet && t.text.length > 0),
      'format 1 has the full texts',
    );
    const html = renderFailureDetail(await new ItemTextReader().withFullTexts(r));
    assert.match(html, /<h2>Top 10 retrieved<\/h2>/);
    assert.match(html, /<b>Search<\/b>: <span data-role="search">the configured index<\/span>/);
    assert.doesNotMatch(html, /<h2>Evidence<\/h2>/);
  }
});

test('format 2: items once by id and source, snippets, a record whose item line is missing is a located bad line', () => {
  const a = failure('q1', 'lexical-miss', 5);
  const b = failure('q2', 'hard-for-both', 3);
  a.topK[0].text = 'x'.repeat(200);
  const text = encodeFailures([a, b]);
  const lines = text.trim().split('\n');
  assert.equal(lines.filter((l) => l.startsWith('{"item":')).length, 3, 'p1, p2, p3 once each');
  assert.equal(lines.filter((l) => l.startsWith('{"file":')).length, 2, 'the query file and the corpus file once each');
  assert.match(lines[0], /^\{"kind":"header","v":2,"step":300,/);
  const back = parseFailures(text);
  assert.deepEqual(back.badLines, []);
  assert.deepEqual(
    back.records.map((r) => [r.queryId, r.label, r.rank, r.source.file, r.source.line]),
    [
      ['q1', 'lexical-miss', 37, '/data/test.jsonl', 1],
      ['q2', 'hard-for-both', 37, '/data/test.jsonl', 1],
    ],
  );
  assert.equal(back.records[0].topK[0].text, 'x'.repeat(59) + '…');
  assert.equal(back.records[0].step, 300);
  assert.deepEqual(
    back.records[0].topK.map((t) => [t.itemId, t.score, t.simToPositive, t.relevant, t.source.line]),
    [
      ['p2', 0.83, 0.97, false, 2],
      ['p3', 0.8, 0.91, false, 3],
    ],
  );
  const broken = lines.filter((l) => !l.startsWith('{"item":"p3"')).join('\n') + '\n';
  const bad = parseFailures(broken);
  assert.equal(bad.records.length, 0);
  assert.deepEqual(
    bad.badLines.map((b) => b.reason),
    ['item "p3" has no item line', 'item "p3" has no item line'],
  );
  assert.ok(bad.badLines.every((b) => b.line > 0));
});

test('group rows give count and share; item texts come back from corpus, JSONL-pair and TSV lines', () => {
  assert.equal(groupDescription(42, 120), '42 · 35%');
  assert.equal(groupDescription(1, 300), '1 · <1%');
  assert.equal(groupDescription(5, 5), '5 · 100%');
  assert.equal(itemTextFromLine('{"_id":"d1","title":"Loom","text":"410 jeans"}', '/c.jsonl', 1, 'd1'), 'Loom 410 jeans');
  assert.equal(
    itemTextFromLine('{"query":"q","positive":{"id":"p1","text":"Red shoe"},"negatives":[{"id":"n1","text":"Blue hat"}]}', '/t.jsonl', 3, 'n1'),
    'Blue hat',
  );
  assert.equal(itemTextFromLine('red shoe\tRed Shoe 42\tp9', '/t.tsv', 2, 'p9'), 'Red Shoe 42');
  assert.equal(itemTextFromLine('{"id":"other","text":"x"}', '/c.jsonl', 1, 'd1'), null, 'the line no longer holds the item');
});

test('the toast names the search of every number; the detail names its search and an unreturned positive has no score', () => {
  const byLabel = Object.fromEntries(TRIAGE_LABELS.map((l) => [l, 0])) as Record<TriageLabel, number>;
  const entry = {
    step: 5,
    time: '',
    checkpoint: 'checkpoints/last',
    queries: { source: '', count: 10, withoutRelevant: 0, subset: false },
    corpus: { source: '', count: 100 },
    index: { spec: { type: 'IVF-PQ', nprobe: 16 }, notes: [], buildMs: 0, searchMs: 0 },
    encodeMs: 0,
    exact: { 'recall@10': 0.307 },
    ann: { 'recall@10': 0.236 },
    annGap: { 'recall@10': 0.071 },
    failures: { k: 10, count: 4, byLabel, search: 'exact', file: 'failures.jsonl' },
    annFailures: { k: 10, count: 6, byLabel, search: 'IVF-PQ, nprobe 16', file: 'failures-ann.jsonl' },
  };
  assert.equal(evaluationSummary(entry), 'exact: recall@10 0.307, 4 failing queries · IVF-PQ, nprobe 16: recall@10 0.236, 6 failing queries');
  assert.equal(
    evaluationSummary({ ...entry, bm25: { 'recall@10': 0.612 } }),
    'exact: recall@10 0.307, 4 failing queries · IVF-PQ, nprobe 16: recall@10 0.236, 6 failing queries · BM25: recall@10 0.612',
  );
  assert.equal(
    evaluationSummary({
      ...entry,
      bm25: { 'recall@10': 0.612 },
      hybrid: { 'recall@10': 0.655 },
      fusion: { method: 'RRF', k: 60, dense: 'exact' },
      failures: { ...entry.failures, fixedByHybrid: 3 },
    }),
    'exact: recall@10 0.307, 4 failing queries · IVF-PQ, nprobe 16: recall@10 0.236, 6 failing queries · BM25: recall@10 0.612 · hybrid (RRF k=60): recall@10 0.655, fixes 3 failing queries',
  );
  // The nprobe curve's suggestion as a config edit (comments kept), and nothing when it is configured already.
  const curve = {
    k: 10,
    bound: 0.01,
    exact: 0.307,
    points: [1, 2, 4, 8, 16].map((nprobe, i) => ({
      nprobe,
      recall: [0.2, 0.27, 0.3, 0.301, 0.301][i],
      gap: 0.307 - [0.2, 0.27, 0.3, 0.301, 0.301][i],
      msPerQuery: 0.1 * nprobe,
    })),
    suggested: 4,
    plateau: 4,
    configured: 16,
  };
  const sug = suggestedNprobe({ ...entry, nprobeCurve: curve })!;
  assert.equal(sug.nprobe, 4);
  assert.match(sug.why, /smallest nprobe within 1\.0 point of exact recall@10 \(gap 0\.7\)/);
  assert.equal(suggestedNprobe({ ...entry, nprobeCurve: { ...curve, configured: 4 } }), null);
  assert.equal(suggestedNprobe({ ...entry, nprobeCurve: { ...curve, suggested: null, plateau: 8 } })!.nprobe, 8);
  const config =
    '{\n  // shop\n  "data": { "train": "t.jsonl" },\n  "evaluation": {\n    // the index\n    "index": { "type": "IVF-PQ", "nprobe": 16 }\n  }\n}\n';
  const edit = nprobeEdit(config, 4)!;
  const edited = applyEditText(config, edit);
  assert.equal(edited, config.replace('"nprobe": 16', '"nprobe": 4'));
  assert.equal(nprobeEdit(edited, 4), null);
  assert.match(
    applyEditText('{ "data": { "train": "t.jsonl" } }', nprobeEdit('{ "data": { "train": "t.jsonl" } }', 8)!),
    /"evaluation": \{\s*"index": \{\s*"nprobe": 8/,
  );
  const r = failure('te-1', 'ranked-low', 1, { rank: null });
  r.search = 'IVF-PQ, nprobe 16';
  r.positives[0].score = null;
  const html = renderFailureDetail(r);
  assert.match(html, /<b>Search<\/b>: <span data-role="search">IVF-PQ, nprobe 16<\/span> — every rank and s\(q, ·\) below is this search's/);
  assert.match(html, /<td class="num">&gt;100<\/td><td class="item"><a [^>]+>p1<\/a><\/td><td class="num">not returned by IVF-PQ, nprobe 16<\/td>/);
});
