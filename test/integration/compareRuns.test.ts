/**
 * Run comparison (src/core/experiments/): the failing-query diff on hand-made failure files (format 2 and
 * the old format 1), the differing config keys, and `retrieval-lens compare` on two really trained and
 * evaluated runs (its tables checked against the runs' own files).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { configDifferences, flattenJson } from '../../src/core/experiments/compareConfig';
import { compareRuns } from '../../src/core/experiments/compareRuns';
import { diffRunFailures, readFailureSet } from '../../src/core/experiments/failureDiff';
import { readFailuresFile } from '../../src/core/eval/evalOutputs';
import { TRIAGE_LABELS } from '../../src/core/eval/types';
import { readEvents } from '../../src/core/runs/eventLog';
import { trainComparedRuns, type TrainedPair } from '../helpers/comparedRuns';

const REPO = path.resolve(__dirname, '../..');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rlens-compare-test-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** A run folder holding only eval/failures.jsonl with these lines. */
function runWithFailures(name: string, lines: string[] | null): string {
  const dir = path.join(tmp, name);
  fs.mkdirSync(path.join(dir, 'eval'), { recursive: true });
  if (lines) fs.writeFileSync(path.join(dir, 'eval', 'failures.jsonl'), lines.map((l) => l + '\n').join(''));
  return dir;
}

const TEST = '/data/test.jsonl';
const CORPUS = '/data/corpus.jsonl';
const header = (step: number) =>
  `{"kind":"header","v":2,"step":${step},"search":"exact","rankCutoff":100,"maxQueryTokens":30,"maxItemTokens":100,"corpusSize":50}`;
const files = [`{"file":0,"path":"${TEST}"}`, `{"file":1,"path":"${CORPUS}"}`];
const items = ['{"item":"p1","f":1,"line":1,"snippet":"red running shoe"}', '{"item":"p2","f":1,"line":2,"snippet":"blue sandal"}'];
/** A format-2 failure of query `id` on test line `line`. */
const failure = (id: string, line: number, rank: number | null, label: string, severity: number) =>
  `{"queryId":"${id}","query":"query ${id}","source":{"f":0,"line":${line}},"rank":${rank},"positives":[{"itemId":"p1","rank":${rank},"score":0.2}],"topK":[["p2",0.6,0.1]],"label":"${label}","labelReason":"hand-made","severity":${severity}}`;

test('failing-query diff: queries failing in one run and not the other, with their data lines, worst first', () => {
  // A fails q1, q2, q3, q5; B fails q2, q4, q5, q6. q2 and q5 fail in both.
  const a = runWithFailures('a', [
    header(300),
    ...files,
    ...items,
    failure('q5', 50, null, 'hard-for-both', 101.5),
    failure('q3', 30, 40, 'lexical-miss', 40.1),
    failure('q2', 20, 15, 'lexical-miss', 15.2),
    failure('q1', 10, 12, 'near-duplicate', 12.3),
  ]);
  const b = runWithFailures('b', [
    header(300),
    ...files,
    ...items,
    failure('q6', 60, null, 'hard-for-both', 101.9),
    failure('q5', 50, 70, 'hard-for-both', 70.2),
    failure('q2', 20, 11, 'truncated', 11.4),
    failure('q4', 40, 14, 'lexical-miss', 14.1),
  ]);
  const d = diffRunFailures([a, b]);
  assert.deepEqual(d.evaluated, [true, true]);
  assert.deepEqual(d.totals, [4, 4]);
  assert.deepEqual(d.steps, [300, 300]);
  assert.deepEqual(d.onlyIn, [2, 2]);
  assert.equal(d.inAll, 2);
  // Only in A (worst first: q3 then q1), then only in B (q6 then q4).
  assert.deepEqual(
    d.rows.map((r) => [r.queryId, r.file, r.line, r.runs.map((s) => (s ? `${s.rank}/${s.label}@${s.recordLine}` : null))]),
    [
      ['q3', TEST, 30, ['40/lexical-miss@7', null]],
      ['q1', TEST, 10, ['12/near-duplicate@9', null]],
      ['q6', TEST, 60, [null, 'null/hard-for-both@6']],
      ['q4', TEST, 40, [null, '14/lexical-miss@9']],
    ],
  );
  assert.deepEqual(d.problems, []);
  // Symmetric: swapping the runs swaps the groups.
  const swapped = diffRunFailures([b, a]);
  assert.deepEqual(
    swapped.rows.map((r) => r.queryId),
    ['q6', 'q4', 'q3', 'q1'],
  );
});

