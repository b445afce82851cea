/**
 * The dashboard's drill-down (src/webview/dashboard/drilldown/) in headless Chromium with the real bundle: real
 * clicks on the δ/τ histogram, the distribution-over-steps chart and the R / violation-rate chart list the sampled
 * pairs behind them at that step, the texts the extension sends are shown with the shared words marked, a location
 * opens its line, the list is keyboard navigable, and the suspected-false-negatives notice offers its config edit.
 * Steps: the recorded softmax run's, each given the real sampler's output on the parity fixture's planted batch.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import type { Page } from 'playwright-core';
import type { StepEvent, ToDashboard } from '../../src/webview/dashboard/protocol';
import { sampleStep } from '../../src/core/metrics/stepSamples';
import { caseInput, type StepSampleCase } from '../fixtures/parity/stepSamplesGenerate';
import { loadRecording, posted, send, useDashboardPages } from '../fixtures/dashboard/harness';

const fixture = JSON.parse(fs.readFileSync(path.join(__dirname, '../fixtures/parity/stepSamples.json'), 'utf8')) as { cases: StepSampleCase[] };
const planted = sampleStep(caseInput(fixture.cases.find((c) => c.name === 'planted')!));
const clean = sampleStep(caseInput(fixture.cases.find((c) => c.name === 'clean')!));

/** The softmax recording with every step's τ histogram range around the planted rows, and the given sample. */
function messages(sample: ReturnType<typeof sampleStep>): ToDashboard[] {
  return loadRecording('softmax').messages.map(({ message }) => {
    if (message.type !== 'steps' && message.type !== 'reset') return message;
    const steps = message.steps.map((s: StepEvent) => ({ ...s, samples: sample.samples, suspectedFalseNegatives: sample.suspected }));
    return { ...message, steps } as ToDashboard;
  });
}

const dashboard = useDashboardPages();

const lastSteps = (ms: ToDashboard[]) => ms.flatMap((m) => (m.type === 'steps' || m.type === 'reset' ? m.steps : []));

async function clickAt(page: Page, chart: 'hyperHist' | 'hyperBands' | 'ratio', x: number, y: number): Promise<void> {
  const at = await page.evaluate(([c, xx, yy]) => window.__rlensDashboard!.drilldownPixel(c as never, xx as number, yy as number), [chart, x, y] as const);
  assert.ok(at, `${chart} is listened to`);
  await page.mouse.click(at.x, at.y);
}

const title = (page: Page) => page.locator('[data-role="drilldown-title"]').innerText();
const pairs = (page: Page) => page.locator('[data-role="drilldown"] li.pair');

test('histogram bin click: the sampled pairs in that bin at the newest step, texts filled with shared words marked, a location opens its line', async () => {
  const { page } = await dashboard.open();
  const ms = messages(planted);
  await send(page, ms);
  const steps = lastSteps(ms);
  const last = steps[steps.length - 1];
  const { lo, hi, counts } = last.diagnostics.dist.tau!.hist;
  const w = (hi - lo) / counts.length;
  const row = planted.samples.rows.find((r) => r.hyper !== null && r.hyper > lo && r.hyper < hi)!;
  const k = Math.floor((row.hyper! - lo) / w);
  await clickAt(page, 'hyperHist', lo + (k + 0.5) * w, Math.max(...counts) / 2);
  assert.match(await title(page), new RegExp(`^τ ∈ \\[.*\\) at step ${last.step}$`));
  const inBin = planted.samples.rows.filter((r) => r.hyper! >= lo + k * w && r.hyper! < lo + (k + 1) * w);
  assert.equal(await pairs(page).count(), inBin.length);
  assert.ok(inBin.includes(row));
  // the page asked for the texts of every listed reference, and shows them when they arrive
  const ask = (await posted(page)).find((m) => m.type === 'pairTexts');
  assert.ok(ask && ask.type === 'pairTexts');
  assert.equal(ask.refs.length, inBin.length * 3);
  assert.deepEqual(ask.refs[0], { kind: 'query', id: inBin[0].q[0], file: '/data/train.jsonl', line: inBin[0].q[2] });
  const texts = ask.refs.map((r, i) => (r.kind === 'query' ? 'cotton shirt for men' : i % 3 === 1 ? 'red cotton t-shirt' : 'blue cotton jeans'));
  await send(page, [{ type: 'pairTexts', requestId: ask.requestId, texts }]);
  const first = pairs(page).first();
  assert.equal(await first.locator('[data-role="query-text"]').innerText(), 'cotton shirt for men');
  assert.deepEqual(await first.locator('[data-role="query-text"] mark').allInnerTexts(), ['cotton', 'shirt']);
  assert.deepEqual(
    await first.locator('[data-role="positive-text"] mark').allInnerTexts(),
    ['cotton', 'shirt'],
    'the positive marks the words it shares with the query and the negative',
  );
  assert.deepEqual(await first.locator('[data-role="negative-text"] mark').allInnerTexts(), ['cotton']);
  assert.match(
    await first.locator('[data-role="pair-scores"]').innerText(),
    /s\(q,v\) \d\.\d{3} · s\(q,v⁻\) -?\d\.\d{3} · s\(v,v⁻\) -?\d\.\d{3} · δ\/τ \d\.\d{4}/,
  );
  await first.locator('[data-role="negative-loc"]').click();
  assert.deepEqual((await posted(page)).at(-1), { type: 'openLine', file: '/data/train.jsonl', line: inBin[0].n[2] });
  await page.close();
});

