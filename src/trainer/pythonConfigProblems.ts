/**
 * The PyTorch trainer's config problems (python/retrieval_lens/config.py prints each on stderr as
 * `error: <config>: $.json.path: message`) turned into located ConfigProblems of that config file, the
 * way the built-in trainer reports its own (src/core/config/configError.ts): line and column of the key's
 * value (or of the nearest enclosing node the file has, for a key that is missing), found with jsonc-parser.
 */
import * as path from 'path';
import { findNodeAtLocation, parseTree, type JSONPath, type Node } from 'jsonc-parser';
import type { ConfigProblem } from '../core/config/configError';
import { TextPositions } from '../core/config/textPosition';
import { readBoundedTextSync } from '../core/io/safeRead';

/** `$.data.format` → ['data', 'format']; `$.x[2].y` → ['x', 2, 'y']; null for anything else. */
function parseJsonPath(p: string): JSONPath | null {
  if (!p.startsWith('$')) return null;
  const out: JSONPath = [];
  const re = /\.([^.[\]]+)|\[(\d+)\]/g;
  let at = 1;
  for (let m = re.exec(p); m; m = re.exec(p)) {
    if (m.index !== at) return null;
    out.push(m[1] !== undefined ? m[1] : Number(m[2]));
    at = re.lastIndex;
  }
  return at === p.length ? out : null;
}

/**
 * The problems among `errorLines` (stderr lines of the trainer, with or without their `error: ` prefix)
 * that name `configPath` and a JSON path, located in that file's current text; `other`: the remaining
 * lines (data problems, a config that cannot be read), as they were.
 */
export function pythonConfigProblems(configPath: string, errorLines: string[]): { problems: ConfigProblem[]; other: string[] } {
  const file = path.resolve(configPath);
  const lines = errorLines.map((l) => l.replace(/^error: /, ''));
  let text: string;
  try {
    text = readBoundedTextSync(file, 'experiment config');
  } catch {
    return { problems: [], other: lines };
  }
  const root: Node | undefined = parseTree(text.replace(/^\uFEFF/, ''), [], { allowTrailingComma: true, disallowComments: false });
  const bom = text.startsWith('\uFEFF') ? 1 : 0;
  const positions = new TextPositions(text);
  const problems: ConfigProblem[] = [];
  const other: string[] = [];
  for (const line of lines) {
    const m = line.startsWith(file + ': ') ? /^(\$\S*): (.+)$/.exec(line.slice(file.length + 2)) : null;
    const jsonPath = m ? parseJsonPath(m[1]) : null;
    if (!m || !jsonPath) {
      other.push(line);
      continue;
    }
    let node: Node | undefined;
    for (let n = jsonPath.length; n >= 0 && !node && root; n--) node = n === 0 ? root : findNodeAtLocation(root, jsonPath.slice(0, n));
    const offset = (node?.offset ?? 0) + bom;
    problems.push({ path: jsonPath.join('.'), message: m[2], ...positions.at(offset), offset, length: node?.length ?? 0 });
  }
  return { problems, other };
}