test('failing-query diff over three runs: a run without a failures file takes no part; bad lines are located; format 1 is read', () => {
  const a = runWithFailures('a3', [
    header(100),
    ...files,
    ...items,
    failure('q1', 10, 12, 'lexical-miss', 12),
    failure('q2', 20, 30, 'lexical-miss', 30),
    'not json at all',
    failure('q3', 30, 5, 'x', 5),
  ]);
  // Format 1: one full record per line (sources as {file, line}).
  const rec1 = (id: string, line: number, severity: number) =>
    JSON.stringify({
      v: 1,
      step: 100,
      queryId: id,
      query: `query ${id}`,
      source: { file: TEST, line },
      rank: 20,
      rankCutoff: 100,
      positives: [],
      topK: [],
      label: 'ranked-low',
      labelReason: 'old',
      severity,
    });
  const b = runWithFailures('b3', [rec1('q2', 20, 20), rec1('q4', 40, 21)]);
  const notEvaluated = runWithFailures('c3', null);
  const empty = runWithFailures('d3', []);
  assert.equal(readFailureSet(notEvaluated), null);
  const d = diffRunFailures([a, b, notEvaluated, empty]);
  assert.deepEqual(d.evaluated, [true, true, false, true]);
  // q3's label "x" is no label: its line is bad for compare as for the Failing Queries view (one schema).
  assert.deepEqual(d.totals, [2, 2, null, 0]);
  assert.deepEqual(d.onlyIn, [1, 1, 0, 0]);
  assert.equal(d.inAll, 0);
  // q2 fails in A and B but passes in the empty (evaluated, nothing failing) run: a mixed row, after the single-run groups.
  assert.deepEqual(
    d.rows.map((r) => [r.queryId, r.runs.map((s) => s !== null)]),
    [
      ['q1', [true, false, false, false]],
      ['q4', [false, true, false, false]],
      ['q2', [true, true, false, false]],
    ],
  );
  assert.deepEqual(d.problems, [
    `run 1: eval/failures.jsonl:8: invalid JSON: ${jsonError('not json at all')}`,
    `run 1: eval/failures.jsonl:9: label: must be one of ${TRIAGE_LABELS.join(', ')}`,
  ]);
});

function jsonError(text: string): string {
  try {
    JSON.parse(text);
  } catch (e) {
    return (e as Error).message;
  }
  return '';
}

test('config differences: flattened JSON paths with each run’s value; a key missing in one run differs; arrays compare whole', () => {
  assert.deepEqual(
    [...flattenJson({ a: { b: 1, 'x.y': [1, 2] }, c: null, e: {} })],
    [
      ['a.b', 1],
      ['a["x.y"]', [1, 2]],
      ['c', null],
      ['e', {}],
    ],
  );
  const base = { name: 'n', loss: { type: 'softmax', margin: 0.1, adaptive: true }, training: { seed: 1, steps: [1, 2] } };
  const other = { name: 'n', loss: { type: 'margin', margin: 0.1, adaptive: true }, training: { seed: 2, steps: [1, 3] }, extra: 5 };
  assert.deepEqual(configDifferences([base, other]), [
    { path: 'loss.type', values: ['softmax', 'margin'] },
    { path: 'training.seed', values: [1, 2] },
    {
      path: 'training.steps',
      values: [
        [1, 2],
        [1, 3],
      ],
    },
    { path: 'extra', values: [undefined, 5] },
  ]);
  assert.deepEqual(configDifferences([base, structuredClone(base)]), []);
  // An unreadable config (null) neither adds keys nor makes one differ.
  assert.deepEqual(configDifferences([base, null, structuredClone(base)]), []);
});

