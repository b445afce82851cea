/**
 * Reproduces the paper's collapse (docs/collapse.md): the adaptive margin δ_ji = δ₀ + α(1 − s(v_j, v_i))
 * without the stop-gradient collapses the item embeddings, while the paper's setting (sg + symmetric
 * term) trains normally. Both example configs in examples/collapse/ run through the real trainer on the
 * wasm backend; the assertions read the step events of the run folders. About 10–15 s in total.
 * In-batch recall@10 does not separate the two runs (both reach ≈ 1): see docs/collapse.md.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { initBackend, type BackendInfo } from '../../src/core/backend';
import { parseConfigText, type LoadedConfig } from '../../src/core/config';
import { EVENTS_FILE, readEvents, type StepEvent } from '../../src/core/runs';
import { runTraining } from '../../src/core/training/trainLoop';
import { finite } from '../helpers/finite';

const EXAMPLES = path.resolve(__dirname, '../../examples/collapse');
const NO_SG = path.join(EXAMPLES, 'no-stop-gradient.rlens.json');
const SG_SYM = path.join(EXAMPLES, 'stop-gradient.rlens.json');

let backend: BackendInfo;
let runsRoot: string;

before(async () => {
  backend = await initBackend('wasm');
  runsRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'rlens-collapse-'));
});
after(() => {
  if (runsRoot) fs.rmSync(runsRoot, { recursive: true, force: true });
});

function load(file: string): LoadedConfig {
  return parseConfigText(fs.readFileSync(file, 'utf8'), file);
}

interface RunOutcome {
  steps: StepEvent[];
  status: string;
}

/** Trains a config into the temp runs root and returns its logged step events (from events.jsonl). */
async function train(file: string): Promise<RunOutcome> {
  const result = await runTraining({ loaded: load(file), backend, runsRoot });
  const read = readEvents(path.join(result.runDir, EVENTS_FILE));
  assert.equal(read.badLines.length, 0, `bad lines in ${result.runDir}/events.jsonl`);
  const steps = read.events.filter((e): e is StepEvent => e.type === 'step');
  return { steps, status: result.status };
}

const cosine = (e: StepEvent) => finite(e.diagnostics.collapse.itemCosine, `item cosine at step ${e.step}`);
const recall10 = (e: StepEvent) => finite(e.diagnostics.recall.at10, `in-batch recall@10 at step ${e.step}`);
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
/** Per-step trace for failure messages: step:itemCosine/recall@10/verdict. */
const trace = (steps: StepEvent[]) => steps.map((e) => `${e.step}:${cosine(e).toFixed(3)}/${recall10(e).toFixed(3)}/${e.verdict.state}`).join(' ');

test('the two collapse configs differ only in loss.stopGradient and loss.symmetric', () => {
  const strip = (file: string) => {
    const { config } = load(file);
    const { stopGradient, symmetric, ...loss } = config.loss;
    return { stopGradient, symmetric, rest: { ...config, name: '', loss } };
  };
  const a = strip(NO_SG);
  const b = strip(SG_SYM);
  assert.deepEqual(a.rest, b.rest);
  assert.deepEqual([a.stopGradient, a.symmetric], [false, false]);
  assert.deepEqual([b.stopGradient, b.symmetric], [true, true]);
  const loss = load(NO_SG).config.loss;
  assert.equal(loss.type, 'margin');
  assert.equal(loss.adaptive, true);
});

// Run once, shared by the tests below (the node:test runner runs the tests of a file in order).
let noSg: Promise<RunOutcome> | undefined;
let sgSym: Promise<RunOutcome> | undefined;
const noSgRun = () => (noSg ??= train(NO_SG));
const sgSymRun = () => (sgSym ??= train(SG_SYM));

