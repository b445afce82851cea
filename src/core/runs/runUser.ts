/**
 * user.json: what the user says about a run — a display name, a note and tags — kept in the run folder
 * beside meta.json (docs/run-format.md §3.1). The trainer never writes it; the Runs tree's Rename / Note /
 * Tags commands and `retrieval-lens runs` read it. Atomic writes; a damaged file is reported, never thrown,
 * and never overwritten by an edit (the edit fails with the located reason instead).
 */
import * as fs from 'fs';
import * as path from 'path';
import { Type, type Static } from '@sinclair/typebox';
import { writeJsonAtomicSync } from './atomicWrite';
import { readBoundedTextSync } from '../io/safeRead';
import { schemaProblem } from '../schemaCheck';
import { isRunUser } from './runUserChecks.generated';

export const USER_FILE = 'user.json';
/** Longest display name, note and tag kept (characters). */
export const MAX_NAME_LENGTH = 200;
export const MAX_NOTE_LENGTH = 10_000;
export const MAX_TAG_LENGTH = 40;
export const MAX_TAGS = 32;

/** A tag: no spaces and no commas (so tag lists and `tag:x` filters stay unambiguous). */
const TAG_PATTERN = '^[^\\s,]+$';

/** Contents of user.json (every member optional; unknown members are kept on rewrite). */
export const RunUserSchema = Type.Object({
  version: Type.Literal(1),
  /** Display name shown instead of the experiment name (meta.json's name is not changed). */
  name: Type.Optional(Type.String({ minLength: 1, maxLength: MAX_NAME_LENGTH })),
  note: Type.Optional(Type.String({ maxLength: MAX_NOTE_LENGTH })),
  tags: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: MAX_TAG_LENGTH, pattern: TAG_PATTERN }), { maxItems: MAX_TAGS })),
});
export type RunUser = Static<typeof RunUserSchema>;

/** Result of reading user.json: the info (empty when there is no file), or why it is unusable. */
export type RunUserRead = { ok: true; user: RunUser } | { ok: false; message: string };

/** Read and validate `<dir>/user.json`; a missing file is `{ version: 1 }`. Never throws. */
export function readRunUser(dir: string): RunUserRead {
  const file = path.join(dir, USER_FILE);
  let text: string;
  try {
    text = readBoundedTextSync(file, USER_FILE);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return { ok: true, user: { version: 1 } };
    return { ok: false, message: `${file}: cannot be read: ${(err as Error).message}` };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { ok: false, message: `${file}: not valid JSON: ${(err as Error).message}` };
  }
  const problem = schemaProblem(RunUserSchema, value, '', isRunUser);
  if (problem) return { ok: false, message: `${file}: ${problem}` };
  return { ok: true, user: value as RunUser };
}

/** Tags of a free-text list ("a, b c"): split on commas and spaces, duplicates dropped, order kept. */
export function parseTags(text: string): string[] {
  return [...new Set(text.split(/[\s,]+/).filter((t) => t !== ''))];
}

/** What is wrong with a user.json value about to be written, or null. */
export function runUserProblem(user: RunUser): string | null {
  return schemaProblem(RunUserSchema, user, '', isRunUser);
}

/**
 * Change `<dir>/user.json`: `patch` members replace the stored ones (an empty name or note, or an empty tag
 * list, removes the member). Throws with the file and the reason when the stored file is damaged (it is
 * left as it is) or the result breaks the schema (e.g. a tag with a space). Returns what was written.
 */
export function updateRunUser(dir: string, patch: { name?: string; note?: string; tags?: string[] }): RunUser {
  if (!fs.statSync(dir, { throwIfNoEntry: false })?.isDirectory()) throw new Error(`${dir}: not a run folder`);
  const read = readRunUser(dir);
  if (!read.ok) throw new Error(`${read.message} (fix or delete it; it was not changed)`);
  const next: RunUser = { ...read.user, version: 1 };
  const set = <K extends 'name' | 'note' | 'tags'>(key: K, value: RunUser[K] | undefined, empty: boolean) => {
    if (value === undefined) return;
    if (empty) delete next[key];
    else next[key] = value;
  };
  set('name', patch.name?.trim(), patch.name?.trim() === '');
  set('note', patch.note, patch.note?.trim() === '');
  set('tags', patch.tags, patch.tags?.length === 0);
  const problem = runUserProblem(next);
  if (problem) throw new Error(`${path.join(dir, USER_FILE)}: ${problem}`);
  writeJsonAtomicSync(path.join(dir, USER_FILE), next);
  return next;
}
