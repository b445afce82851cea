import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import seedrandom from 'seedrandom';
import { Bm25Index, loadBm25Cache, saveBm25Cache, TermStats } from '../../src/core/lexical';
import { PRUNE_MIN_POSTINGS } from '../../src/core/lexical/bm25Index';
import { boundScales, postingBounds } from '../../src/core/lexical/blockMaxScore';
import type { Bm25Ranker } from '../../src/core/lexical/bm25Ranker';
import { words } from '../../src/core/model/featurize';
import { evalMetricNames, shownMetric } from '../../src/webview/dashboard/charts/evalChart';
import { SHOP_CORPUS, SHOP_TEST, shopField } from '../helpers/smallExperiment';
import { miniSearchBm25 } from '../reference/miniSearchBm25';

const CORPUS = [
  'Acme running shoe, red, size 42',
  'Acme running shoe — blue',
  'red red red wool hat',
  'Green tea (loose leaf) 250g',
  'Shoe polish kit for leather shoes',
  'Café-au-lait mug, 300 ml',
  'Trail running jacket, waterproof, red',
];

/**
 * Okapi BM25 written out from its definition (k1 1.2, b 0.75, Lucene's IDF), over the towers' words; the
 * length of a document |d| is its number of distinct words (MiniSearch's field length).
 */
function referenceBm25(corpus: string[], query: string): { i: number; s: number }[] {
  const docs = corpus.map((t) => words(t));
  const len = docs.map((d) => new Set(d).size);
  const avgdl = len.reduce((n, l) => n + l, 0) / docs.length;
  const terms = [...new Set(words(query))];
  const out: { i: number; s: number }[] = [];
  docs.forEach((d, i) => {
    let s = 0;
    let matched = false;
    for (const t of terms) {
      const tf = d.filter((w) => w === t).length;
      if (tf === 0) continue;
      matched = true;
      const df = docs.filter((x) => x.includes(t)).length;
      const idf = Math.log(1 + (docs.length - df + 0.5) / (df + 0.5));
      s += (idf * tf * 2.2) / (tf + 1.2 * (1 - 0.75 + (0.75 * len[i]) / avgdl));
    }
    if (matched) out.push({ i, s });
  });
  return out.sort((a, b) => b.s - a.s || a.i - b.i);
}

test("BM25 ranks and scores as Okapi BM25 over the towers' words (the coordination boost divided out)", () => {
  const ix = Bm25Index.build(CORPUS);
  for (const q of ['red running shoe', 'RED shoe shoe', 'café lait', 'leather', 'waterproof red jacket', 'nothing matches here']) {
    const ref = referenceBm25(CORPUS, q);
    const got = ix.query(q, 5);
    assert.deepEqual(
      got.labels,
      ref.slice(0, 5).map((r) => r.i),
      q,
    );
    got.scores.forEach((s, j) => assert.ok(Math.abs(s - ref[j].s) < 1e-9, `${q}: ${s} vs ${ref[j].s}`));
  }
  // "shoes" is not "shoe": no stemming, exactly the towers' words.
  assert.deepEqual(ix.query('shoes', 5).labels, [4]);
  const r = ix.search(['red hat', 'zzz'], 3);
  assert.deepEqual(
    [...r.labels],
    [
      ...referenceBm25(CORPUS, 'red hat')
        .slice(0, 3)
        .map((x) => x.i),
      -1,
      -1,
      -1,
    ],
  );
  assert.equal(r.labels[0], 2, 'the only document with both words first');
  assert.equal(r.scores[3], -Infinity);
});

test("the BM25 ranking equals MiniSearch's own search on the bundled example (corpus and test queries)", () => {
  const corpus = shopField(SHOP_CORPUS, 'text');
  const queries = shopField(SHOP_TEST, 'query').slice(0, 300);
  const ix = Bm25Index.build(corpus);
  const library = miniSearchBm25(corpus);
  let compared = 0;
  for (const q of queries) {
    const fast = ix.query(q, 100);
    const lib = library(q, 100);
    assert.equal(fast.labels.length, lib.labels.length, q);
    fast.scores.forEach((sc, j) => assert.ok(Math.abs(sc - lib.scores[j]) < 1e-9, `${q} #${j + 1}: ${sc} vs ${lib.scores[j]}`));
    // Same items (ties may order differently only at exactly equal scores).
    fast.labels.forEach((l, j) => assert.ok(l === lib.labels[j] || Math.abs(fast.scores[j] - lib.scores[j]) < 1e-12));
    compared += fast.labels.length;
  }
  assert.ok(compared > 10_000, `${compared} ranked items compared`);
});

