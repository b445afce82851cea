/**
 * The dashboard's header facts of a run (RunHeader) from its meta.json, derived status and the
 * latest events seen. No VS Code import.
 */
import * as path from 'path';
import { pickCollapseThresholds } from '../../core/metrics/collapseMonitor';
import { CONFIG_FILE } from '../../core/runs/meta';
import type { EndEvent, StartEvent } from '../../core/runs/eventSchema';
import { readMeta } from '../../core/runs/meta';
import { parseRunFolderName } from '../../core/runs/runDir';
import { deriveStatus, statusLabel, type StatusOptions } from '../../core/runs/status';
import type { RunHeader } from '../../webview/dashboard/protocol';
import { readJsonSync } from '../../core/io/safeRead';

/** What the event log has told so far about a run (complements meta.json). */
export interface RunEventFacts {
  start: StartEvent | null;
  end: EndEvent | null;
  /** Step of the last step event seen (0 if none). */
  lastStep: number;
}

/**
 * The header of the run in `runDir`: meta.json's facts with the derived status (crashed when the
 * writer is gone, the end event's status when meta still says running, unknown without a usable
 * meta.json) and the larger of meta.step and the last logged step. Never throws.
 */
export function readRunHeader(runDir: string, facts: RunEventFacts, opts: StatusOptions = {}): RunHeader {
  const abs = path.resolve(runDir);
  const read = readMeta(abs);
  if (!read.ok) {
    const folder = parseRunFolderName(path.basename(abs));
    const startName = facts.start?.config?.name;
    return {
      runDir: abs,
      name: typeof startName === 'string' ? startName : (folder?.slug ?? path.basename(abs)),
      status: facts.end?.status ?? 'unknown',
      backend: facts.start?.backend ?? '',
      step: Math.max(facts.lastStep, facts.end?.step ?? 0),
      totalSteps: null,
      startedAt: facts.start?.time ?? (folder ? folder.time.toISOString() : null),
      configPath: null,
      collapseThresholds: collapseThresholdsOf(abs),
    };
  }
  const meta = read.meta;
  const derived = deriveStatus(meta, opts);
  let status: RunHeader['status'] = derived.status;
  if (meta.status === 'running' && facts.end) status = facts.end.status;
  const label = statusLabel({ ...derived, status });
  return {
    runDir: abs,
    name: meta.name,
    status,
    ...(label !== status ? { statusText: label } : {}),
    backend: meta.backend,
    step: Math.max(meta.step, facts.lastStep),
    totalSteps: meta.totalSteps,
    startedAt: meta.startedAt,
    configPath: meta.configPath,
    collapseThresholds: collapseThresholdsOf(abs),
  };
}

/** config.json of each run folder read so far → its `diagnostics.collapse` thresholds (a run's config never changes). */
const thresholdsCache = new Map<string, Record<string, number | null>>();

/** The collapse thresholds the run's config.json sets ({} when it sets none or cannot be read). */
function collapseThresholdsOf(runDir: string): Record<string, number | null> {
  const cached = thresholdsCache.get(runDir);
  if (cached) return cached;
  let picked: Record<string, number | null> = {};
  let readable = false;
  try {
    const config = readJsonSync(path.join(runDir, CONFIG_FILE), 'config.json') as { diagnostics?: { collapse?: unknown } } | null;
    picked = { ...pickCollapseThresholds(config?.diagnostics?.collapse) };
    readable = true;
  } catch {
    // no or unreadable config.json: the defaults stand (and it is read again next time)
  }
  if (readable) thresholdsCache.set(runDir, picked);
  return picked;
}

/** Whether two headers show the same thing. */
export function sameHeader(a: RunHeader | null, b: RunHeader | null): boolean {
  if (a === null || b === null) return a === b;
  return (
    a.runDir === b.runDir &&
    a.name === b.name &&
    a.status === b.status &&
    a.statusText === b.statusText &&
    a.backend === b.backend &&
    a.step === b.step &&
    a.totalSteps === b.totalSteps &&
    a.startedAt === b.startedAt &&
    a.configPath === b.configPath &&
    JSON.stringify(a.collapseThresholds ?? {}) === JSON.stringify(b.collapseThresholds ?? {})
  );
}
