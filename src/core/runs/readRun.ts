/**
 * readRun: one run folder summarised for the UI/CLI — meta, derived status and latest events.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { DerivedRunStatus, EndEvent, EvalEvent, RunMeta, StepEvent } from './eventSchema';
import { scanBadEventLines, scanEventsBackward } from './eventLog';
import { leftoverTempDirs } from './checkpointDir';
import { CHECKPOINTS_DIR, EVENTS_FILE, META_FILE, readMeta } from './meta';
import { parseRunFolderName } from './runDir';
import { deriveStatus, type StatusOptions } from './status';

export interface ReadRunOptions extends StatusOptions {
  /** Read at most this many bytes from the end of events.jsonl looking for the latest events (default 4 MiB). */
  scanBytes?: number;
  /**
   * Also read the whole of events.jsonl for malformed lines and list each (up to 10) in `problems`
   * as `events.jsonl:LINE: reason` (docs/run-format.md §4.8). Costs a full read; the CLI's `runs` does it.
   */
  checkLines?: boolean;
}

export interface RunSummary {
  /** Absolute path of the run folder. */
  dir: string;
  /** Folder name, e.g. "20250101-120000-shop-infonce". */
  id: string;
  /** meta.json when readable and of a supported format, else null. */
  meta: RunMeta | null;
  status: DerivedRunStatus;
  /** How `status` was derived. */
  statusReason: string;
  /** Experiment name from meta, else the folder slug, else the folder name. */
  name: string;
  /** ISO start time from meta, else from the folder name; null if neither is known. */
  startedAt: string | null;
  /** Last completed step: the larger of meta.step and the last step event's step. */
  step: number;
  totalSteps: number | null;
  /** now − heartbeatAt, ms; null when unknown. */
  heartbeatAgeMs: number | null;
  /** Running (pid alive) but silent for longer than the staleness bound. */
  heartbeatStale: boolean;
  /** Latest step / eval / end events found in the scanned tail of events.jsonl. */
  lastStep: StepEvent | null;
  lastEval: EvalEvent | null;
  end: EndEvent | null;
  /** events.jsonl ends with an unparseable unterminated line. */
  tornTail: boolean;
  /** Size of events.jsonl in bytes (a starting point for tailEvents). */
  eventsBytes: number;
  /** Anything wrong with the folder (missing/invalid meta, …); never thrown. */
  problems: string[];
}

/**
 * Summarise the run in `dir`. Never throws for missing or damaged files: problems are listed and
 * the status is "unknown" when meta.json is missing, invalid or of a newer format. When meta says
 * "running" but events.jsonl already holds an end event (the writer died between the two writes),
 * the end event's status is reported.
 */
export function readRun(dir: string, opts: ReadRunOptions = {}): RunSummary {
  const abs = path.resolve(dir);
  const id = path.basename(abs);
  const folder = parseRunFolderName(id);
  const problems: string[] = [];

  const read = readMeta(abs);
  const totalSteps = read.ok ? read.meta.totalSteps : null;
  let lastStep: StepEvent | null = null;
  let lastEval: EvalEvent | null = null;
  let end: EndEvent | null = null;
  /** The latest step event seen; it is the last step once the step before it is not above it (StepOrder's rule, read backwards). */
  let candidate: StepEvent | null = null;
  let scan = { size: 0, tornTail: false, truncated: false };
  try {
    scan = scanEventsBackward(
      path.join(abs, EVENTS_FILE),
      (e) => {
        if (e.type === 'step' && !lastStep && !(totalSteps !== null && e.step > totalSteps)) {
          if (candidate && e.step <= candidate.step) lastStep = candidate;
          else candidate = e; // the first one, or the later one was out of order
        } else if (e.type === 'eval' && !lastEval) lastEval = e;
        else if (e.type === 'end' && !end) end = e;
        return lastStep !== null && lastEval !== null;
      },
      { maxBytes: opts.scanBytes },
    );
  } catch (err) {
    problems.push(`events.jsonl cannot be read: ${(err as Error).message}`);
  }
  lastStep ??= candidate;
  if (scan.tornTail) problems.push('events.jsonl ends with a torn (incomplete) line');
  if (opts.checkLines) {
    try {
      const bad = scanBadEventLines(path.join(abs, EVENTS_FILE), { totalSteps });
      for (const b of bad.badLines) problems.push(`${EVENTS_FILE}:${b.line}: ${b.reason}`);
      if (bad.badCount > bad.badLines.length) problems.push(`${EVENTS_FILE}: ${bad.badCount - bad.badLines.length} more malformed lines`);
    } catch (err) {
      problems.push(`events.jsonl cannot be read: ${(err as Error).message}`);
    }
    for (const t of leftoverTempDirs(path.join(abs, CHECKPOINTS_DIR))) {
      if (t.writerAlive) continue;
      problems.push(
        `${path.relative(abs, t.path)}: an unfinished checkpoint left by a killed writer${t.pid ? ` (pid ${t.pid})` : ''}; the next eval of the run removes it`,
      );
    }
  }

  const base = {
    dir: abs,
    id,
    lastStep: lastStep as StepEvent | null,
    lastEval: lastEval as EvalEvent | null,
    end: end as EndEvent | null,
    tornTail: scan.tornTail,
    eventsBytes: scan.size,
  };
  const stepFromEvents = base.lastStep?.step ?? 0;

  if (!read.ok) {
    problems.unshift(read.message);
    return {
      ...base,
      meta: null,
      status: 'unknown',
      statusReason: read.message,
      name: folder?.slug ?? id,
      startedAt: folder ? folder.time.toISOString() : null,
      step: stepFromEvents,
      totalSteps: null,
      heartbeatAgeMs: null,
      heartbeatStale: false,
      problems,
    };
  }

  const meta = read.meta;
  let derived = deriveStatus(meta, opts);
  if (meta.status === 'running' && base.end) {
    derived = {
      ...derived,
      status: base.end.status,
      reason: `meta.json says running but events.jsonl has an end event with status "${base.end.status}"`,
      heartbeatStale: false,
    };
  }
  return {
    ...base,
    meta,
    status: derived.status,
    statusReason: derived.reason,
    name: meta.name,
    startedAt: meta.startedAt,
    step: Math.max(meta.step, stepFromEvents),
    totalSteps: meta.totalSteps,
    heartbeatAgeMs: derived.heartbeatAgeMs,
    heartbeatStale: derived.heartbeatStale,
    problems,
  };
}

/** Whether `dir` contains a meta.json (the mark of a run folder). */
export function hasMeta(dir: string): boolean {
  return fs.existsSync(path.join(dir, META_FILE));
}
