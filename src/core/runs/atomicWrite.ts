/**
 * Atomic file replacement: write to a temp file in the same folder, fsync, rename over the target.
 * A concurrent reader sees either the complete old file or the complete new file, never a mix.
 */
import * as fs from 'fs';
import * as path from 'path';
import { RunFileError } from './writeError';

let tempCounter = 0;

/** Name of a temp sibling of `file`: hidden, unique per process and call, ending in ".tmp". */
export function tempSiblingPath(file: string): string {
  tempCounter += 1;
  const rand = Math.floor(Math.random() * 0x100000000).toString(16);
  return path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${tempCounter}.${rand}.tmp`);
}

/** Error codes a rename may transiently fail with on Windows while another process has the target open. */
const TRANSIENT_RENAME_CODES = new Set(['EPERM', 'EACCES', 'EBUSY']);

/** Block the thread for `ms` milliseconds (used only for short Windows rename retries). */
function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * `fs.renameSync` that retries for up to ~1 s on Windows sharing violations (a reader holding the
 * target open without FILE_SHARE_DELETE). On POSIX systems it is a plain rename.
 */
export function renameWithRetrySync(from: string, to: string): void {
  const deadline = Date.now() + 1000;
  for (let delay = 5; ; delay = Math.min(delay * 2, 100)) {
    try {
      fs.renameSync(from, to);
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? '';
      if (process.platform !== 'win32' || !TRANSIENT_RENAME_CODES.has(code) || Date.now() > deadline) throw err;
      sleepSync(delay);
    }
  }
}

/** Best-effort fsync of a directory so a rename inside it survives a power loss (no-op where unsupported). */
export function fsyncDirSync(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // Directories cannot be opened/fsynced on Windows; the rename is still atomic there.
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/**
 * Atomically replace `file` with `data`: write a temp file in the same folder, fsync it, rename it
 * over `file`, then fsync the folder. On failure the temp file is removed, `file` is unchanged and a
 * system error is rethrown as a RunFileError naming `file`.
 */
export function writeFileAtomicSync(file: string, data: string | Uint8Array): void {
  const tmp = tempSiblingPath(file);
  try {
    const fd = fs.openSync(tmp, 'wx');
    try {
      fs.writeFileSync(fd, data);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    renameWithRetrySync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    // Node's message for a failed write (e.g. "ENOSPC: no space left on device, write") names no file.
    if (typeof (err as NodeJS.ErrnoException).code === 'string') throw new RunFileError(file, 'write', err);
    throw err;
  }
  fsyncDirSync(path.dirname(file));
}

/** Atomically replace `file` with `value` as pretty-printed JSON (2-space indent, trailing newline). */
export function writeJsonAtomicSync(file: string, value: unknown): void {
  writeFileAtomicSync(file, JSON.stringify(value, null, 2) + '\n');
}
