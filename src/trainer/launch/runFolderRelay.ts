/**
 * Follows a run folder that another process writes (docs/run-format.md: meta.json and events.jsonl, read
 * with tailEvents) and hands on the same typed messages as the built-in trainer's IPC
 * (src/trainer/protocol.ts): `started` once meta.json reads (examples and badLines 0: the PyTorch
 * trainer logs its data counts as log events), then every `step`, `eval` and `log` event in file order,
 * and at the end `done` from the final meta.json.
 */
import * as path from 'path';
import type { EndEvent } from '../../core/runs/eventSchema';
import { tailEvents } from '../../core/runs/eventLog';
import { EVENTS_FILE, readMeta } from '../../core/runs/meta';
import { readRun } from '../../core/runs/readRun';
import type { DoneMessage, FromTrainer } from '../protocol';

export class RunFolderRelay {
  private started = false;
  private eventsOffset = 0;
  private lastStep = 0;
  private end: EndEvent | null = null;

  constructor(
    readonly runDir: string,
    private readonly onMessage: (m: FromTrainer) => void,
    /** Planned steps when meta.json has none (totalSteps null). */
    private readonly totalStepsHint?: number,
  ) {}

  /** Hands on what the run folder holds now and was not handed on yet. */
  poll(): void {
    if (!this.started) {
      const meta = readMeta(this.runDir);
      if (!meta.ok) return;
      this.started = true;
      this.onMessage({
        type: 'started',
        runDir: this.runDir,
        totalSteps: meta.meta.totalSteps ?? this.totalStepsHint ?? 0,
        backend: meta.meta.backend,
        examples: 0,
        badLines: 0,
      });
    }
    for (;;) {
      const r = tailEvents(path.join(this.runDir, EVENTS_FILE), this.eventsOffset);
      this.eventsOffset = r.nextOffset;
      for (const e of r.events) {
        if (e.type === 'step' && e.step > this.lastStep) {
          this.lastStep = e.step;
          this.onMessage({ type: 'step', event: e });
        } else if (e.type === 'log') this.onMessage({ type: 'log', level: e.level, message: e.message });
        else if (e.type === 'eval') {
          const metrics: Record<string, number> = {};
          for (const [k, v] of Object.entries(e.metrics)) if (typeof v === 'number' && Number.isFinite(v)) metrics[k] = v;
          this.onMessage({ type: 'eval', step: e.step, metrics, ...(e.heldOut ? { heldOut: e.heldOut } : {}), ...(e.quality ? { quality: e.quality } : {}) });
        } else if (e.type === 'end') this.end = e;
      }
      for (const bad of r.badLines) this.onMessage({ type: 'log', level: 'warn', message: `${EVENTS_FILE} at byte ${bad.offset}: ${bad.reason}` });
      if (!r.hasMore) break;
    }
  }

  /** The run's `done` when its writer ended it (completed, stopped or failed), else null (still running, or crashed). */
  doneMessage(): DoneMessage | null {
    const s = readRun(this.runDir);
    if (s.status !== 'completed' && s.status !== 'stopped' && s.status !== 'failed') return null;
    return {
      type: 'done',
      status: s.status,
      runDir: this.runDir,
      step: s.step,
      ...(s.meta?.error ? { error: s.meta.error } : this.end?.error ? { error: this.end.error } : {}),
    };
  }
}