test('block-max MaxScore ranks exactly as the exhaustive scorer: 27,000 rankings of the bundled corpus, ties included', () => {
  // The bundled corpus with its first 300 items repeated (every score of those ties with its twin's), queried by
  // its 1,500 test queries and 1,500 seeded bags of 1–8 corpus words (common and rare), at depths 1, 10 and 100,
  // pruned in windows of 32 rows (≈ 190 windows, most blocks of a common word span several) and of 4,096 rows;
  // and by query(), which picks the scorer by the query's postings.
  const texts = shopField(SHOP_CORPUS, 'text');
  const corpus = [...texts, ...texts.slice(0, 300)];
  const index = Bm25Index.build(corpus);
  const vocab = corpus.flatMap((t) => words(t));
  const rng = seedrandom('maxscore');
  const queries = [
    ...shopField(SHOP_TEST, 'query').slice(0, 1500),
    ...Array.from({ length: 1500 }, () => Array.from({ length: 1 + Math.floor(rng() * 8) }, () => vocab[Math.floor(rng() * vocab.length)]).join(' ')),
  ];
  assert.equal(queries.length, 3000);
  let tiesAtTheCut = 0;
  const read = { pruned: 0, exhaustive: 0 };
  for (const depth of [1, 10, 100]) {
    for (const q of queries) {
      const full = index.queryExhaustive(q, depth + 1);
      const expected = { labels: full.labels.slice(0, depth), scores: full.scores.slice(0, depth) };
      for (const windowBits of [5, 12]) {
        read.exhaustive += index.lastPostingsRead;
        assert.deepEqual(index.queryPruned(q, depth, windowBits), expected, `query "${q}", depth ${depth}, windows of 2^${windowBits}`);
        read.pruned += index.lastPostingsRead;
        index.queryExhaustive(q, depth + 1);
      }
      assert.deepEqual(index.query(q, depth), expected, `query "${q}", depth ${depth}, the scorer query() picked`);
      if (full.scores.length > depth && full.scores[depth] === full.scores[depth - 1]) tiesAtTheCut++;
    }
  }
  // The comparison must include rows tied at the cut-off (where only the row order decides) and real pruning.
  assert.ok(tiesAtTheCut > 100, `${tiesAtTheCut} rankings with a tie at the cut-off`);
  assert.ok(read.pruned < 0.7 * read.exhaustive, `block-max MaxScore scored ${read.pruned} postings, the exhaustive scorer ${read.exhaustive}`);
});

test("each posting's 8-bit bound is an upper bound of its contribution, at most one quantisation step above it", () => {
  const texts = shopField(SHOP_CORPUS, 'text');
  const ix = Bm25Index.build(texts);
  const { offsets, rows, tfs, norm, idf, k1p1 } = (ix as unknown as { ranker: Bm25Ranker }).ranker.scored();
  const { blockMax, bound } = postingBounds({ offsets, rows, tfs, norm, idf, k1p1 });
  const scale = boundScales(offsets, blockMax);
  let tight = 0;
  for (let t = 0; t < offsets.length - 1; t++)
    for (let j = offsets[t]; j < offsets[t + 1]; j++) {
      const f = tfs[j];
      const v = (idf[t] * f * k1p1) / (f + norm[rows[j]]);
      assert.ok(bound[j] >= 1 && bound[j] * scale[t] >= v, `term ${t}, posting ${j}: ${bound[j]} × ${scale[t]} < ${v}`);
      assert.ok((bound[j] - 1) * scale[t] < v, `term ${t}, posting ${j}: ${bound[j]} is more than one step above ${v}`);
      if (bound[j] === 255) tight++;
    }
  assert.ok(tight >= offsets.length - 1, `every term's largest contribution is at the top of its scale (${tight} postings at 255)`);
});

