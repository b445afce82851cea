/**
 * RunWriter: the trainer-side handle on one run folder (config.json, meta.json, events.jsonl).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { writeJsonAtomicSync } from './atomicWrite';
import { EventWriter } from './eventLog';
import { boundText } from './eventLine';
import {
  RUN_FORMAT_VERSION,
  type BestCheckpointRef,
  type CheckpointRef,
  type FinalRunStatus,
  type JsonValue,
  type RunError,
  type RunEventInput,
  type RunMeta,
} from './eventSchema';
import { CONFIG_FILE, EVENTS_FILE, writeMeta } from './meta';
import { createRunDir } from './runDir';

/**
 * A hidden file of SPACE_RESERVE_BYTES written at the start of a run and deleted before the final
 * meta.json is written, so that a run that filled its disk can still be marked "failed".
 */
export const SPACE_RESERVE_FILE = '.space-reserve';
export const SPACE_RESERVE_BYTES = 4096;

/** Default minimum interval between heartbeat writes of meta.json. */
export const DEFAULT_HEARTBEAT_MS = 5000;

export interface RunWriterOptions {
  /** Summary stored in the start event; default: the top-level string/number/boolean fields of the config. */
  configSummary?: { [key: string]: JsonValue };
  /** Minimum ms between heartbeat writes (default 5000). */
  heartbeatMs?: number;
  /** Clock (default `() => new Date()`); also names the folder. */
  now?: () => Date;
}

/** Top-level primitive fields of a config object, as a small summary. */
export function summarizeConfig(config: unknown): { [key: string]: JsonValue } {
  const summary: { [key: string]: JsonValue } = {};
  if (typeof config !== 'object' || config === null) return summary;
  for (const [k, v] of Object.entries(config)) {
    if (typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v))) summary[k] = v;
  }
  return summary;
}

/**
 * Writes one run. Create with `RunWriter.create`; call `heartbeat(step)` every step, `appendEvent`
 * for events, and `finish` once at the end. Not safe for use by two processes on the same run.
 */
export class RunWriter {
  private meta: RunMeta;
  private readonly events: EventWriter;
  private lastMetaWriteMs: number;
  private finished = false;
  /** An append to events.jsonl failed (disk full, …): finish writes meta.json before the end event. */
  private appendFailed = false;

  private constructor(
    readonly dir: string,
    meta: RunMeta,
    private readonly now: () => Date,
    private readonly heartbeatMs: number,
  ) {
    this.meta = meta;
    this.events = new EventWriter(path.join(dir, EVENTS_FILE));
    this.lastMetaWriteMs = now().getTime();
  }

  /**
   * Create a new run folder under `root` (see createRunDir), write config.json and meta.json
   * (status "running", this process's pid and host, versions.node filled in) and append the start event.
   * Fields given in `meta` override the defaults; versions are merged.
   */
  static async create(root: string, name: string, config: unknown, meta: Partial<RunMeta> = {}, opts: RunWriterOptions = {}): Promise<RunWriter> {
    const now = opts.now ?? (() => new Date());
    const start = now();
    const dir = createRunDir(root, name, start);
    writeJsonAtomicSync(path.join(dir, CONFIG_FILE), config);
    const full: RunMeta = {
      formatVersion: RUN_FORMAT_VERSION,
      name,
      configPath: null,
      status: 'running',
      backend: 'unknown',
      pid: process.pid,
      host: os.hostname(),
      startedAt: start.toISOString(),
      heartbeatAt: start.toISOString(),
      step: 0,
      totalSteps: null,
      checkpoints: {},
      ...meta,
      versions: { node: process.versions.node, tfjs: 'unknown', retrievalLens: 'unknown', ...meta.versions },
    };
    writeMeta(dir, full);
    const writer = new RunWriter(dir, full, now, opts.heartbeatMs ?? DEFAULT_HEARTBEAT_MS);
    writer.appendEvent({ type: 'start', config: opts.configSummary ?? summarizeConfig(config), backend: full.backend });
    try {
      fs.writeFileSync(path.join(dir, SPACE_RESERVE_FILE), Buffer.alloc(SPACE_RESERVE_BYTES));
    } catch {
      fs.rmSync(path.join(dir, SPACE_RESERVE_FILE), { force: true }); // best effort: a run without a reserve still works
    }
    return writer;
  }

