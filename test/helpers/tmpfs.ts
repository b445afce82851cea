import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { TestContext } from 'node:test';

/**
 * A fresh tmpfs of `size` (e.g. "16k") mounted on a temp folder for a disk-full test, unmounted after
 * the test. Needs root (mount); without it the test is skipped with the reason, and null returned.
 */
export function tmpfs(t: TestContext, size: string): string | null {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rlens-full-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (e) {
    fs.rmdirSync(dir);
    t.skip(`cannot mount a ${size} tmpfs (needs root): ${String((e as Error).message).split('\n')[0]}`);
    return null;
  }
  t.after(() => {
    execFileSync('umount', [dir], { stdio: 'pipe' });
    fs.rmdirSync(dir);
  });
  return dir;
}

/**
 * A read-only view of `dir` (a bind mount remounted read-only) for tests of read-only run folders,
 * unmounted after the test. Needs root (mount), which also makes chmod useless for such tests (root
 * writes anyway, except on a read-only mount); without it the test is skipped and null returned.
 */
export function readOnlyView(t: TestContext, dir: string): string | null {
  const view = fs.mkdtempSync(path.join(os.tmpdir(), 'rlens-ro-'));
  try {
    execFileSync('mount', ['--bind', dir, view], { stdio: 'pipe' });
  } catch (e) {
    fs.rmdirSync(view);
    t.skip(`cannot bind-mount ${dir} (needs root): ${String((e as Error).message).split('\n')[0]}`);
    return null;
  }
  t.after(() => {
    execFileSync('umount', [view], { stdio: 'pipe' });
    fs.rmdirSync(view);
  });
  execFileSync('mount', ['-o', 'remount,ro,bind', view], { stdio: 'pipe' });
  return view;
}