test('block-max MaxScore at block and window boundaries: single and repeated terms, depth past the matches, ties', () => {
  // 3,000 texts; term k is in exactly dfs[k] of them (1 to all), so its postings fill blocks of 64 exactly, leave
  // one posting in a last block, or one short of a block. In every term with more than 64 postings the two best
  // postings are the last of its first block and the first of its second (term frequency 5, the others 1–3).
  // Text lengths take few values, so scores tie in crowds.
  const rng = seedrandom('block-max-boundaries');
  const n = 3000;
  const dfs = [1, 2, 31, 32, 33, 63, 64, 65, 127, 128, 129, 191, 192, 193, 640, 1500, n - 1, n];
  const texts: string[][] = Array.from({ length: n }, () => []);
  dfs.forEach((df, k) => {
    const rows = Array.from({ length: n }, (_, i) => i);
    for (let i = 0; i < df; i++) {
      const j = i + Math.floor(rng() * (n - i));
      [rows[i], rows[j]] = [rows[j], rows[i]];
    }
    const chosen = rows.slice(0, df).sort((a, b) => a - b);
    chosen.forEach((r, j) => {
      const tf = df > 64 && (j === 63 || j === 64) ? 5 : 1 + (rng() < 0.2 ? Math.floor(rng() * 3) : 0);
      for (let c = 0; c < tf; c++) texts[r].push(`t${k}`);
    });
  });
  for (const t of texts) for (let e = [0, 0, 2, 9][Math.floor(rng() * 4)]; e > 0; e--) t.push(`f${Math.floor(rng() * 40)}`);
  const index = Bm25Index.build(texts.map((t) => t.join(' ')));
  dfs.forEach((df, k) => assert.equal(index.df(`t${k}`), df));
  const terms = dfs.map((_, k) => `t${k}`);
  const queries = [
    ...terms, // single terms
    ...terms.flatMap((a, i) => terms.slice(i + 1).map((b) => `${a} ${b}`)),
    ...terms.map((a, i) => `${a} ${a} ${terms[(i + 5) % terms.length]} ${a}`), // repeated terms
    ...Array.from({ length: 300 }, () =>
      Array.from({ length: 1 + Math.floor(rng() * 6) }, () => (rng() < 0.7 ? terms[Math.floor(rng() * terms.length)] : `f${Math.floor(rng() * 40)}`)).join(' '),
    ),
  ];
  let rankings = 0;
  let pastTheMatches = 0;
  for (const depth of [1, 5, 64, 100, n + 10]) {
    for (const q of queries) {
      const expected = index.queryExhaustive(q, depth);
      if (expected.labels.length < depth) pastTheMatches++;
      for (const windowBits of [5, 6, 12]) {
        assert.deepEqual(index.queryPruned(q, depth, windowBits), expected, `query "${q}", depth ${depth}, windows of 2^${windowBits}`);
        rankings++;
      }
      assert.deepEqual(index.query(q, depth), expected, `query "${q}", depth ${depth}`);
    }
  }
  assert.equal(rankings, 3 * 5 * queries.length);
  assert.ok(pastTheMatches > queries.length, `${pastTheMatches} rankings asked deeper than the query matches`);
  // Repeated words count once, as in the exhaustive scorer.
  assert.deepEqual(index.queryPruned('t9 t9 t9', 10, 5), index.queryExhaustive('t9', 10));
});

test("query() scores exhaustively while the query's lists are short and prunes above PRUNE_MIN_POSTINGS postings", () => {
  const texts = Array.from({ length: PRUNE_MIN_POSTINGS + 500 }, (_, i) => `common w${i % 997}${i % 7 === 0 ? ' rare' : ''}`);
  const index = Bm25Index.build(texts);
  const rareQuery = 'w5 w17';
  assert.ok(index.df('w5') + index.df('w17') <= PRUNE_MIN_POSTINGS);
  assert.deepEqual(index.query(rareQuery, 10), index.queryExhaustive(rareQuery, 10));
  assert.equal(index.lastScorer, 'exhaustive');
  assert.ok(index.df('common') > PRUNE_MIN_POSTINGS);
  assert.deepEqual(index.query('common rare w3', 10), index.queryExhaustive('common rare w3', 10));
  assert.equal(index.lastScorer, 'pruned');
});