test('(a) adaptive margin without stop-gradient (and without the symmetric term) collapses', async () => {
  const { steps, status } = await noSgRun();
  assert.equal(status, 'completed');
  assert.equal(steps.length, 21, 'step events at 1, 10, 20, …, 200');
  const t = trace(steps);

  const first = steps[0];
  const last = steps[steps.length - 1];
  // Starts spread out (item cosine 0.35, effective rank 22): the collapse is caused by training.
  assert.ok(cosine(first) < 0.6, `initial item cosine ${cosine(first)} should be < 0.6\n${t}`);
  assert.ok((first.diagnostics.collapse.effectiveRank ?? 0) > 10, `initial effective rank ${first.diagnostics.collapse.effectiveRank}`);
  assert.equal(first.verdict.state, 'initialising');

  // The monitor says "collapsed" early, for the stalled collapse signature, and keeps saying it to the end.
  const firstCollapsed = steps.find((e) => e.verdict.state === 'collapsed');
  assert.ok(firstCollapsed, `no step event with verdict "collapsed"\n${t}`);
  assert.ok(firstCollapsed.step <= 50, `verdict "collapsed" only at step ${firstCollapsed.step}\n${t}`);
  const late = steps.filter((e) => e.step >= 50);
  for (const e of late) {
    assert.ok(cosine(e) > 0.9, `item cosine ${cosine(e)} at step ${e.step} should stay > 0.9\n${t}`);
    assert.equal(e.verdict.state, 'collapsed', `verdict at step ${e.step}\n${t}`);
    assert.match(e.verdict.reason, /item cosine \d\.\d\d > 0\.90 and R 0\.0\d+ < 1 since step \d+, no progress: /, `verdict reason at step ${e.step}`);
  }
  // s(v, v⁻) → 1, positives no longer beat the negatives on the item side, the batch spans ~3 dimensions.
  assert.ok(cosine(last) > 0.95, `final item cosine ${cosine(last)}\n${t}`);
  assert.ok(finite(last.diagnostics.dist.sVNeg.p05, 's(v,v⁻) p05') > 0.9, `s(v,v⁻) p05 ${last.diagnostics.dist.sVNeg.p05} should be > 0.9`);
  assert.ok(finite(last.diagnostics.collapse.gap, 'gap') < 0, `gap ${last.diagnostics.collapse.gap} should be < 0`);
  assert.ok(finite(last.diagnostics.collapse.violationRate, 'violation rate') > 0.9, `violation rate ${last.diagnostics.collapse.violationRate}`);
  const rank = last.diagnostics.collapse.effectiveRank;
  assert.ok(rank !== null && rank < 6, `final effective rank ${rank} should be < 6`);
  // The collapsed arrangement is a minimum of the loss (≈ 0), not a failure to optimise it: with sg
  // off, nothing pushes the items apart again (docs/collapse.md).
  const lateLoss = mean(late.map((e) => e.lossQ ?? NaN));
  assert.ok(lateLoss < 0.01, `mean loss over steps ≥ 50: ${lateLoss} should be ≈ 0`);
});

test('(b) the same config with stop-gradient and the symmetric term does not collapse and learns', async () => {
  const { steps, status } = await sgSymRun();
  assert.equal(status, 'completed');
  assert.equal(steps.length, 21, 'step events at 1, 10, 20, …, 200');
  const t = trace(steps);

  for (const e of steps) {
    assert.notEqual(e.verdict.state, 'collapsed', `verdict at step ${e.step}: ${e.verdict.reason}\n${t}`);
    assert.ok(cosine(e) < 0.6, `item cosine ${cosine(e)} at step ${e.step} should stay well below 0.9\n${t}`);
  }
  const first = steps[0];
  const last = steps[steps.length - 1];
  assert.ok(cosine(last) < 0.2, `final item cosine ${cosine(last)}\n${t}`);
  assert.equal(last.verdict.state, 'healthy', last.verdict.reason);
  assert.ok(finite(last.diagnostics.collapse.gap, 'gap') > 0.5, `gap ${last.diagnostics.collapse.gap} should be clearly positive`);
  // Not a hidden degeneracy either: a mean cosine ≈ 0 could also be two antipodal clusters.
  const rank = last.diagnostics.collapse.effectiveRank;
  assert.ok(rank !== null && rank > 10, `final effective rank ${rank} should be > 10`);
  // In-batch recall@10 rises (0.14 → ≈ 0.98 at the time of writing).
  assert.ok(recall10(last) > recall10(first) + 0.3, `recall@10 ${recall10(first)} → ${recall10(last)}\n${t}`);
  assert.ok(mean(steps.slice(-5).map(recall10)) > 0.8, `recall@10 over the last 5 logged steps\n${t}`);
});
