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
