/**
 * PyTorch parity, TypeScript half: the fixtures in test/fixtures/parity/ hold inputs and the values the
 * TypeScript code computed from them (generate.ts). This test recomputes them with the current code, so a
 * change to the host loss, its gradients, the featurisation, the diagnostics or the verdict fails here;
 * python/tests/test_parity.py requires the PyTorch side to give the same values within 1e-5.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { QUALITY_STATE_NAMES } from '../../src/core/quality/qualityVerdict';
import { tsExpected, type ParityExpected, type ParityInputs } from '../fixtures/parity/tsSide';
import { dpsrExpected, type DpsrBatch, type DpsrResult } from '../fixtures/parity/dpsrSide';
import { DPSR_BETA } from '../../src/core/model/towers/dpsr';

const dir = path.join(__dirname, '../fixtures', 'parity');
const inputs = JSON.parse(fs.readFileSync(path.join(dir, 'inputs.json'), 'utf8')) as ParityInputs;
const expected = JSON.parse(fs.readFileSync(path.join(dir, 'expected.json'), 'utf8')) as ParityExpected;

/** Numbers equal within 1e-12 (relative above 1); everything else deep-equal. */
function assertClose(actual: unknown, want: unknown, where: string): void {
  if (typeof want === 'number') {
    assert.equal(typeof actual, 'number', where);
    assert.ok(Math.abs((actual as number) - want) <= 1e-12 * Math.max(1, Math.abs(want)), `${where}: ${String(actual)} vs ${want}`);
  } else if (Array.isArray(want)) {
    assert.ok(Array.isArray(actual) && actual.length === want.length, `${where}: length`);
    want.forEach((w, i) => assertClose((actual as unknown[])[i], w, `${where}[${i}]`));
  } else if (want !== null && typeof want === 'object') {
    assert.ok(actual !== null && typeof actual === 'object', where);
    assert.deepEqual(Object.keys(actual as object).sort(), Object.keys(want).sort(), `${where}: keys`);
    for (const [k, w] of Object.entries(want)) assertClose((actual as Record<string, unknown>)[k], w, `${where}.${k}`);
  } else assert.equal(actual, want, where);
}

const now = tsExpected(inputs);

test('parity fixtures: the host loss and its gradients still give the expected values for every variant', () => {
  assert.equal(inputs.variants.length, 11);
  for (const b of inputs.batches)
    for (const v of inputs.variants) assertClose(now.losses[b.name][v.name], expected.losses[b.name][v.name], `${b.name} / ${v.name}`);
});

test('parity fixtures: the featurisation still gives the expected feature ids', () => {
  assertClose(now.features, expected.features, 'features');
});

test('parity fixtures: the step diagnostics and collapse verdicts are still the expected ones', () => {
  assertClose(now.diagnostics, expected.diagnostics, 'diagnostics');
  assert.deepEqual(now.verdicts, expected.verdicts);
  const states = new Set(Object.values(expected.verdicts).flatMap((vs) => vs.map((v) => v.state)));
  for (const s of ['initialising', 'healthy', 'warning', 'collapsing', 'collapsed', 'never-separated'])
    assert.ok(states.has(s as never), `fixture covers ${s}`);
});

test('parity fixtures: the learned-value warnings are still the expected ones, and the cases cover every rule', () => {
  assert.deepEqual(now.learned, expected.learned);
  const said = Object.values(expected.learned ?? {}).flat();
  for (const rule of [/at its floor/, /above its ceiling/, /grew ×\d+ within/])
    assert.ok(
      said.some((w) => w !== null && rule.test(w)),
      `fixture covers ${rule}`,
    );
  assert.ok(expected.learned?.['δ₀ bounces near its floor'].every((w) => w === null));
});

test('parity fixtures: the quality verdicts are still the expected ones, and the cases cover every state', () => {
  assert.deepEqual(now.quality, expected.quality);
  const states = new Set(Object.values(expected.quality ?? {}).flatMap((vs) => vs.map((v) => v.state)));
  for (const s of QUALITY_STATE_NAMES) assert.ok(states.has(s), `fixture covers ${s}`);
});

test('DPSR parity fixture (dpsr.json): the multi-head attention score, host loss and gradients still give the expected values', () => {
  const fixture = JSON.parse(fs.readFileSync(path.join(dir, 'dpsr.json'), 'utf8')) as {
    beta: number;
    batches: DpsrBatch[];
    variants: ParityInputs['variants'];
    expected: Record<string, Record<string, DpsrResult>>;
  };
  assert.equal(fixture.beta, DPSR_BETA, 'β of the fixture');
  for (const b of fixture.batches)
    for (const v of fixture.variants) assertClose(dpsrExpected(b, v.loss), fixture.expected[b.name][v.name], `dpsr ${b.name}: ${v.name}`);
});