let pair: TrainedPair;
before(async () => {
  pair = await trainComparedRuns();
});
after(() => pair?.tempDirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

test('compareRuns on two trained, evaluated runs: differing keys, final metrics and failures match the runs’ files', () => {
  const [a, b] = pair.runDirs;
  const c = compareRuns([a, b]);
  const keys = new Map(c.configDifferences.map((d) => [d.path, d.values]));
  assert.deepEqual(keys.get('loss.type'), ['softmax', 'margin']);
  assert.deepEqual(keys.get('loss.adaptive'), [true, false]);
  assert.deepEqual(keys.get('loss.margin'), [0.1, 0.3]);
  assert.equal(keys.has('training.batchSize'), false, 'equal keys are not listed');
  for (const [i, dir] of [a, b].entries()) {
    const events = readEvents(path.join(dir, 'events.jsonl')).events;
    const steps = events.filter((e) => e.type === 'step');
    const last = steps[steps.length - 1];
    assert.equal(last.type, 'step');
    if (last.type !== 'step') continue;
    const row = (k: string) => c.metrics.find((m) => m.key === k)!.values[i];
    assert.equal(row('loss'), last.loss);
    assert.equal(row('ratio'), last.diagnostics.collapse.ratio);
    assert.equal(row('verdict'), last.verdict.state);
    const entry = JSON.parse(fs.readFileSync(path.join(dir, 'eval', 'metrics.json'), 'utf8')).evaluations.at(-1);
    assert.equal(row('eval/recall@10'), entry.exact['recall@10']);
    assert.equal(row('eval/bm25/recall@10'), entry.bm25['recall@10']);
    assert.deepEqual(
      c.runs[i].series.steps,
      steps.map((e) => (e.type === 'step' ? e.step : -1)),
    );
    assert.equal(c.runs[i].series.hyperKind, i === 0 ? 'tau' : 'delta');
    assert.equal(c.failures.totals[i], readFailuresFile(path.join(dir, 'eval', 'failures.jsonl'))!.records.length);
  }
  // The diff agrees with the two sets of query ids.
  const ids = [a, b].map((d) => new Set(readFailuresFile(path.join(d, 'eval', 'failures.jsonl'))!.records.map((f) => f.queryId)));
  const onlyA = [...ids[0]].filter((q) => !ids[1].has(q));
  const onlyB = [...ids[1]].filter((q) => !ids[0].has(q));
  assert.deepEqual(c.failures.onlyIn, [onlyA.length, onlyB.length]);
  assert.equal(c.failures.inAll, [...ids[0]].filter((q) => ids[1].has(q)).length);
  assert.deepEqual(new Set(c.failures.rows.map((r) => r.queryId)), new Set([...onlyA, ...onlyB]));
  assert.ok(onlyA.length + onlyB.length > 0, 'two different losses fail on different queries');
});

test('retrieval-lens compare prints the differing keys, the final metrics and the failing-query diff with file:line', () => {
  const [a, b] = pair.runDirs;
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(REPO, 'src/cli.ts'), 'compare', a, b, '--failures', '3'], {
    encoding: 'utf8',
    cwd: REPO,
  });
  assert.equal(r.status, 0, r.stderr);
  const out = r.stdout;
  const c = compareRuns([a, b]);
  assert.match(out, new RegExp(`^  A  .*${path.basename(a)}  \\(completed, step 40/40, wasm\\)$`, 'm'));
  assert.match(out, /^config keys that differ \(\d+\):$/m);
  assert.match(out, /^ {2}loss\.type\s+softmax\s+margin$/m);
  assert.match(out, /^ {2}loss\.margin\s+0\.1\s+0\.3$/m);
  const recall = c.metrics.find((m) => m.key === 'eval/recall@10')!.values as number[];
  assert.match(
    out,
    new RegExp(`^  recall@10\\s+${String(+recall[0].toPrecision(4)).replace('.', '\\.')}\\s+${String(+recall[1].toPrecision(4)).replace('.', '\\.')}$`, 'm'),
  );
  assert.match(out, new RegExp(`^  fail only in A: ${c.failures.onlyIn[0]} · fail only in B: ${c.failures.onlyIn[1]} · fail in all: ${c.failures.inAll}`, 'm'));
  // The first listed query of the "only A" group, with its data file:line.
  const first = c.failures.rows.find((x) => x.runs[0] && !x.runs[1]);
  if (first) {
    assert.ok(out.includes(`fail in A, pass in B (${c.failures.onlyIn[0]}`));
    assert.ok(out.includes(`${path.relative(REPO, first.file)}:${first.line}  ${first.queryId}`), 'the query with its data line');
    const line = fs.readFileSync(first.file, 'utf8').split('\n')[first.line - 1];
    assert.ok(line.includes(JSON.stringify(first.query).slice(1, -1)), `line ${first.line} of ${first.file} holds the query`);
  }
  // Fewer than two runs, or a folder that is not a run: exit 2 with a clear message.
  const one = spawnSync(process.execPath, ['--import', 'tsx', path.join(REPO, 'src/cli.ts'), 'compare', a], { encoding: 'utf8', cwd: REPO });
  assert.equal(one.status, 2);
  assert.match(one.stderr, /compare needs two or more run folders, got 1/);
  const notRun = spawnSync(process.execPath, ['--import', 'tsx', path.join(REPO, 'src/cli.ts'), 'compare', a, tmp], { encoding: 'utf8', cwd: REPO });
  assert.equal(notRun.status, 2);
  assert.match(notRun.stderr, new RegExp(`not a run folder \\(no meta\\.json or events\\.jsonl\\): ${tmp.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
});