  /** A copy of the meta as last set (may be ahead of meta.json by the unwritten heartbeat step). */
  get currentMeta(): RunMeta {
    return structuredClone(this.meta);
  }

  /** Path of events.jsonl. */
  get eventsFile(): string {
    return this.events.file;
  }

  private assertOpen(): void {
    if (this.finished) throw new Error(`RunWriter: run ${this.dir} is already finished`);
  }

  private writeMetaNow(): void {
    writeMeta(this.dir, this.meta);
    this.lastMetaWriteMs = this.now().getTime();
  }

  /**
   * Append one event to events.jsonl (adds `v`, and `time` if absent). A step event also advances
   * the in-memory step, written to meta.json with the next heartbeat/update.
   */
  appendEvent(e: RunEventInput): void {
    this.assertOpen();
    try {
      this.events.append(e, this.now());
    } catch (err) {
      this.appendFailed = true;
      throw err;
    }
    if (e.type === 'step' && e.step > this.meta.step) this.meta.step = e.step;
  }

  /** Merge `patch` into meta and write meta.json atomically now; heartbeatAt is set to now unless patched. */
  updateMeta(patch: Partial<RunMeta>): void {
    this.assertOpen();
    this.meta = { ...this.meta, ...patch, heartbeatAt: patch.heartbeatAt ?? this.now().toISOString() };
    this.writeMetaNow();
  }

  /**
   * Record `step` as the last completed step; write meta.json (step + heartbeatAt) only if at least
   * `heartbeatMs` passed since the last write. Returns whether meta.json was written.
   */
  heartbeat(step: number): boolean {
    this.assertOpen();
    this.meta.step = step;
    const now = this.now();
    if (now.getTime() - this.lastMetaWriteMs < this.heartbeatMs) return false;
    this.meta.heartbeatAt = now.toISOString();
    this.writeMetaNow();
    return true;
  }

  /** Append a checkpoint event and record the checkpoint in meta.checkpoints (written now). */
  recordCheckpoint(kind: 'last', ref: CheckpointRef): void;
  recordCheckpoint(kind: 'best', ref: BestCheckpointRef): void;
  recordCheckpoint(kind: 'last' | 'best', ref: CheckpointRef | BestCheckpointRef): void {
    this.assertOpen();
    const extra = kind === 'best' ? { metric: (ref as BestCheckpointRef).metric, value: (ref as BestCheckpointRef).value } : {};
    this.appendEvent({ type: 'checkpoint', kind, step: ref.step, path: ref.path, ...extra });
    this.updateMeta({ checkpoints: { ...this.meta.checkpoints, [kind]: { ...ref } } });
  }

  /**
   * End the run: append the end event, then write meta.json with the final status, endedAt and
   * error, and close events.jsonl. Never throws for write failures (disk full, …): it frees the
   * run's space reserve first, writes meta.json before the end event when an append already failed,
   * and returns the messages of the writes that failed (each naming its file); [] when all went
   * well. Further calls throw.
   */
  finish(status: FinalRunStatus, error?: RunError): string[] {
    this.assertOpen();
    this.finished = true;
    const failures: string[] = [];
    const attempt = (write: () => void) => {
      try {
        write();
      } catch (err) {
        failures.push((err as Error).message);
      }
    };
    fs.rmSync(path.join(this.dir, SPACE_RESERVE_FILE), { force: true });
    const now = this.now().toISOString();
    const endEvent = () => this.events.append({ type: 'end', status, step: this.meta.step, ...(error ? { error } : {}) }, this.now());
    this.meta = { ...this.meta, status, endedAt: now, heartbeatAt: now, ...(error ? { error: { ...error, message: boundText(error.message) } } : {}) };
    if (this.appendFailed) {
      attempt(() => this.writeMetaNow());
      attempt(endEvent);
    } else {
      attempt(endEvent);
      attempt(() => this.writeMetaNow());
    }
    attempt(() => this.events.close());
    return failures;
  }
}
