/**
 * The dashboard's header facts of a run (RunHeader) from its meta.json, derived status and the
 * latest events seen. No VS Code import.
 */
import * as path from 'path';
import type { EndEvent, StartEvent } from '../core/runs/eventSchema';
import { readMeta } from '../core/runs/meta';
import { parseRunFolderName } from '../core/runs/runDir';
import { deriveStatus, type StatusOptions } from '../core/runs/status';
import type { RunHeader } from '../webview/dashboard/protocol';

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
    };
  }
  const meta = read.meta;
  let status: RunHeader['status'] = deriveStatus(meta, opts).status;
  if (meta.status === 'running' && facts.end) status = facts.end.status;
  return {
    runDir: abs,
    name: meta.name,
    status,
    backend: meta.backend,
    step: Math.max(meta.step, facts.lastStep),
    totalSteps: meta.totalSteps,
    startedAt: meta.startedAt,
    configPath: meta.configPath,
  };
}

/** Whether two headers show the same thing. */
export function sameHeader(a: RunHeader | null, b: RunHeader | null): boolean {
  if (a === null || b === null) return a === b;
  return (
    a.runDir === b.runDir &&
    a.name === b.name &&
    a.status === b.status &&
    a.backend === b.backend &&
    a.step === b.step &&
    a.totalSteps === b.totalSteps &&
    a.startedAt === b.startedAt &&
    a.configPath === b.configPath
  );
}
