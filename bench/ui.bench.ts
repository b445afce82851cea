/**
 * Dashboard webview benchmark (real bundle, headless Chromium): with 1k, 10k and 100k logged steps
 * already shown, the cost of one more `steps` message — the message handler (validate, append to the
 * exact columns, decimate) and the redraw of the next animation frame (header, badge, Chart.js
 * update('none') of the visible charts) — and the message rate the dashboard sustains. Steps are
 * synthetic, derived from the last step of the recorded softmax run (test/fixtures/dashboard).
 *
 *   npm run build && node --import tsx bench/ui.bench.ts
 *
 * Prints tables; asserts nothing (the 16 ms target is a number to read, not a test).
 */
import * as os from 'os';
import type { Page } from 'playwright-core';
import { launchBrowser, loadRecording, openDashboard, postSynthetic, send, startPageServer, SYNTHETIC_STEPS_JS } from '../test/fixtures/dashboard/harness';
import type { RunHeader, StepEvent } from '../src/webview/dashboard/protocol';

/** BENCH_SIZES=1000,10000 to run fewer sizes. */
const SIZES = (process.env.BENCH_SIZES ?? '1000,10000,100000').split(',').map(Number);
/** Runs overlaid on the per-step charts, each with as many steps as the run shown (BENCH_OVERLAYS=0 to skip). */
const OVERLAYS = (process.env.BENCH_OVERLAYS ?? '0,5').split(',').map(Number);
const ROUNDS = 60;
const BURST = 1_000;
const LOAD_CHUNK = 2_000;

const VIEWPORTS = {
  'sidebar 360×900 (≈3 charts on screen)': { width: 360, height: 900 },
  'editor 1280×2400 (all 8 charts on screen)': { width: 1280, height: 2400 },
};

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

const fmt = (x: number, d = 2) => x.toFixed(d).padStart(8);

/**
 * Sends ROUNDS single-step messages, one at a time, 250 ms apart (the trainer sends ≤ 10/s). For each:
 * the handler time, the longest animation frame until every visible chart shows the new step (the
 * main-thread block the message causes), and that latency.
 */
async function measureOneMore(page: Page, base: StepEvent, from: number): Promise<{ handle: number[]; frame: number[]; total: number[]; latency: number[] }> {
  return (await page.evaluate(`(async function () {
    var gen = ${SYNTHETIC_STEPS_JS};
    var base = ${JSON.stringify(base)};
    var hook = window.__rlensDashboard;
    var nextFrame = function () { return new Promise(function (res) { requestAnimationFrame(function () { res(); }); }); };
    var handle = [], frame = [], total = [], latency = [];
    for (var r = 0; r < ${ROUNDS}; r++) {
      await new Promise(function (res) { setTimeout(res, 250); });
      var msg = { type: 'steps', steps: gen(base, ${from} + r, ${from} + r + 1) };
      var s0 = hook.state().stats;
      var t0 = performance.now();
      window.postMessage(msg, '*');
      while (hook.state().stats.messages === s0.messages) await new Promise(function (res) { setTimeout(res, 0); });
      var h = hook.state().stats.lastHandleMs;
      var worst = 0, frames = s0.frames;
      for (;;) {
        await nextFrame();
        var s = hook.state();
        if (s.stats.frames !== frames) { frames = s.stats.frames; worst = Math.max(worst, s.stats.lastFrameMs); }
        if (!s.renderPending) break;
      }
      handle.push(h);
      frame.push(worst);
      total.push(h + worst);
      latency.push(performance.now() - t0);
    }
    return { handle: handle, frame: frame, total: total, latency: latency };
  })()`)) as { handle: number[]; frame: number[]; total: number[]; latency: number[] };
}

/** Posts BURST messages of `perMessage` steps back to back; time until all are handled and drawn. */
async function measureBurst(page: Page, base: StepEvent, from: number, perMessage: number): Promise<{ ms: number; frames: number }> {
  return (await page.evaluate(`(async function () {
    var gen = ${SYNTHETIC_STEPS_JS};
    var base = ${JSON.stringify(base)};
    var hook = window.__rlensDashboard;
    var msgs = [];
    for (var i = 0; i < ${BURST}; i++) msgs.push({ type: 'steps', steps: gen(base, ${from} + i * ${perMessage}, ${from} + (i + 1) * ${perMessage}) });
    var s0 = hook.state().stats;
    var t0 = performance.now();
    for (var i = 0; i < msgs.length; i++) window.postMessage(msgs[i], '*');
    while (true) {
      var s = hook.state();
      if (s.stats.messages - s0.messages >= msgs.length && !s.renderPending) break;
      await new Promise(function (res) { setTimeout(res, 1); });
    }
    return { ms: performance.now() - t0, frames: hook.state().stats.frames - s0.frames };
  })()`)) as { ms: number; frames: number };
}

/** Overlays `runs` runs of steps 0..n−1 (generated in the page, posted as `overlay` messages of LOAD_CHUNK steps). */
async function postOverlays(page: Page, base: StepEvent, runs: number, n: number): Promise<void> {
  const before = await page.evaluate(() => (window.__rlensDashboard!.state() as { stats: { messages: number } }).stats.messages);
  await page.evaluate(`(function () {
    var gen = ${SYNTHETIC_STEPS_JS};
    var base = ${JSON.stringify(base)};
    for (var r = 0; r < ${runs}; r++)
      for (var f = 0; f < ${n}; f += ${LOAD_CHUNK})
        window.postMessage({ type: 'overlay', runDir: '/runs/overlay-' + r, name: 'overlay ' + r, reset: f === 0, steps: gen(base, f, Math.min(f + ${LOAD_CHUNK}, ${n})) }, '*');
  })()`);
  await page.waitForFunction(
    (k) => {
      const s = window.__rlensDashboard!.state() as { stats: { messages: number }; renderPending: boolean };
      return s.stats.messages >= k && !s.renderPending;
    },
    before + runs * Math.ceil(n / LOAD_CHUNK),
    { timeout: 600_000 },
  );
}

