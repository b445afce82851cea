/**
 * meta.json: atomic writes and tolerant, validated reads.
 */
import * as path from 'path';
import { writeJsonAtomicSync } from './atomicWrite';
import { readBoundedTextSync } from '../io/safeRead';
import { RUN_FORMAT_VERSION, RunMetaReadSchema, type RunMeta } from './eventSchema';
import { isRunMetaRead } from './eventChecks.generated';
import { isPlainObject } from '../jsonGuards';
import { schemaProblems } from '../schemaCheck';

export const META_FILE = 'meta.json';
export const CONFIG_FILE = 'config.json';
export const EVENTS_FILE = 'events.jsonl';
export const CHECKPOINTS_DIR = 'checkpoints';

/** Result of reading meta.json: the meta when usable, otherwise why not. */
export type MetaReadResult = { ok: true; meta: RunMeta } | { ok: false; reason: 'missing' | 'invalid' | 'newer-format'; message: string };

/** Atomically write `<dir>/meta.json` (temp file + fsync + rename). */
export function writeMeta(dir: string, meta: RunMeta): void {
  writeJsonAtomicSync(path.join(dir, META_FILE), meta);
}

/**
 * Problems making `value` unusable as RunMeta: RunMetaReadSchema (docs/run-format.md §3; extra fields
 * are fine) and parseable times.
 */
export function metaProblems(value: unknown): string[] {
  if (!isPlainObject(value)) return ['meta.json is not a JSON object'];
  const problems = isRunMetaRead(value) ? [] : schemaProblems(RunMetaReadSchema, value);
  for (const key of ['startedAt', 'heartbeatAt', 'endedAt'] as const) {
    const t = value[key];
    if (typeof t === 'string' && Number.isNaN(Date.parse(t))) problems.push(`${key}: must be an ISO 8601 time`);
  }
  return problems;
}

/**
 * Read and validate `<dir>/meta.json`. Never throws for missing or malformed files; a meta with a
 * formatVersion newer than RUN_FORMAT_VERSION is reported as 'newer-format' (its layout may differ).
 * Missing optional members are filled in (configPath null, totalSteps null, checkpoints {}, versions {}).
 */
export function readMeta(dir: string): MetaReadResult {
  let text: string;
  try {
    text = readBoundedTextSync(path.join(dir, META_FILE), 'meta.json');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return { ok: false, reason: 'missing', message: 'meta.json is missing' };
    return { ok: false, reason: 'invalid', message: `meta.json cannot be read: ${(err as Error).message}` };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { ok: false, reason: 'invalid', message: `meta.json is not valid JSON: ${(err as Error).message}` };
  }
  const fv = (value as { formatVersion?: unknown } | null)?.formatVersion;
  if (typeof fv === 'number' && fv > RUN_FORMAT_VERSION) {
    return {
      ok: false,
      reason: 'newer-format',
      message: `meta.json formatVersion ${fv} is newer than the supported ${RUN_FORMAT_VERSION}`,
    };
  }
  const problems = metaProblems(value);
  if (problems.length > 0) return { ok: false, reason: 'invalid', message: `meta.json: ${problems.join('; ')}` };
  const raw = value as RunMeta;
  const meta: RunMeta = {
    ...raw,
    configPath: raw.configPath ?? null,
    pid: raw.pid ?? null,
    totalSteps: raw.totalSteps ?? null,
    versions: raw.versions ?? ({} as RunMeta['versions']),
    checkpoints: raw.checkpoints ?? {},
  };
  return { ok: true, meta };
}
