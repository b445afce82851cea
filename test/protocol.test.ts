import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFromTrainer, parseToTrainer } from '../src/trainer/protocol';

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

const stepEvent = {
  v: 1, time: 't', type: 'step', step: 3, epoch: 0, loss: 1, lossQ: 1, lossSym: 0.5, lr: 0.1, gradNorm: 2, stepMs: 5, examplesPerSec: 10,
  diagnostics: { dist: {}, collapse: {}, recall: {} }, verdict: { state: 'healthy', reason: 'ok' },
};

test('messages from the trainer are validated', () => {
  assert.equal(parseFromTrainer({ type: 'step', event: stepEvent }).ok, true);
  assert.equal(parseFromTrainer({ type: 'step', event: { ...stepEvent, loss: null } }).ok, true, 'a non-finite loss arrives as null');
  assert.equal(parseFromTrainer({ type: 'step', event: { ...stepEvent, verdict: { state: 'meh', reason: '' } } }).ok, false);
  assert.equal(parseFromTrainer({ type: 'step', event: { ...stepEvent, step: '3' } }).ok, false);
  assert.equal(parseFromTrainer({ type: 'log', level: 'loud', message: 'x' }).ok, false);
  assert.equal(parseFromTrainer({ type: 'done', status: 'completed', runDir: null, step: 2 }).ok, true);
  assert.equal(parseFromTrainer({ type: 'done', status: 'crashed', runDir: null, step: 2 }).ok, false);
  assert.equal(parseFromTrainer({ type: 'done', status: 'failed', runDir: '/r', step: 2, error: {} }).ok, false);
  assert.equal(parseFromTrainer('step').ok, false);
});
