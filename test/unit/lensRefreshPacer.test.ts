import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LensRefreshPacer } from '../../src/extension/configEditor/lensRefreshPacer';

// node:test's mock clock: the same result on any machine load.
test('a live lens fires again only after VS Code asked for the lenses, at most once per interval', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 10_000 });
  const fired: number[] = [];
  const p = new LensRefreshPacer(1_000, 10_000, () => fired.push(Date.now()));
  p.soon();
  assert.deepEqual(fired, [10_000], 'the first live change is fired at once');
  // Steps keep coming every 100 ms, VS Code has not asked yet (its debounce is longer under load):
  // no further event, which would restart VS Code's debounce timer and starve the lens.
  for (let i = 0; i < 50; i++) {
    t.mock.timers.tick(100);
    p.soon();
  }
  assert.deepEqual(fired, [10_000], 'no event while the previous one is unanswered');
  p.requested(); // at 15 s: VS Code fetched the lenses
  assert.deepEqual(fired, [10_000, 15_000], 'a pending change is fired once VS Code has asked');
  p.soon();
  p.requested();
  assert.equal(fired.length, 2, 'at most once per interval, even when asked at once');
  t.mock.timers.tick(1_000);
  assert.deepEqual(fired, [10_000, 15_000, 16_000], 'the pending change when the interval has passed');
  t.mock.timers.tick(5_000);
  assert.equal(fired.length, 3, 'nothing pending: nothing fired');
  p.dispose();
});

test('without a request a pending live change is fired after the patience period; now() fires at once', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
  const fired: number[] = [];
  const p = new LensRefreshPacer(1_000, 10_000, () => fired.push(Date.now()));
  p.soon();
  p.soon();
  t.mock.timers.tick(9_999);
  assert.deepEqual(fired, [0]);
  t.mock.timers.tick(1);
  assert.deepEqual(fired, [0, 10_000], 'a hidden editor never asks: the change is fired after the patience period');
  p.now();
  assert.deepEqual(fired, [0, 10_000, 10_000], 'a run starting or ending is shown at once');
  p.requested();
  t.mock.timers.tick(1_000);
  assert.deepEqual(fired, [0, 10_000, 10_000, 11_000], 'now() came while an event was unanswered: fired once more after the request');
  p.requested();
  t.mock.timers.tick(60_000);
  assert.equal(fired.length, 4, 'no change pending: nothing fired');
  p.soon();
  p.dispose();
  t.mock.timers.tick(60_000);
  assert.equal(fired.length, 5, 'fired at once (interval passed); nothing after dispose');
});

test('now() while an earlier event is unanswered is fired again after the next request (VS Code may drop it)', (t) => {
  // A data file changes: its lens goes "counting…" and gets the new count milliseconds later. VS Code may be
  // fetching the lenses for the first event (with the old values) and drop the second (a workspace e2e froze at
  // the old count in a clean-clone CI run).
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
  const fired: number[] = [];
  const p = new LensRefreshPacer(1_000, 10_000, () => fired.push(Date.now()));
  p.now();
  p.now();
  assert.deepEqual(fired, [0, 0]);
  p.requested();
  t.mock.timers.tick(999);
  assert.equal(fired.length, 2);
  t.mock.timers.tick(1);
  assert.deepEqual(fired, [0, 0, 1_000], 'asked again once the interval passed, with the newest values');
  p.requested();
  t.mock.timers.tick(60_000);
  assert.equal(fired.length, 3, 'then nothing');
  p.dispose();
});

test('an event VS Code never answers is fired again after the patience period, three times at most', (t) => {
  // A result fired while VS Code was fetching the lenses of the change before (requested() already called) and
  // dropped: without a retry no request follows and the lens keeps the older text until the next change.
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
  const fired: number[] = [];
  const p = new LensRefreshPacer(1_000, 10_000, () => fired.push(Date.now()));
  p.soon();
  t.mock.timers.tick(9_999);
  assert.deepEqual(fired, [0]);
  t.mock.timers.tick(1);
  assert.deepEqual(fired, [0, 10_000], 'unanswered: fired again');
  p.requested();
  t.mock.timers.tick(60_000);
  assert.deepEqual(fired, [0, 10_000], 'answered: nothing more');
  p.now();
  for (let i = 0; i < 12; i++) t.mock.timers.tick(10_000); // (one tick of 120 s would run the re-armed timers at its end)
  assert.deepEqual(fired, [0, 10_000, 70_000, 80_000, 90_000, 100_000], 'a hidden editor: three more, then quiet');
  p.requested();
  p.soon();
  t.mock.timers.tick(1_000);
  assert.deepEqual(fired.slice(6), [190_000], 'asked again: a new change is fired as before');
  p.dispose();
  t.mock.timers.tick(60_000);
  assert.equal(fired.length, 7, 'nothing after dispose');
});
