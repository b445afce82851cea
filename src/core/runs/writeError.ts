/**
 * File-system errors of the run writers, named by the file they were writing. Node's own messages
 * for failed writes ("ENOSPC: no space left on device, write") do not say which file.
 */

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
