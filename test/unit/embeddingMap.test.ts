/**
 * The embedding map on two real checkpoints: the paper's collapse (examples/collapse/no-stop-gradient)
 * and its healthy twin (stop-gradient + symmetric term), trained here on the wasm backend (~10 s): the
 * collapsed checkpoint looks collapsed (PCA in the embeddings' own scale: a tight cluster), the healthy one
 * spread; the projector export (vectors.tsv + metadata.tsv) through the trainer process, as the CLI runs it.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { initBackend, type BackendInfo } from '../../src/core/backend';
import { parseConfigText } from '../../src/core/config';
import { pca2, sampleEmbeddings, spread2, umap2 } from '../../src/core/embeddingMap';
import { evaluateRun } from '../../src/core/eval';
import { runTraining } from '../../src/core/training/trainLoop';
import { startEmbeddingExport } from '../../src/trainer/client';
import { parseToTrainer, type FromTrainer } from '../../src/trainer/protocol';

const EXAMPLES = path.resolve(__dirname, '../../examples/collapse');
let backend: BackendInfo;
let runsRoot: string;
const runs: Record<'collapsed' | 'healthy', string> = { collapsed: '', healthy: '' };

before(async () => {
  backend = await initBackend('wasm');
  runsRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'rlens-map-'));
  for (const [kind, file] of [
    ['collapsed', 'no-stop-gradient.rlens.json'],
    ['healthy', 'stop-gradient.rlens.json'],
  ] as const) {
    const f = path.join(EXAMPLES, file);
    runs[kind] = (await runTraining({ loaded: parseConfigText(fs.readFileSync(f, 'utf8'), f), backend, runsRoot })).runDir;
  }
});
after(() => {
  if (runsRoot) fs.rmSync(runsRoot, { recursive: true, force: true });
});

test("PCA map: the collapsed checkpoint's items are one tight cluster, the healthy one's spread", async () => {
  const stats: Record<string, { spread: number; variance: number }> = {};
  for (const kind of ['collapsed', 'healthy'] as const) {
    const s = await sampleEmbeddings({ runDir: runs[kind], items: 800, queries: 200 });
    assert.equal(s.points.length, 1000);
    assert.equal(s.points.filter((p) => p.kind === 'query').length, 200);
    // The collapse is the item tower's (the paper's: item–item cosine → 1); the queries stay spread in both.
    const p = pca2(s.vectors.subarray(0, 800 * s.dim), 800, s.dim);
    stats[kind] = { spread: spread2(p.coords), variance: p.totalVariance };
    assert.ok(p.explained[0] >= p.explained[1] && p.explained[0] + p.explained[1] <= 1 + 1e-9);
  }
  assert.ok(stats.collapsed.spread < stats.healthy.spread / 4, JSON.stringify(stats));
  assert.ok(stats.collapsed.variance < stats.healthy.variance / 10, JSON.stringify(stats));
});

test('UMAP map is seeded: the same points give the same coordinates', async () => {
  const s = await sampleEmbeddings({ runDir: runs.healthy, items: 150, queries: 50 });
  const a = umap2(s.vectors, 200, s.dim, { seed: 'x' });
  const b = umap2(s.vectors, 200, s.dim, { seed: 'x' });
  assert.equal(a.length, 400);
  assert.deepEqual(a, b);
  assert.ok(a.every(Number.isFinite));
});

test('export-embeddings through the trainer process: vectors.tsv + metadata.tsv with failure labels, and the map', async () => {
  await evaluateRun({ runDir: runs.healthy });
  const out = path.join(runsRoot, 'export');
  const msgs: FromTrainer[] = [];
  const h = startEmbeddingExport({ runDir: runs.healthy, outDir: out, items: 300, queries: 100, projection: 'pca' }, (m) => msgs.push(m), {
    onInvalid: (r) => assert.fail(r),
  });
  const done = await h.done;
  assert.equal(done?.status, 'completed', JSON.stringify(msgs.filter((m) => m.type === 'error')));
  const r = msgs.find((m): m is Extract<FromTrainer, { type: 'embeddings' }> => m.type === 'embeddings')!;
  assert.equal(r.count, 400);
  const vectors = fs.readFileSync(path.join(out, 'vectors.tsv'), 'utf8').trim().split('\n');
  const meta = fs.readFileSync(path.join(out, 'metadata.tsv'), 'utf8').trim().split('\n');
  assert.equal(vectors.length, 400);
  assert.ok(vectors.every((l) => l.split('\t').length === 32 && l.split('\t').every((x) => Number.isFinite(Number(x)))));
  assert.equal(meta[0], 'kind\tid\tlabel\tsource\ttext');
  assert.equal(meta.length, 401);
  const queryLabels = meta
    .slice(1)
    .filter((l) => l.startsWith('query\t'))
    .map((l) => l.split('\t')[2]);
  assert.equal(queryLabels.length, 100);
  assert.ok(queryLabels.some((l) => l === 'ok') && queryLabels.some((l) => l !== 'ok'), 'queries carry their triage label or "ok"');
  assert.equal(r.map?.method, 'pca');
  assert.equal(r.map.coords.length, 800);
  assert.equal(parseToTrainer({ type: 'exportEmbeddings', runDir: 'r', outDir: 'o', items: -1, queries: 1, projection: 'pca' }).ok, false);
});
