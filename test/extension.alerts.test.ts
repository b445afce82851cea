import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { loadExamples } from '../src/core/data/load';
import { badLineProblems, MAX_BAD_LINE_DIAGNOSTICS } from '../src/extension/badLineMessages';
import { VerdictAlertPolicy } from '../src/extension/verdictAlerts';

test('collapse alerts: every entry into "collapsed", only the first "warning" of a run', () => {
  const p = new VerdictAlertPolicy();
  const seq = ['healthy', 'warning', 'warning', 'healthy', 'warning', 'collapsed', 'collapsed', 'warning', 'collapsed', 'healthy', 'collapsed'] as const;
  assert.deepEqual(seq.map((s) => p.observe('run-a', s)), [null, 'warning', null, null, null, 'collapsed', null, null, 'collapsed', null, 'collapsed']);
  // Runs are independent; a run that starts collapsed alerts at once.
  assert.equal(p.observe('run-b', 'collapsed'), 'collapsed');
  assert.equal(p.observe('run-c', 'warning'), 'warning');
  p.forget('run-c');
  assert.equal(p.observe('run-c', 'warning'), 'warning', 'a forgotten run starts over');
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
    assert.deepEqual(problems.slice(0, 3).map((p) => p.line), [7, 27, 47], '0-based lines of the bad 1-based lines 8, 28, 48');
    assert.ok(problems.every((p, i) => i === 0 || p.line > problems[i - 1].line));
    assert.ok(problems.every((p) => p.message.includes('150 bad lines in this load (first 100 listed)')), problems[0].message);
    assert.match(problems[0].message, /positive/);
    assert.notEqual(problems[0].message, problems[1].message, 'each line says what is wrong with it');
    const one = badLineProblems(report.badLines.slice(0, 1), 1);
    assert.match(one.get(file)![0].message, /— 1 bad line in this load$/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
