import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { parseFromTrainer, parseToTrainer } from '../../src/trainer/protocol';
import { parseFromMap, parseToMap } from '../../src/webview/embeddingMap/protocol';

test('messages to the trainer are validated', () => {
  assert.deepEqual(parseToTrainer({ type: 'stop' }), { ok: true, value: { type: 'stop' } });
  const ok = parseToTrainer({ type: 'start', configPath: '/a.rlens.json', overrides: ['loss.alpha=1'], steps: 10 });
  assert.equal(ok.ok, true);
  for (const [bad, reason] of [
    [null, /not an object/],
    [{ type: 'launch' }, /unknown message type "launch"/],
    [{ type: 'start', configPath: '', overrides: [] }, /configPath/],
    [{ type: 'start', configPath: 'a', overrides: [1] }, /overrides/],
    [{ type: 'start', configPath: 'a', overrides: [], steps: 0 }, /steps/],
    [{ type: 'start', configPath: 'a', overrides: [], steps: 1.5 }, /steps/],
  ] as const) {
    const r = parseToTrainer(bad);
    assert.equal(r.ok, false);
    if (!r.ok) assert.match(r.reason, reason);
  }
});

/** The step event of docs/run-format.md: the same schema rules the run reader applies. */
const stepEvent = JSON.parse(
  fs
    .readFileSync(path.join(__dirname, '../..', 'docs', 'run-format.md'), 'utf8')
    .split('\n')
    .find((l) => l.startsWith('{"v":2,"type":"step"'))!,
);

test('messages from the trainer are validated', () => {
  assert.equal(parseFromTrainer({ type: 'step', event: stepEvent }).ok, true);
  assert.equal(parseFromTrainer({ type: 'step', event: { ...stepEvent, loss: null } }).ok, true, 'a non-finite loss arrives as null');
  assert.equal(parseFromTrainer({ type: 'step', event: { ...stepEvent, verdict: { state: 'meh', reason: '' } } }).ok, false);
  assert.deepEqual(parseFromTrainer({ type: 'step', event: { ...stepEvent, step: '3' } }), { ok: false, reason: 'step.event.step: expected integer' });
  // The same rules as reading events.jsonl: a diagnostics field that is neither a number nor null is named.
  const badDiag = structuredClone(stepEvent);
  badDiag.diagnostics.collapse.itemCosine = 'high';
  assert.deepEqual(parseFromTrainer({ type: 'step', event: badDiag }), {
    ok: false,
    reason: 'step.event.diagnostics.collapse.itemCosine: must be a number or null',
  });
  const partial = { ...stepEvent, diagnostics: { dist: {}, collapse: {}, recall: {} } };
  assert.match((parseFromTrainer({ type: 'step', event: partial }) as { reason: string }).reason, /^step\.event\.diagnostics\.dist\.delta/);
  assert.deepEqual(parseFromTrainer({ type: 'log', level: 'loud', message: 'x' }), {
    ok: false,
    reason: 'log.level: must be "debug", "info", "warn" or "error"',
  });
  assert.equal(parseFromTrainer({ type: 'done', status: 'completed', runDir: null, step: 2 }).ok, true);
  assert.equal(parseFromTrainer({ type: 'done', status: 'crashed', runDir: null, step: 2 }).ok, false);
  assert.equal(parseFromTrainer({ type: 'done', status: 'failed', runDir: '/r', step: 2, error: {} }).ok, false);
  assert.equal(parseFromTrainer('step').ok, false);
});

test('messages of the audit job are validated, with located reasons', () => {
  assert.equal(parseToTrainer({ type: 'audit', configPath: '/a.rlens.json', overrides: ['data.test=t.jsonl'] }).ok, true);
  assert.match((parseToTrainer({ type: 'audit', configPath: '', overrides: [] }) as { reason: string }).reason, /^audit\.configPath/);
  assert.match((parseToTrainer({ type: 'audit', configPath: 'a' }) as { reason: string }).reason, /^audit\.overrides/);
  assert.equal(parseFromTrainer({ type: 'auditProgress', part: 'train', linesRead: 4096 }).ok, true);
  assert.deepEqual(parseFromTrainer({ type: 'auditProgress', part: 'qrels', linesRead: 1 }), {
    ok: false,
    reason: 'auditProgress.part: must be corpus, test or train',
  });
  assert.match((parseFromTrainer({ type: 'auditProgress', part: 'test', linesRead: -1 }) as { reason: string }).reason, /^auditProgress\.linesRead/);
  const report = { pairs: 2, findings: [{ kind: 'duplicatePairs', count: 1, examples: [{ file: 'a', line: 2, note: 'x' }] }], ms: 3 };
  assert.equal(parseFromTrainer({ type: 'audited', report }).ok, true);
  assert.match(
    (parseFromTrainer({ type: 'audited', report: { ...report, findings: [{ kind: 'x', count: -1, examples: [] }] } }) as { reason: string }).reason,
    /^audited\.report\.findings\[0\]\.count: /,
  );
  assert.match((parseFromTrainer({ type: 'audited', report: { findings: [], ms: 1 } }) as { reason: string }).reason, /^audited\.report/);
});

test('messages of the embedding map webview are validated like the other channels, with located reasons', () => {
  const map = {
    method: 'pca',
    coords: [0, 0, 1, 1],
    points: ['a', 'b'].map((id) => ({ kind: 'item', id, text: id, file: '/d.jsonl', line: 1, label: '' })),
    spread: 0.5,
  };
  const msg = { type: 'map', title: 't', map, files: { vectors: 'v.tsv', metadata: 'm.tsv' } };
  assert.deepEqual(parseToMap(msg), { ok: true, value: msg });
  assert.deepEqual(parseToMap({ ...msg, map: { ...map, coords: [0, 0, 1] } }), {
    ok: false,
    reason: 'map.map.coords: must hold x, y for each of the 2 points (has 3 numbers)',
  });
  assert.deepEqual(parseToMap({ ...msg, map: { ...map, method: 'tsne' } }).ok, false);
  assert.deepEqual(parseToMap({ type: 'draw' }), { ok: false, reason: 'unknown message type "draw"' });
  assert.deepEqual(parseFromMap({ type: 'open', file: '/d.jsonl', line: 3 }), { ok: true, value: { type: 'open', file: '/d.jsonl', line: 3 } });
  assert.deepEqual(parseFromMap({ type: 'open', file: '/d.jsonl', line: 0 }).ok, false);
  assert.match((parseFromMap({ type: 'project', method: 'mds' }) as { reason: string }).reason, /^project\.method/);
});
