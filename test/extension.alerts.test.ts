import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { loadExamples } from '../src/core/data/load';
import { badLineProblems, MAX_BAD_LINE_DIAGNOSTICS } from '../src/extension/badLineMessages';
import type { CollapseState } from '../src/core/metrics/types';
import { alertMessage, VerdictAlertPolicy } from '../src/extension/verdictAlerts';

test('collapse alerts: one per run and level, a recovered notice, nothing for initialising', () => {
  const p = new VerdictAlertPolicy();
  const seq = [
    'initialising',
    'initialising',
    'healthy',
    'warning',
    'warning',
    'healthy',
    'warning',
    'collapsing',
    'collapsed',
    'collapsed',
    'collapsing',
    'collapsed',
    'healthy',
    'healthy',
    'collapsed',
  ] as const;
  assert.deepEqual(
    seq.map((s) => p.observe('run-a', s)?.kind ?? null),
    [null, null, null, 'warning', null, 'recovered', null, 'collapsing', 'collapsed', null, null, null, 'recovered', null, null],
  );
  // Runs are independent; a run that starts collapsed alerts at once; initialising → never separated alerts once.
  assert.deepEqual(p.observe('run-b', 'collapsed'), { kind: 'collapsed' });
  assert.deepEqual(
    ['initialising', 'never-separated', 'initialising', 'never-separated'].map((s) => p.observe('run-c', s as CollapseState)?.kind ?? null),
    [null, 'never-separated', null, null],
  );
  p.forget('run-c');
  assert.deepEqual(p.observe('run-c', 'warning'), { kind: 'warning' }, 'a forgotten run starts over');
});

test('alert texts name the run, the step, R and the reason', () => {
  const run = { name: 'shop-adaptive-softmax', step: 40, reason: 'item cosine 0.99 > 0.90 and R 0.0063 < 1 since step 10', ratio: 'R 0.01' };
  assert.equal(
    alertMessage({ kind: 'collapsed' }, run),
    'Retrieval Lens · run shop-adaptive-softmax: training has collapsed at step 40 (R 0.01; item cosine 0.99 > 0.90 and R 0.0063 < 1 since step 10). Items are becoming indistinguishable.',
  );
  assert.match(alertMessage({ kind: 'collapsing' }, run), /^Retrieval Lens · run shop-adaptive-softmax: training is collapsing at step 40 \(R 0\.01; /);
  assert.equal(
    alertMessage({ kind: 'recovered' }, { ...run, step: 90, ratio: 'R 3.10' }),
    'Retrieval Lens · run shop-adaptive-softmax: recovered at step 90: the collapse verdict is healthy again (R 3.10).',
  );
});

test('bad data lines become per-file problems: the first 100 in line order, each message with the total', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rlens-bad-'));
  try {
    const file = path.join(dir, 'pairs.jsonl');
    const lines: string[] = [];
    for (let i = 0; i < 3000; i++) {
      if (i % 20 === 7) lines.push(i % 40 === 7 ? '{"query": "q"}' : '{broken');
      else lines.push(JSON.stringify({ query: `q${i}`, positive: `item ${i}` }));
    }
    fs.writeFileSync(file, lines.join('\n') + '\n');
    const { report } = await loadExamples({ path: file, maxBadLineShare: 1 });
    assert.equal(report.badCount, 150);
    const byFile = badLineProblems(report.badLines, report.badCount);
    assert.deepEqual([...byFile.keys()], [file]);
    const problems = byFile.get(file)!;
    assert.equal(problems.length, MAX_BAD_LINE_DIAGNOSTICS);
    assert.deepEqual(
      problems.slice(0, 3).map((p) => p.line),
      [7, 27, 47],
      '0-based lines of the bad 1-based lines 8, 28, 48',
    );
    assert.ok(problems.every((p, i) => i === 0 || p.line > problems[i - 1].line));
    assert.ok(
      problems.every((p) => p.message.includes('150 bad lines in this load (first 100 listed)')),
      problems[0].message,
    );
    assert.match(problems[0].message, /positive/);
    assert.notEqual(problems[0].message, problems[1].message, 'each line says what is wrong with it');
    const one = badLineProblems(report.badLines.slice(0, 1), 1);
    assert.match(one.get(file)![0].message, /— 1 bad line in this load$/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
