import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { loadConfig, parseConfigText } from '../../src/core/config/loadConfig';
import { ConfigError } from '../../src/core/config/configError';
import { auditTrainingData } from '../../src/core/data/audit/auditData';
import { hash53, textKey, type AuditKind } from '../../src/core/data/audit/auditor';
import { normaliseText } from '../../src/core/data/itemId';
import { startAudit } from '../../src/core/data/audit/startAudit';
import { openTrainingData } from '../../src/core/training/trainingData';

const jsonl = (rows: object[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
const pair = (query: string, positive: string, positive_id: string) => ({ query, positive, positive_id });

/** Writes a config with its train, test and corpus files into a fresh folder. */
function fixture(train: object[], test: object[], corpus: object[]): { dir: string; config: string } {
  const dir = mkdtempSync(join(tmpdir(), 'rlens-audit-'));
  writeFileSync(join(dir, 'train.jsonl'), jsonl(train));
  writeFileSync(join(dir, 'test.jsonl'), jsonl(test));
  writeFileSync(join(dir, 'corpus.jsonl'), jsonl(corpus));
  const config = join(dir, 'x.rlens.json');
  writeFileSync(
    config,
    JSON.stringify({ data: { train: 'train.jsonl', test: 'test.jsonl', corpus: 'corpus.jsonl' }, model: { maxQueryTokens: 8, maxItemTokens: 20 } }),
  );
  return { dir, config };
}

const long = (n: number) => Array.from({ length: n }, (_, i) => `w${i}`).join(' ');

const PLANTED = [
  pair('red shoes', 'Red running shoe', 'p1'), // 1
  pair('blue hat', 'Blue wool hat', 'p2'), // 2: corpus p2 is "Hat" + "Blue wool hat" (title missing)
  pair('Red  SHOES', 'Red running shoe', 'p1'), // 3: duplicate of 1 (normalised query)
  pair('green scarf', 'Blue  wool HAT', 'p9'), // 4: the text of p2 under another id
  pair('yellow bag', 'A different text', 'p2'), // 5: p2 with another text
  ...['q a', 'q b', 'q c', 'q d', 'q e'].map((q) => pair(q, 'Shared thing', 'p3')), // 6-10: p3 answers 5 pairs
  pair('what is the capital of france', 'Paris', 'p4'), // 11: a test query; corpus p4 has another text
  pair(long(10), long(25), 'p6'), // 12: 10 query words > 8, 25 item words > 20
  pair('!!!', '???', 'p5'), // 13: no words in either
];

test('the audit finds each planted problem on its lines, and nothing in a clean fixture', async (t) => {
  const planted = fixture(
    PLANTED,
    [pair('What is the  Capital of France', 'Paris', 'p4')],
    [
      { _id: 'p1', text: 'Red running shoe' },
      { _id: 'p2', title: 'Hat', text: 'Blue wool hat' },
      { _id: 'p4', text: 'Paris, capital of France' },
    ],
  );
  const clean = fixture(
    [pair('red shoes', 'Red running shoe', 'p1'), pair('blue hat', 'Blue wool hat', 'p2'), pair('green scarf', 'Green scarf', 'p3')],
    [pair('what is the capital of france', 'Paris', 'p4')],
    [
      { _id: 'p1', text: 'Red running shoe' },
      { _id: 'p2', text: 'Blue wool hat' },
      { _id: 'p4', title: 'Paris', text: 'the capital' },
    ],
  );
  t.after(() => {
    rmSync(planted.dir, { recursive: true, force: true });
    rmSync(clean.dir, { recursive: true, force: true });
  });

  const report = await auditTrainingData(loadConfig(planted.config));
  assert.equal(report.pairs, PLANTED.length);
  assert.equal(report.testQueries, 1);
  assert.equal(report.corpusItems, 3);
  const found = Object.fromEntries(report.findings.map((f) => [f.kind, { count: f.count, lines: f.examples.map((e) => e.line) }]));
  const expected: Record<AuditKind, { count: number; lines: number[] }> = {
    duplicatePairs: { count: 1, lines: [3] },
    sharedPositives: { count: 1, lines: [6] },
    textUnderSeveralIds: { count: 1, lines: [4] },
    idWithSeveralTexts: { count: 1, lines: [5] },
    noWords: { count: 2, lines: [13, 13] },
    truncatedQueries: { count: 1, lines: [12] },
    truncatedPositives: { count: 1, lines: [12] },
    testLeakage: { count: 1, lines: [11] },
    corpusTextDiffers: { count: 2, lines: [2, 11] },
  };
  assert.deepEqual(found, expected);
  for (const f of report.findings) for (const e of f.examples) assert.equal(e.file, join(planted.dir, 'train.jsonl'));
  const corpusDiff = report.findings.find((f) => f.kind === 'corpusTextDiffers');
  assert.equal(corpusDiff?.titleMissing, 1, 'line 2 is the corpus text without its title; line 11 is another text');
  assert.match(report.findings.find((f) => f.kind === 'duplicatePairs')!.examples[0].note, /train\.jsonl:1$/);
  assert.match(report.findings.find((f) => f.kind === 'sharedPositives')!.examples[0].note, /"p3" answers 5 distinct pairs/);

  const cleanReport = await auditTrainingData(loadConfig(clean.config));
  assert.equal(cleanReport.pairs, 3);
  assert.deepEqual(cleanReport.findings, []);
});

test('retrieval-lens audit prints the report with ids escaped, and --json parses', (t) => {
  const { dir, config } = fixture(
    [pair('a b', 'x y', 'other'), pair('c d', 'x  Y', 'id\u001b[31m\nforged')],
    [pair('e f', 'g', 'g')],
    [{ _id: 'g', text: 'g' }],
  );
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const run = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'audit', config, ...args], { encoding: 'utf8' });
  const text = run();
  assert.equal(text.status, 0, text.stderr);
  assert.match(
    text.stdout,
    /1 positive texts under several ids\n {2}\S+train\.jsonl:2 {2}positive "id\\u001b\[31m\\u000aforged" has the text of another id at \S+train\.jsonl:1/,
  );
  assert.ok(!text.stdout.includes('\u001b'), 'no raw escape byte reaches the terminal');
  assert.ok(!/^forged/m.test(text.stdout), 'an id with a line break forges no line');
  const json = run('--json');
  assert.equal(json.status, 0, json.stderr);
  const parsed = JSON.parse(json.stdout);
  assert.deepEqual(
    parsed.findings.map((f: { kind: string }) => f.kind),
    ['textUnderSeveralIds'],
  );
  const bad = run('--set', 'model.maxQueryTokens=0');
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /maxQueryTokens/);
});

