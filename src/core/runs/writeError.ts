/**
 * File-system errors of the run writers, named by the file they were writing. Node's own messages
 * for failed writes ("ENOSPC: no space left on device, write") do not say which file.
 */

import * as fs from 'fs';

/** An error while writing `file`; keeps the system error `code` (ENOSPC, EACCES, …). */
export class RunFileError extends Error {
  override name = 'RunFileError';
  readonly code: string | undefined;
  constructor(
    readonly file: string,
    readonly action: string,
    cause: unknown,
  ) {
    const sys = cause as NodeJS.ErrnoException;
    super(`cannot ${action} ${file}: ${sys?.message ?? String(cause)}`);
    this.code = sys?.code;
  }
}

/** Run `fn`, turning a system error into a RunFileError naming `file` (RunFileErrors pass through). */
export function namingFile<T>(file: string, action: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof RunFileError || typeof (err as NodeJS.ErrnoException)?.code !== 'string') throw err;
    throw new RunFileError(file, action, err);
  }
}

/**
 * Throws a RunFileError naming `dir` and the system error (EROFS, EACCES) unless this process may write
 * in it (access W_OK: a read-only mount is refused even to root). `purpose` says what would be written,
 * e.g. "evaluate (it writes eval/ and an eval event there)".
 */
export function assertWritableFolder(dir: string, purpose: string): void {
  try {
    fs.accessSync(dir, fs.constants.W_OK);
  } catch (err) {
    throw new RunFileError(dir, purpose, err);
  }
}
