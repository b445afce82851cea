/**
 * The dashboard shows a run written by the PyTorch trainer: a real 2-rank torchrun job (gloo on CPU,
 * python/retrieval_lens) on the bundled example, read back the way the extension follows a run
 * (src/extension/dashboard/runFeed.ts) and shown in the real Dashboard webview in headless Chromium.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import { RunFeed } from '../../src/extension/dashboard/runFeed';
import { parseToDashboard, type StepEvent, type ToDashboard } from '../../src/webview/dashboard/protocol';
import {
  cspViolations,
  launchBrowser,
  openDashboard,
  requireBundle,
  send,
  startPageServer,
  type Browser,
  type PageServer,
} from '../fixtures/dashboard/harness';

const ROOT = path.resolve(__dirname, '../..');
const PYTHON = '/usr/bin/python3';

let server: PageServer;
let browser: Browser;
let runDir = '';
let tmp = '';

/** Runs `python -m retrieval_lens.launch --standalone --nproc_per_node 2 -m retrieval_lens.train …` to its end. */
function trainWithTorchrun(out: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const args = [
    '-m',
    'retrieval_lens.launch',
    '--standalone',
    '--nproc_per_node',
    '2',
    '-m',
    'retrieval_lens.train',
    path.join(ROOT, 'examples/shop/shop.rlens.json'),
  ];
  const sets = ['training.batchSize=32', 'training.logEvery=1', 'model.vocabBuckets=4096', 'evaluation.every=3'];
  const child = spawn(PYTHON, [...args, '--out', out, '--steps', '6', ...sets.flatMap((s) => ['--set', s])], {
    env: { ...process.env, PYTHONPATH: path.join(ROOT, 'python'), OMP_NUM_THREADS: '1' },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

before(async () => {
  requireBundle();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rlens-torch-'));
  const r = await trainWithTorchrun(tmp);
  assert.equal(r.code, 0, r.stderr.slice(-3000));
  const m = /^run: (.+)$/m.exec(r.stdout);
  assert.ok(m, r.stdout);
  runDir = m[1];
  server = await startPageServer();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.close();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

const pointCounts = (page: Page) =>
  page.evaluate(() => window.__rlensDashboard!.pointCounts()) as Promise<Record<string, { logged: number; charted: number | null }>>;
const latest = (page: Page) =>
  page.evaluate(() => window.__rlensDashboard!.latest()) as Promise<{
    step: number | null;
    values: Record<string, number | null>;
    hyperKind: string | null;
    histogram: { step: number; lo: number; hi: number; counts: number[] } | null;
  }>;
const text = (page: Page, role: string) => page.locator(`[data-role="${role}"]`).innerText();

test('a 2-rank PyTorch run is shown by the dashboard: every logged step charted, latest values, τ histogram, evaluations, header', async () => {
  const messages: ToDashboard[] = new RunFeed(runDir).resetMessages();
  for (const m of messages) assert.ok(parseToDashboard(m).ok, `protocol: ${JSON.stringify(m).slice(0, 200)}`);
  const reset = messages[0];
  assert.equal(reset.type, 'reset');
  const steps: StepEvent[] = messages.flatMap((m) => (m.type === 'reset' || m.type === 'steps' ? m.steps : []));
  assert.deepEqual(
    steps.map((s) => s.step),
    [1, 2, 3, 4, 5, 6],
  );
  const { page, log } = await openDashboard(browser, server);
  await send(page, messages);
  const c = await pointCounts(page);
  for (const id of ['hyper.p50', 'sim.qv', 'sim.vneg', 'collapse.ratio', 'collapse.itemCosine', 'loss.total', 'loss.sym', 'recall.at10']) {
    assert.equal(c[id].logged, 6, id);
    assert.equal(c[id].charted, 6, id);
  }
  const last = steps[steps.length - 1];
  const l = await latest(page);
  assert.equal(l.step, 6);
  assert.equal(l.hyperKind, 'tau');
  assert.equal(l.values['loss.total'], last.loss);
  assert.equal(l.values['collapse.ratio'], last.diagnostics.collapse.ratio);
  assert.equal(l.values['recall.at10'], last.diagnostics.recall.at10);
  assert.deepEqual(l.histogram?.counts, last.diagnostics.dist.tau!.hist.counts);
  assert.ok((c.eval as unknown as { logged: number }).logged >= 2 * 7, 'two periodic evaluations with 7 metrics each');
  // The evaluation chart shows one metric at a time (recall@10 first): the exact line has a point per evaluation.
  const evalChart = await page.evaluate(() => window.__rlensDashboard!.evalChart());
  assert.equal(evalChart.metric, 'recall@10');
  assert.ok(
    (evalChart.lines.find((l) => /exact/i.test(l.label))?.points ?? 0) >= 2,
    `exact recall@10 charted at each evaluation: ${JSON.stringify(evalChart.lines)}`,
  );
  assert.equal(await text(page, 'run-status'), 'completed');
  assert.equal(await text(page, 'run-backend'), 'torch-cpu');
  assert.equal(await text(page, 'run-step'), 'step 6 / 6');
  assert.equal(await text(page, 'verdict-reason'), last.verdict.reason);
  assert.deepEqual(await cspViolations(page), []);
  assert.deepEqual(log.errors, []);
  await page.close();
});
