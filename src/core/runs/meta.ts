/**
 * meta.json: atomic writes and tolerant, validated reads.
 */
import * as fs from 'fs';
import * as path from 'path';
import { writeJsonAtomicSync } from './atomicWrite';
import { RUN_FORMAT_VERSION, type RunMeta } from './eventTypes';

export const META_FILE = 'meta.json';
export const CONFIG_FILE = 'config.json';
export const EVENTS_FILE = 'events.jsonl';
export const CHECKPOINTS_DIR = 'checkpoints';

/** Result of reading meta.json: the meta when usable, otherwise why not. */
export type MetaReadResult =
  | { ok: true; meta: RunMeta }
  | { ok: false; reason: 'missing' | 'invalid' | 'newer-format'; message: string };

/** Atomically write `<dir>/meta.json` (temp file + fsync + rename). */
export function writeMeta(dir: string, meta: RunMeta): void {
  writeJsonAtomicSync(path.join(dir, META_FILE), meta);
}

const STATUSES = new Set(['running', 'completed', 'stopped', 'failed']);

/** Problems making `value` unusable as RunMeta (checks the fields readers rely on; extra fields are fine). */
export function metaProblems(value: unknown): string[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return ['meta.json is not a JSON object'];
  const m = value as Record<string, unknown>;
  const problems: string[] = [];
  const need = (key: string, ok: boolean, what: string): void => {
    if (!ok) problems.push(`"${key}" must be ${what}`);
  };
  const isIsoTime = (v: unknown): boolean => typeof v === 'string' && !Number.isNaN(Date.parse(v));
  need('formatVersion', Number.isInteger(m.formatVersion), 'an integer');
  need('name', typeof m.name === 'string', 'a string');
  need('status', typeof m.status === 'string' && STATUSES.has(m.status), 'one of running|completed|stopped|failed');
  need('pid', m.pid === null || m.pid === undefined || Number.isInteger(m.pid), 'an integer or null');
  need('host', typeof m.host === 'string', 'a string');
  need('startedAt', isIsoTime(m.startedAt), 'an ISO 8601 time');
  need('heartbeatAt', isIsoTime(m.heartbeatAt), 'an ISO 8601 time');
  need('step', typeof m.step === 'number' && Number.isFinite(m.step), 'a number');
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
    text = fs.readFileSync(path.join(dir, META_FILE), 'utf8');
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
