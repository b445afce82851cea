/**
 * Error thrown when data cannot be loaded at all (missing file, wrong kind of path, too many
 * malformed lines). `file` is absolute; `line` is 1-based and set when one line is to blame
 * (for the bad-line-share error: the first bad line), so a UI can link straight to it.
 */
export class DataError extends Error {
  readonly file: string;
  readonly line?: number;

  constructor(message: string, file: string, line?: number) {
    super(message);
    this.name = 'DataError';
    this.file = file;
    if (line !== undefined) this.line = line;
  }
}
