/**
 * "New Experiment from Example": which files of the bundled example (examples/shop, shipped inside
 * the extension) are copied, where to (a free folder name), and the config text adapted to its new
 * place. No VS Code import; the copy itself is done with fs by the command.
 */
import * as fs from 'fs';
import * as path from 'path';
import { createScanner, findNodeAtLocation, SyntaxKind } from 'jsonc-parser';
import { configTree } from './configAnchors';

/** The example inside the extension folder. */
export const EXAMPLE_DIR = path.join('examples', 'shop');
export const EXAMPLE_CONFIG = 'shop.rlens.json';
/** Files copied, relative to the example folder (the generator and any runs stay behind). */
export const EXAMPLE_FILES: readonly string[] = [EXAMPLE_CONFIG, 'README.md', 'data/train.jsonl', 'data/test.jsonl', 'data/corpus.jsonl'];

/**
 * The config as copied: without its `"$schema"` (a path into the repository that does not exist in
 * the user's workspace; the extension's jsonValidation associates the schema with `*.rlens.json`).
 * Only the property goes (with its comma, and its line when it is alone on it): the comments around
 * it stay, which jsonc-parser's modify() would remove with it.
 */
export function exampleConfigForWorkspace(text: string): string {
  const root = configTree(text);
  const value = root ? findNodeAtLocation(root, ['$schema']) : undefined;
  const prop = value?.parent;
  if (!prop || prop.type !== 'property') return text;
  let start = prop.offset;
  let end = prop.offset + prop.length;
  let j = end;
  while (j < text.length && (text[j] === ' ' || text[j] === '\t')) j++;
  const followedByComma = text[j] === ',';
  if (followedByComma) {
    end = j + 1;
    while (end < text.length && (text[end] === ' ' || text[end] === '\t')) end++;
  }
  // Alone on its line(s): the whole line goes.
  const lineStart = text.lastIndexOf('\n', start - 1) + 1;
  const nl = text.indexOf('\n', end);
  const lineEnd = nl === -1 ? text.length : nl;
  if (/^[ \t]*$/.test(text.slice(lineStart, start)) && /^[ \t\r]*$/.test(text.slice(end, lineEnd))) {
    start = lineStart;
    end = nl === -1 ? text.length : nl + 1;
  }
  // The last property: the comma before it goes instead (comments in between stay).
  const comma = followedByComma ? -1 : lastCommaBefore(text, start);
  const cuts: [number, number][] =
    comma === -1
      ? [[start, end]]
      : [
          [comma, comma + 1],
          [start, end],
        ];
  return cutRanges(text, cuts);
}

/** The first of `base`, `base-2`, `base-3`, … that does not exist in `parent`. */
export function freeFolderName(parent: string, base: string, exists: (p: string) => boolean = fs.existsSync): string {
  for (let n = 1; ; n++) {
    const name = n === 1 ? base : `${base}-${n}`;
    if (!exists(path.join(parent, name))) return name;
  }
}

/**
 * Copy the example from `extensionRoot` into a new folder under `parent`; returns the new config's
 * path. Throws if a source file is missing (a broken package) — nothing is overwritten.
 */
export function copyExample(extensionRoot: string, parent: string, folderName = 'shop'): string {
  const src = path.join(extensionRoot, EXAMPLE_DIR);
  const dest = path.join(parent, freeFolderName(parent, folderName));
  for (const rel of EXAMPLE_FILES) {
    if (!fs.existsSync(path.join(src, rel))) throw new Error(`the bundled example is incomplete: ${rel} is missing in ${src}`);
  }
  fs.mkdirSync(dest, { recursive: false });
  for (const rel of EXAMPLE_FILES) {
    const to = path.join(dest, rel);
    fs.mkdirSync(path.dirname(to), { recursive: true });
    if (rel === EXAMPLE_CONFIG) fs.writeFileSync(to, exampleConfigForWorkspace(fs.readFileSync(path.join(src, rel), 'utf8')), { flag: 'wx' });
    else fs.copyFileSync(path.join(src, rel), to, fs.constants.COPYFILE_EXCL);
  }
  return path.join(dest, EXAMPLE_CONFIG);
}

/** Offset of the last comma token before `offset` (comments and strings skipped); −1 when none. */
function lastCommaBefore(text: string, offset: number): number {
  const scanner = createScanner(text, false);
  let last = -1;
  for (let kind = scanner.scan(); kind !== SyntaxKind.EOF && scanner.getTokenOffset() < offset; kind = scanner.scan()) {
    if (kind === SyntaxKind.CommaToken) last = scanner.getTokenOffset();
  }
  return last;
}

/** `text` without the given [start, end) ranges (ascending, not overlapping). */
function cutRanges(text: string, cuts: [number, number][]): string {
  let out = '';
  let at = 0;
  for (const [a, b] of cuts) {
    out += text.slice(at, a);
    at = b;
  }
  return out + text.slice(at);
}