test('band and point clicks: a band of the distribution chart and a point of the R chart open the pairs at the clicked step', async () => {
  const { page } = await dashboard.open();
  const ms = messages(planted);
  await send(page, ms);
  const steps = lastSteps(ms);
  const mid = steps[Math.floor(steps.length / 2)];
  const tau = mid.diagnostics.dist.tau!;
  await clickAt(page, 'hyperBands', mid.step, tau.p50 as number);
  assert.equal(await title(page), `τ p25–p75 at step ${mid.step}`);
  const inBand = planted.samples.rows.filter((r) => r.hyper! >= (tau.p25 as number) && r.hyper! < (tau.p75 as number));
  assert.equal(await pairs(page).count(), inBand.length || planted.samples.rows.length);
  await clickAt(page, 'ratio', mid.step, mid.diagnostics.collapse.ratio as number);
  assert.equal(await title(page), `sampled pairs at step ${mid.step} (violations first)`);
  assert.equal(await pairs(page).count(), planted.samples.rows.length);
  assert.match((await pairs(page).first().getAttribute('data-why'))!, /violation/);
  await page.close();
});

test('keyboard: Enter on a chart opens its pairs, ↑/↓ move between pairs, Enter opens the query line, Escape closes back to the chart', async () => {
  const { page } = await dashboard.open();
  await send(page, messages(planted));
  await page.locator('[data-chart="ratio"] canvas').focus();
  await page.keyboard.press('Enter');
  assert.equal(await pairs(page).count(), planted.samples.rows.length);
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('data-role')), 'pair');
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('Enter');
  const second = [...planted.samples.rows].sort((a, b) => +!a.why.includes('violation') - +!b.why.includes('violation'))[1];
  assert.deepEqual((await posted(page)).at(-1), { type: 'openLine', file: '/data/train.jsonl', line: second.q[2] });
  await page.keyboard.press('Escape');
  assert.equal(await page.locator('[data-role="drilldown"]').isHidden(), true);
  assert.equal(await page.evaluate(() => document.activeElement?.closest('[data-chart]')?.getAttribute('data-chart')), 'ratio');
  await page.close();
});

test('suspected false negatives: the notice shows the planted share, lists the suspected pairs posts the mask edit and asks for the duplicate groups; nothing for a clean batch', async () => {
  const { page } = await dashboard.open();
  const ms = messages(planted);
  await send(page, ms);
  const steps = lastSteps(ms);
  // charted on the R / violation-rate chart's right axis, one point per logged step
  const counts = (await page.evaluate(() => window.__rlensDashboard!.pointCounts())) as Record<string, { charted: number | null }>;
  assert.equal(counts['falseNegatives.share'].charted, steps.length);
  assert.deepEqual(
    await page.evaluate(() => window.__rlensDashboard!.displayPoints('falseNegatives.share')),
    steps.map((s) => ({ x: s.step, y: 5 / 32 })),
  );
  const notice = page.locator('[data-role="fn-notice"]');
  assert.match(await notice.innerText(), /5 in-batch negatives \(15\.6%\)/);
  await page.locator('[data-role="fn-show"]').click();
  assert.match(await title(page), /^suspected false negatives at step \d+ \(5, 15\.6% of the negatives\)$/);
  assert.equal(await pairs(page).count(), planted.samples.rows.filter((r) => r.fn).length);
  assert.match(await pairs(page).first().locator('.pair-why').innerText(), /suspected false negative.*\((sameText|overlap|scoredAbove), word overlap \d+%\)/);
  await page.locator('[data-role="fn-mask"]').click();
  assert.deepEqual((await posted(page)).at(-1), { type: 'maskDuplicateNegatives' });
  await page.locator('[data-role="fn-groups"]').click();
  assert.deepEqual((await posted(page)).at(-1), { type: 'duplicateGroups' });
  const other = await dashboard.open();
  await send(other.page, messages(clean));
  assert.equal(await other.page.locator('[data-role="fn-notice"]').isHidden(), true);
  await other.page.close();
  await page.close();
});
