/**
 * The e2e files' session (test/e2e/support/e2eSession.ts): a file that is skipped (no torch) sets nothing up, and
 * its `wb`, `ws`, `server` then throw an error that says which one and why, instead of a TypeError on undefined.
 * (The session of a file that runs is exercised by every test/e2e file.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useE2EWorkbench } from '../e2e/support/e2eSession';

const e2e = useE2EWorkbench({ prefix: 'unit', expectFile: 'shop.rlens.json', skip: 'no torch here' });

test('a skipped session sets nothing up: each getter names what is missing and why', () => {
  assert.throws(() => e2e.wb, /e2e session 'unit': wb \(the workbench\) is not set up \(the file is skipped: no torch here\)/);
  assert.throws(() => e2e.ws, /ws \(the workspace folder\) is not set up/);
  assert.throws(() => e2e.server, /server \(code-server\) is not set up/);
  assert.throws(() => e2e.logsBefore, /logsBefore .* is not set up/);
});