test('the BM25 index is saved beside the Faiss index and reused for the same corpus only; a corrupt one is rebuilt', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rlens-bm25-'));
  try {
    const a = path.join(dir, 'last', 'index');
    const b = path.join(dir, 'best', 'index');
    const ix = Bm25Index.build(CORPUS);
    saveBm25Cache(a, ix, 'fp1', CORPUS.length);
    const logs: string[] = [];
    const hit = loadBm25Cache([b, a], 'fp1', CORPUS.length, (m) => logs.push(m));
    assert.equal(hit?.dir, a);
    assert.deepEqual(hit.index.query('red running shoe', 7), ix.query('red running shoe', 7));
    assert.equal(
      loadBm25Cache([a], 'fp2', CORPUS.length, (m) => logs.push(m)),
      null,
      'another corpus',
    );
    assert.equal(logs.length, 1, "another corpus's index is passed over without a word");
    // An index of this corpus saved before the block maxima (its key has no layout): rebuilt, saying why.
    const keyFile = path.join(a, 'bm25.key.json');
    const key = JSON.parse(fs.readFileSync(keyFile, 'utf8')) as Record<string, unknown>;
    fs.writeFileSync(keyFile, JSON.stringify({ ...key, format: undefined }));
    const stale: string[] = [];
    assert.equal(
      loadBm25Cache([a], 'fp1', CORPUS.length, (m) => stale.push(m)),
      null,
    );
    assert.match(
      stale.join('\n'),
      /saved BM25 index in .* is outdated \(it is in layout 2, this version reads layout 4 \(block maxima and posting bounds for pruned ranking\)\): rebuilding/,
    );
    saveBm25Cache(a, ix, 'fp1', CORPUS.length);
    fs.writeFileSync(path.join(a, 'bm25.bin'), fs.readFileSync(path.join(a, 'bm25.bin')).subarray(0, 100));
    const logs2: string[] = [];
    assert.equal(
      loadBm25Cache([a], 'fp1', CORPUS.length, (m) => logs2.push(m)),
      null,
    );
    assert.match(logs2.join('\n'), /saved BM25 index in .* is unusable .*rebuilding/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the saved BM25 index (one binary file) restores the same rankings; a damaged file is refused saying why', () => {
  const corpus = shopField(SHOP_CORPUS, 'text');
  // Built batch by batch (as a streamed corpus is) and at once: the same index, byte for byte.
  const b = Bm25Index.builder();
  for (let s = 0; s < corpus.length; s += 777) b.add(corpus.slice(s, s + 777));
  const streamed = b.finish();
  const whole = Bm25Index.build(corpus);
  const saved = whole.toBuffer();
  assert.ok(saved.equals(streamed.toBuffer()), 'streamed and whole builds save the same bytes');
  const restored = Bm25Index.fromBuffer(saved);
  assert.equal(restored.documentCount, corpus.length);
  for (const q of ['red shoe', 'usb c cable', 'wool', corpus[5], 'no such words qqq']) assert.deepEqual(restored.query(q, 50), whole.query(q, 50), q);
  assert.equal(restored.df('red'), whole.df('red'));
  assert.ok(whole.df('red') > 0);

  assert.throws(() => Bm25Index.fromBuffer(Buffer.from('{"index": []}')), /not a Retrieval Lens BM25 index/);
  assert.throws(() => Bm25Index.fromBuffer(saved.subarray(0, saved.length - 9)), /truncated|bytes/);
  // A posting that names a row past the corpus (the rows section starts after the terms and the offsets, each
  // at a multiple of 8 bytes): its section checksum no longer matches.
  const bad = Buffer.from(saved);
  const headerLen = bad.readUInt32LE(7);
  const header = JSON.parse(bad.subarray(11, 11 + headerLen).toString('utf8')) as Record<string, number>;
  const align = (x: number) => x + ((8 - (x % 8)) % 8);
  const rowsAt = align(align(11 + headerLen + header.termBytes) + (header.terms + 1) * 4);
  bad.writeUInt32LE(header.documents + 5, rowsAt);
  assert.throws(() => Bm25Index.fromBuffer(bad), /section "rows" does not match its checksum/);
  // A file of the layout before the block maxima (no "format" in its header) is refused, saying so.
  const old = JSON.stringify({ ...header, format: undefined });
  const oldHeader = Buffer.concat([saved.subarray(0, 7), Buffer.alloc(4), Buffer.from(old)]);
  oldHeader.writeUInt32LE(old.length, 7);
  assert.throws(
    () => Bm25Index.fromBuffer(Buffer.concat([oldHeader, saved.subarray(11 + headerLen)])),
    /index format 2, expected 4 \(with block maxima and posting bounds/,
  );
});

test("term statistics give BM25's IDF: rarer terms weigh more", () => {
  const st = new TermStats(CORPUS);
  assert.equal(st.df.get('red'), 3);
  assert.equal(st.df.get('waterproof'), 1);
  assert.ok(st.idf('waterproof') > st.idf('red'));
  assert.ok(Math.abs(st.idf('red') - Math.log(1 + (7 - 3 + 0.5) / 3.5)) < 1e-12);
});

test('the evaluation chart offers each metric once (any search), recall@10 by default', () => {
  const points = [
    {
      step: 10,
      metrics: {
        'bm25/recall@10': 0.6,
        'recall@10': 0.4,
        'ann/recall@10': 0.35,
        'recall@1': 0.1,
        'mrr@10': 0.2,
        'ndcg@10': 0.3,
        'bm25/ndcg@10': 0.5,
        failures: 3,
        'recall@5': null,
      },
    },
  ];
  // The selector's metrics (any search; null values and counts left out), recall@10 shown unless another is chosen.
  assert.deepEqual(evalMetricNames(points), ['recall@1', 'recall@10', 'mrr@10', 'ndcg@10']);
  assert.equal(shownMetric(points, null), 'recall@10');
  assert.equal(shownMetric(points, 'ndcg@10'), 'ndcg@10');
  assert.equal(shownMetric(points, 'recall@5'), 'recall@10', 'a metric without values falls back to recall@10');
  assert.equal(shownMetric([{ step: 1, metrics: { 'mrr@10': 0.2 } }], null), 'mrr@10');
  assert.equal(shownMetric([], null), null);
});
