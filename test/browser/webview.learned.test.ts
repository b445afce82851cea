/**
 * The dashboard's learned α / δ₀ / τ₀ chart (src/webview/dashboard/charts/learnedChart.ts) in Chromium: hidden for a
 * run that learns nothing, drawn with the trajectory in its caption ("α 0.50 → …") for one that does.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ToDashboard } from '../../src/webview/dashboard/protocol';
import { loadRecording, send, useDashboardPages } from '../fixtures/dashboard/harness';

const dashboard = useDashboardPages();

const recording = loadRecording('softmax');

/** The recording's messages, each step event given learned α and τ₀ falling with the step. */
function withLearned(): ToDashboard[] {
  return recording.messages.map(({ message }) => {
    const m = structuredClone(message);
    if (m.type === 'steps') for (const s of m.steps) s.learned = { alpha: 0.5 - s.step / 2000, tau0: 1 / 30 - s.step / 100000 };
    if (m.type === 'reset') for (const s of m.steps) s.learned = { alpha: 0.5 - s.step / 2000, tau0: 1 / 30 - s.step / 100000 };
    return m;
  });
}

test('learned chart: hidden without learned values, drawn with the trajectory in the caption with them', async () => {
  const plain = await dashboard.open();
  await send(
    plain.page,
    recording.messages.map((m) => m.message),
  );
  assert.equal(await plain.page.locator('[data-chart="learned"]').isHidden(), true);
  await plain.page.close();

  const { page, log } = await dashboard.open();
  const messages = withLearned();
  await send(page, messages);
  const card = page.locator('[data-chart="learned"]');
  assert.equal(await card.isVisible(), true);
  const steps = messages.flatMap((m) => (m.type === 'steps' ? m.steps : []));
  const last = steps[steps.length - 1];
  const sub = await card.locator('.chart-sub').innerText();
  assert.equal(sub, `α 0.50 → ${last.learned!.alpha!.toPrecision(2)} · τ₀ 0.033 → ${last.learned!.tau0!.toPrecision(2)}`);
  assert.deepEqual(log.errors, []);
  await page.close();
});