test('data.audit is off by default; on, the run-log line summarises the audit; a wrong value is a located config error', async (t) => {
  const { dir, config } = fixture(PLANTED.slice(0, 3), [pair('zzz', 'g', 'g')], [{ _id: 'p2', title: 'Hat', text: 'Blue wool hat' }]);
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  assert.equal(loadConfig(config).config.data.audit, false);
  const on = loadConfig(config, ['data.audit=true']);
  assert.equal(on.config.data.audit, true);
  const line = await startAudit(on);
  assert.match(
    line,
    /^data\.audit: audit of 3 pairs: 1 duplicate pairs \(same normalised query and positive id\); 1 positives whose corpus item has another text \(1 without the title\) \(\d+\.\d s; full report: retrieval-lens audit /,
  );
  assert.throws(() => loadConfig(config, ['data.audit=3']), /data\.audit/);
});

test('textKey hashes the normalised text without building it: equal to hashing normaliseText', () => {
  const texts = [
    'Red  Running\tShoe',
    '  lead and trail  ',
    'ﬁne Ⅻ ＡＢＣ', // NFKC: ligature, roman numeral, full-width
    'a\u00a0b\u2003c\u3000d\ufeffe\u2028f\u1680g\u205fh',
    '\n\r\v\f',
    '',
    'İstanbul ΣΑΣ',
  ];
  for (const s of texts) assert.equal(textKey(s), hash53(normaliseText(s)), JSON.stringify(s));
  assert.notEqual(textKey('a b'), textKey('ab'));
  assert.ok(Number.isSafeInteger(hash53('x'.repeat(1000))));
});

test('data.audit and data.positiveText "corpus" load with the torchrun trainer (the launcher audits, the PyTorch trainer reads the corpus)', () => {
  const text = '{\n  "data": {\n    "train": "x.jsonl",\n    "audit": true\n  },\n  "trainer": { "kind": "torchrun" }\n}\n';
  assert.equal(parseConfigText(text, '/cfg/x.rlens.json').config.data.audit, true);
  assert.equal(parseConfigText(text.replace('"audit": true', '"positiveText": "corpus"'), '/cfg/x.rlens.json').config.data.positiveText, 'corpus');
  assert.throws(
    () => parseConfigText(text.replace('"audit": true', '"positiveText": "title"'), '/cfg/x.rlens.json'),
    (e: unknown) => e instanceof ConfigError && e.problems.some((p) => p.line === 4 && p.path === 'data.positiveText'),
  );
});

test('data.positiveText "corpus" trains a positive on its corpus item (title + text); "line" keeps the line', async (t) => {
  const { dir, config } = fixture(
    [pair('blue hat', 'Blue wool hat', 'p2'), pair('red shoes', 'Red running shoe', 'p1')],
    [pair('zzz', 'g', 'g')],
    [{ _id: 'p2', title: 'Hat', text: 'Blue wool hat' }],
  );
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const positives = async (set: string[]) => {
    const data = await openTrainingData(loadConfig(config, set));
    const out: Record<string, string> = {};
    for await (const e of data.source.epoch(0))
      out[e.positive.id] = `${e.positive.text} @${e.positive.source.file.endsWith('corpus.jsonl') ? 'corpus' : 'train'}:${e.positive.source.line}`;
    await data.source.close();
    return { out, note: data.positiveTextNote };
  };
  const line = await positives([]);
  assert.deepEqual(line.out, { p2: 'Blue wool hat @train:1', p1: 'Red running shoe @train:2' });
  assert.equal(line.note, undefined);
  const corpus = await positives(['data.positiveText=corpus']);
  assert.deepEqual(corpus.out, { p2: 'Hat Blue wool hat @corpus:1', p1: 'Red running shoe @train:2' }, 'p1 is not in the corpus: its line text stays');
  assert.match(corpus.note!, /^data\.positiveText "corpus": positives are trained on the text of their id in \S+corpus\.jsonl \(1 items\)$/);
  assert.throws(() => loadConfig(config, ['data.positiveText=title']), /data\.positiveText/);
});

test("an aborted signal stops the audit before it reads a record: it rejects with the signal's reason", async () => {
  const seen: string[] = [];
  await assert.rejects(
    auditTrainingData(loadConfig(join(__dirname, '../fixtures/audit/planted/audit.rlens.json')), {
      signal: AbortSignal.abort(new Error('stop asked')),
      onProgress: (p) => seen.push(`${p.part} ${p.linesRead}`),
    }),
    /stop asked/,
  );
  assert.deepEqual(seen, ['corpus 0'], 'it stopped at the first corpus record');
});

test('a stop during a BEIR training folder ends its load at that line, before its pairs are audited (and its progress counts the lines)', async (t) => {
  // 3,000 corpus items, 3,000 queries, 5 qrels rows: the folder's pairs are too few for a progress report of
  // their own, so every "train" report > 0 comes from the folder's load. The 'corpus' part is data.corpus (a
  // one-line file) so that the folder's corpus is read only by the training load.
  const dir = mkdtempSync(join(tmpdir(), 'rlens-audit-beir-stop-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const folder = join(dir, 'beir');
  const items = 3000;
  mkdirSync(join(folder, 'qrels'), { recursive: true });
  writeFileSync(join(folder, 'corpus.jsonl'), jsonl(Array.from({ length: items }, (_, i) => ({ _id: `d${i}`, text: `document ${i} about topic ${i % 17}` }))));
  writeFileSync(join(folder, 'queries.jsonl'), jsonl(Array.from({ length: items }, (_, i) => ({ _id: `q${i}`, text: `question ${i}` }))));
  writeFileSync(join(folder, 'qrels', 'train.tsv'), 'query-id\tcorpus-id\tscore\n' + Array.from({ length: 5 }, (_, i) => `q${i}\td${i}\t1\n`).join(''));
  writeFileSync(join(dir, 'corpus.jsonl'), jsonl([{ _id: 'c0', text: 'one item' }]));
  const config = join(dir, 'beir.rlens.json');
  writeFileSync(config, JSON.stringify({ data: { train: 'beir', corpus: 'corpus.jsonl' } }));

  // Unstopped: the folder's 6,005 lines are counted in the train part's reports as they are read.
  const reports: string[] = [];
  const report = await auditTrainingData(loadConfig(config), { onProgress: (p) => reports.push(`${p.part} ${p.linesRead}`) });
  assert.equal(report.pairs, 5);
  assert.equal(report.linesRead, 2 * items + 5);
  assert.deepEqual(
    reports.filter((r) => r.startsWith('train')),
    ['train 0', 'train 1024', 'train 2048', 'train 3072', 'train 4096', 'train 5120', `train ${2 * items + 5}`],
  );

  // Stopped at the first report of the folder's load (line 1,024 of its corpus): nothing after that line is read.
  const stop = new AbortController();
  const seen: number[] = [];
  await assert.rejects(
    auditTrainingData(loadConfig(config), {
      signal: stop.signal,
      onProgress: (p) => {
        if (p.part !== 'train') return;
        seen.push(p.linesRead);
        if (p.linesRead > 0) stop.abort(new Error('stop asked'));
      },
    }),
    /stop asked/,
  );
  assert.deepEqual(seen, [0, 1024], 'the load ended at the line after the stop');
});
