/**
 * The one rule for "A beats B" (src/core/experiments/claim.ts): Welch's t-test against an independent
 * oracle (Student's t density integrated numerically here, and t-table critical values), no claim below two
 * seeds an arm, and the ablation notes and the sweep summary that use it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareArms, welchTTest } from '../../src/core/experiments/claim';
import { ablationNotes, meanStd, sweepSummaryText } from '../../src/core/experiments/summary';
import type { AblationFile, SweepSummary } from '../../src/core/experiments/sweepFile';

/** Two-sided p of Student's t by Simpson integration of its density (log-gamma by Lanczos): an oracle independent of jStat. */
function oracleP(t: number, df: number): number {
  const lgamma = (z: number): number => {
    const g = [
      676.5203681218851, -1259.1392167224028, 771.3234287776531, -176.6150291621406, 12.507343278686905, -0.13857109526572012, 9.984369578019572e-6,
      1.5056327351493116e-7,
    ];
    if (z < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * z)) - lgamma(1 - z);
    z -= 1;
    let x = 0.9999999999998099;
    for (let i = 0; i < 8; i++) x += g[i] / (z + i + 1);
    const tt = z + 7.5;
    return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(tt) - tt + Math.log(x);
  };
  const c = Math.exp(lgamma((df + 1) / 2) - lgamma(df / 2)) / Math.sqrt(df * Math.PI);
  const pdf = (x: number) => c * (1 + (x * x) / df) ** (-(df + 1) / 2);
  const n = 20000;
  const h = Math.abs(t) / n;
  let s = pdf(0) + pdf(Math.abs(t));
  for (let i = 1; i < n; i++) s += (i % 2 ? 4 : 2) * pdf(i * h);
  return 1 - 2 * ((s * h) / 3);
}

test("Welch's t-test: statistic, Welch–Satterthwaite df and p agree with the formulas and a numerical oracle", () => {
  const a = [0.31, 0.35, 0.33, 0.36];
  const b = [0.29, 0.3, 0.27, 0.31, 0.28];
  const r = welchTTest(a, b);
  const ma = meanStd(a);
  const mb = meanStd(b);
  const va = ma.std! ** 2 / a.length;
  const vb = mb.std! ** 2 / b.length;
  assert.ok(Math.abs(r.t - (ma.mean! - mb.mean!) / Math.sqrt(va + vb)) < 1e-12);
  assert.ok(Math.abs(r.df - (va + vb) ** 2 / (va ** 2 / 3 + vb ** 2 / 4)) < 1e-9);
  assert.ok(Math.abs(r.p - oracleP(r.t, r.df)) < 1e-6, `p ${r.p} vs oracle ${oracleP(r.t, r.df)}`);
  // Equal n and variances: df = 2(n − 1) = 4, and the t-table's two-sided 5 % and 1 % points (2.776, 4.604).
  const spread = (m: number) => [m - 0.01, m, m + 0.01];
  const se = Math.sqrt((2 * 0.0001) / 3);
  for (const [tCrit, pExpected] of [
    [2.776, 0.05],
    [4.604, 0.01],
  ]) {
    const r4 = welchTTest(spread(0.5 + tCrit * se), spread(0.5));
    assert.ok(Math.abs(r4.df - 4) < 1e-9);
    assert.ok(Math.abs(r4.p - pExpected) < 2e-4, `t = ${tCrit}, df 4: p ${r4.p}, table ${pExpected}`);
  }
});

test('no claim below two seeds an arm, whatever the gap; a significant gap names the winner, the test and n', () => {
  const one = compareArms({ label: 'adaptive', values: [0.308] }, { label: 'best fixed', values: [0.323] }, 'recall@10');
  assert.equal(one.winner, 'too-few');
  assert.doesNotMatch(one.text, /beats/);
  assert.match(one.text, /adaptive vs best fixed: -1\.5 points of recall@10, n = 1 vs 1: fewer than 2 seeds an arm, no claim/);
  // The case: 29.6 ± 1.1 against 29.1 ± 0.2 over 3 seeds is no significant difference.
  const close = compareArms({ label: 'adaptive', values: [0.285, 0.296, 0.307] }, { label: 'fixed', values: [0.289, 0.291, 0.293] }, 'recall@10');
  assert.equal(close.winner, 'none');
  assert.match(close.text, /\+0\.5 points of recall@10, no significant difference \(Welch's t-test p = 0\.5\d\d, n = 3 vs 3\)/);
  const far = compareArms({ label: 'adaptive', values: [0.397, 0.399, 0.403] }, { label: 'fixed τ = 0.1', values: [0.459, 0.461, 0.463] }, 'recall@10');
  assert.equal(far.winner, 'b');
  assert.match(far.text, /^fixed τ = 0\.1 beats adaptive: adaptive -6\.1 points of recall@10 \(Welch's t-test p = (< 0\.001|0\.00\d), n = 3 vs 3\)$/);
});

function ablation(seeds: number[], paper: number[], fixed: number[]): AblationFile {
  const row = (variant: AblationFile['rows'][number]['variant'], label: string, v: number[]) => ({
    variant,
    label,
    completed: v.length,
    planned: v.length,
    columns: { 'recall@10': meanStd(v) },
    verdicts: v.map(() => 'healthy'),
    runDirs: v.map((_, i) => `r${i}`),
  });
  return {
    version: 1,
    configPath: 'x.rlens.json',
    seeds,
    steps: 100,
    source: 'corpus',
    columns: ['recall@10'],
    best: {},
    rows: [row('margin-fixed', 'fixed margin δ', fixed), row('margin-adaptive-sg-sym', 'adaptive margin + sg + symmetric', paper)],
    code: { retrievalLens: 'test', gitCommit: null },
    fixed: { margin: 0.1, temperature: null },
  };
}

test("ablation notes: the paper's method as configured against the fixed loss, the fixed δ named as untuned, no claim with one seed", () => {
  const single = ablationNotes(ablation([42], [0.3], [0.29]))
    .filter((n) => n.startsWith('margin'))
    .join('\n');
  assert.match(single, /margin, the paper's method: adaptive margin \+ sg \+ symmetric vs fixed margin δ = 0\.1 \(the config's value, not tuned/);
  assert.match(single, /no claim/);
  assert.doesNotMatch(single, /beats/);
  const worse = ablationNotes(ablation([1, 2, 3], [0.27, 0.272, 0.268], [0.295, 0.297, 0.293])).join('\n');
  assert.match(
    worse,
    /margin, the paper's method: fixed margin δ = 0\.1 \(the config's value, not tuned[^)]*\) beats adaptive margin \+ sg \+ symmetric: adaptive margin \+ sg \+ symmetric -2\.5 points of recall@10/,
  );
});

test('the sweep summary makes no claim from one seed a value (0.323 against 0.308 was called "beats")', () => {
  const summary: SweepSummary = {
    metric: 'recall@10',
    points: [
      { value: 0.05, ...meanStd([0.31]) },
      { value: 0.1, ...meanStd([0.323]) },
    ],
    reference: meanStd([0.308]),
    bm25: null,
    bestValue: 0.1,
    counts: { completed: 3 },
  };
  const text = sweepSummaryText({ param: 'loss.temperature', metric: 'recall@10', summary });
  assert.match(
    text,
    /the adaptive loss vs the best fixed value \(0\.1, picked after the fact\): -1\.5 points of recall@10, n = 1 vs 1: fewer than 2 seeds an arm, no claim/,
  );
  assert.doesNotMatch(text, /beats/);
});