async function main(): Promise<void> {
  const rec = loadRecording('softmax');
  const steps = rec.messages.flatMap((m) => (m.message.type === 'steps' ? m.message.steps : []));
  const base = steps[steps.length - 1];
  const header = rec.messages
    .filter((m) => m.message.type === 'status')
    .map((m) => (m.message as { run: RunHeader }).run)
    .pop()!;
  const server = await startPageServer();
  const browser = await launchBrowser();
  const rows: string[] = [];
  const rates: string[] = [];
  try {
    for (const [viewportLabel, viewport] of Object.entries(VIEWPORTS)) {
      for (const n of SIZES)
        for (const overlays of OVERLAYS) {
          const label = overlays ? `${viewportLabel.split(' (')[0]} + ${overlays} runs overlaid` : viewportLabel;
          const { page, log } = await openDashboard(browser, server, { viewport });
          await send(page, [{ type: 'reset', run: { ...header, status: 'running', step: 0, totalSteps: 10 * (n + 100_000) }, steps: [], evals: [] }]);
          const t0 = Date.now();
          await postSynthetic(page, base, 0, n, LOAD_CHUNK);
          const loadMs = Date.now() - t0;
          if (overlays) await postOverlays(page, base, overlays, n);
          const heapMb = await page.evaluate(
            () => ((performance as unknown as { memory?: { usedJSHeapSize: number } }).memory?.usedJSHeapSize ?? NaN) / 2 ** 20,
          );
          const counts = (await page.evaluate(() => window.__rlensDashboard!.pointCounts())) as unknown as Record<
            string,
            { displayed: number; bucketSize: number }
          >;
          const m = await measureOneMore(page, base, n);
          rows.push(
            `| ${label.padEnd(42)} | ${String(n).padStart(7)} | ${String(counts['loss.total'].displayed).padStart(6)} / ${String(counts['loss.total'].bucketSize).padStart(3)} | ` +
              `${fmt(quantile(m.handle, 0.5))} ${fmt(quantile(m.handle, 0.95))} | ${fmt(quantile(m.frame, 0.5))} ${fmt(quantile(m.frame, 0.95))} | ` +
              `${fmt(quantile(m.total, 0.5))} ${fmt(quantile(m.total, 0.95))} ${fmt(Math.max(...m.total))} | ${fmt(quantile(m.latency, 0.5), 0)} ${fmt(quantile(m.latency, 0.95), 0)} | ${fmt((loadMs / n) * 1000, 0)} | ${fmt(heapMb, 0)} |`,
          );
          if (n === SIZES[SIZES.length - 1] && overlays === OVERLAYS[0]) {
            for (const per of [1, 10]) {
              const b = await measureBurst(page, base, n + 2 * ROUNDS + (per === 10 ? BURST : 0), per);
              rates.push(
                `| ${label.padEnd(42)} | ${String(n).padStart(7)} | ${String(per).padStart(5)} | ${fmt((BURST / b.ms) * 1000, 0)} | ${fmt(((BURST * per) / b.ms) * 1000, 0)} | ${String(b.frames).padStart(6)} | ${fmt(b.ms, 0)} |`,
              );
            }
          }
          if (log.errors.length) console.error(`page errors: ${log.errors.join('; ')}`);
          await page.close();
          console.error(`done: ${label}, ${n} steps (load ${loadMs} ms)`);
        }
    }
  } finally {
    await browser.close();
    await server.close();
  }
  console.log(
    `\nMachine: ${os.cpus().length} cores, load average at the end ${os
      .loadavg()
      .map((x) => x.toFixed(1))
      .join(' / ')} (1 / 5 / 15 min): timings scale with it`,
  );
  console.log('\nOne more `steps` message (1 step) with N logged steps already shown; ms, p50 / p95 over', ROUNDS, 'messages, 250 ms apart');
  console.log('handler = validate + append + decimate (the message event); frame = longest animation frame until every visible chart shows');
  console.log('the step (header, badge, paced Chart.js updates); total = handler + frame (main thread blocked); latency = post → all visible charts drawn');
  console.log('shown / bucket = display points of the loss line / raw steps per decimation bucket\n');
  console.log(
    `| ${'viewport'.padEnd(42)} |       N | shown / bucket | handler p50  p95 |  frame p50    p95 |  total p50    p95      max | latency p50 p95 | load µs/step | heap MB |`,
  );
  console.log(
    `|${'-'.repeat(44)}|---------|----------------|------------------|-------------------|----------------------------|-----------------|--------------|---------|`,
  );
  for (const r of rows) console.log(r);
  console.log(`\nSustained rate: ${BURST} messages posted back to back at N logged steps, until all handled and drawn\n`);
  console.log(`| ${'viewport'.padEnd(42)} |       N | steps/msg |   msgs/s |  steps/s | frames |  elapsed ms |`);
  console.log(`|${'-'.repeat(44)}|---------|-----------|----------|----------|--------|-------------|`);
  for (const r of rates) console.log(r);
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
