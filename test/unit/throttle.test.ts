import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LatestWinsThrottle } from '../../src/trainer/throttle';

// The clock is node:test's mock (setTimeout and Date): no real sleeps, the same result on any machine load.
test('the step throttle sends at most one value per interval, newest wins, and flushes', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000 });
  const sent: number[] = [];
  const th = new LatestWinsThrottle<number>(50, (v) => sent.push(v));
  th.push(1); // sent at once
  th.push(2);
  th.push(3); // replaces 2
  assert.deepEqual(sent, [1]);
  t.mock.timers.tick(49);
  assert.deepEqual(sent, [1], 'nothing before the interval has passed');
  t.mock.timers.tick(1);
  assert.deepEqual(sent, [1, 3], 'the newest pending value, once the interval has passed');
  t.mock.timers.tick(500);
  assert.deepEqual(sent, [1, 3], 'no value pending: nothing more is sent');
  th.push(4); // the interval since the last send has passed: sent at once
  assert.deepEqual(sent, [1, 3, 4]);
  th.push(5);
  th.flush();
  assert.deepEqual(sent, [1, 3, 4, 5], 'flush sends the pending value now');
  t.mock.timers.tick(100);
  assert.deepEqual(sent, [1, 3, 4, 5], 'the timer of a flushed value sends nothing');
  th.flush();
  assert.deepEqual(sent, [1, 3, 4, 5], 'nothing pending: no duplicate');
});

test('a value pushed within the interval waits for the rest of that interval, not a whole one', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
  const sent: [number, number][] = [];
  const th = new LatestWinsThrottle<number>(100, (v) => sent.push([v, Date.now()]));
  th.push(1);
  t.mock.timers.tick(70);
  th.push(2);
  t.mock.timers.tick(30);
  assert.deepEqual(sent, [
    [1, 0],
    [2, 100],
  ]);
});
