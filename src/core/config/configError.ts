/** One problem in a config file, located by JSON path and by 1-based line/column. */
export interface ConfigProblem {
  /** JSON path like `loss.alpha` ('' for the document). */
  path: string;
  message: string;
  line: number;
  column: number;
  /** 0-based character offset and length of the offending node, for editors. */
  offset: number;
  length: number;
}

/** Thrown when a config cannot be read, parsed or validated; `problems` carries every located issue. */
export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly problems: ConfigProblem[],
    headline?: string,
  ) {
    super(headline ?? formatProblems(file, problems));
    this.name = 'ConfigError';
  }
}

/** `file:line:col: path: message` per problem, the format editors and terminals link. */
export function formatProblems(file: string, problems: ConfigProblem[]): string {
  return problems.map((p) => `${file}:${p.line}:${p.column}: ${p.path ? p.path + ': ' : ''}${p.message}`).join('\n');
}
