/**
 * The dashboard's data feed of one run folder: the full history once (`reset`), then only what was
 * appended to events.jsonl since (`poll`), read with tailEvents from a byte offset so a line still
 * being written (a torn last line) is left for the next read and never shown twice or lost.
 * Works for runs of the extension's own trainer and for runs written by anything else following
 * docs/run-format.md (the CLI, a PyTorch job). No VS Code import: unit-tested with real files.
 */
import * as path from 'path';
import type { EvalEvent, RunEvent, StepEvent } from '../../core/runs/eventSchema';
import * as fs from 'fs';
import { scanEventsBackward, tailEvents } from '../../core/runs/eventLog';
import { EVENTS_FILE } from '../../core/runs/meta';
import type { StatusOptions } from '../../core/runs/status';
import type { EvalPoint, RunHeader, ScalarPoint, ToDashboard } from '../../webview/dashboard/protocol';
import { readRunHeader, sameHeader, type RunEventFacts } from './runHeader';
import { openRegularSync } from '../../core/io/safeRead';

/** Steps per message when a history is sent in parts (a reset with the first part, then `steps`). */
export const STEPS_PER_MESSAGE = 2000;

/** An eval event as the dashboard's EvalPoint (numbers and nulls only; a live held-out evaluation's sample and quality verdict). */
export function evalPoint(e: EvalEvent): EvalPoint {
  const metrics: Record<string, number | null> = {};
  for (const [k, v] of Object.entries(e.metrics)) {
    if (v === null || (typeof v === 'number' && Number.isFinite(v))) metrics[k] = v;
  }
  return {
    step: e.step,
    metrics,
    ...(e.heldOut ? { heldOut: e.heldOut.description } : {}),
    ...(e.quality ? { quality: e.quality } : {}),
    time: e.time,
  };
}

/** What a poll found. */
export interface FeedUpdate {
  /** New step events, in file order, each with a step above every step sent before. */
  steps: StepEvent[];
  evals: EvalPoint[];
  /** New `scalars` events (the user's own numbers), in file order. */
  scalars: ScalarPoint[];
  /** The header when it changed since the last reset/poll, else null. */
  header: RunHeader | null;
  /** events.jsonl was replaced or truncated: the caller must send a fresh reset. */
  restarted: boolean;
}

export interface RunFeedOptions extends StatusOptions {
  /** Bytes read per tailEvents call (default: tailEvents' own). */
  maxBytes?: number;
}

/** Incremental reader of one run folder for the dashboard. */
export class RunFeed {
  readonly runDir: string;
  private readonly eventsFile: string;
  private offset = 0;
  private facts: RunEventFacts = { start: null, end: null, lastStep: 0 };
  private header: RunHeader | null = null;

  constructor(
    runDir: string,
    private readonly opts: RunFeedOptions = {},
  ) {
    this.runDir = path.resolve(runDir);
    this.eventsFile = path.join(this.runDir, EVENTS_FILE);
  }

  /** Step of the last step event read so far. */
  get lastStep(): number {
    return this.facts.lastStep;
  }

  /** The header as last computed (null before the first reset). */
  get currentHeader(): RunHeader | null {
    return this.header;
  }

  /** Read the whole history from the start of events.jsonl (and the header). */
  reset(): { header: RunHeader; steps: StepEvent[]; evals: EvalPoint[]; scalars: ScalarPoint[] } {
    this.offset = 0;
    this.facts = { start: null, end: null, lastStep: 0 };
    const { steps, evals, scalars } = this.readNew();
    this.header = readRunHeader(this.runDir, this.facts, this.opts);
    return { header: this.header, steps, evals, scalars };
  }

  /**
   * Start following at the end of the log without reading its history (for the status bar when no
   * dashboard is open): the offset goes after the last complete line, and the latest step/start/end
   * are found by a backward scan. Returns the header and the latest step event.
   */
  startAtEnd(): { header: RunHeader; last: StepEvent | null } {
    const facts: RunEventFacts = { start: null, end: null, lastStep: 0 };
    let last: StepEvent | null = null;
    scanEventsBackward(this.eventsFile, (e) => {
      if (e.type === 'step' && !last) last = e;
      else if (e.type === 'end' && !facts.end) facts.end = e;
      else if (e.type === 'start') facts.start = e;
      // The end event (if any) comes after the last step, so it has been seen by then.
      return last !== null;
    });
    const lastEvent = last as StepEvent | null;
    facts.lastStep = lastEvent?.step ?? 0;
    this.facts = facts;
    this.offset = completeLinesEnd(this.eventsFile);
    this.header = readRunHeader(this.runDir, this.facts, this.opts);
    return { header: this.header, last: lastEvent };
  }

  /** Read what was appended since the last reset/poll. */
  poll(): FeedUpdate {
    const { steps, evals, scalars, restarted } = this.readNew();
    if (restarted) return { steps: [], evals: [], scalars: [], header: null, restarted: true };
    const header = readRunHeader(this.runDir, this.facts, this.opts);
    const changed = !sameHeader(header, this.header);
    this.header = header;
    return { steps, evals, scalars, header: changed ? header : null, restarted: false };
  }

  /** The reset as protocol messages: one `reset` and, for a long history, `steps` with the rest. */
  resetMessages(): ToDashboard[] {
    const { header, steps, evals, scalars } = this.reset();
    const out: ToDashboard[] = [{ type: 'reset', run: header, steps: steps.slice(0, STEPS_PER_MESSAGE), evals, ...(scalars.length ? { scalars } : {}) }];
    for (let i = STEPS_PER_MESSAGE; i < steps.length; i += STEPS_PER_MESSAGE) {
      out.push({ type: 'steps', steps: steps.slice(i, i + STEPS_PER_MESSAGE) });
    }
    return out;
  }

  /** A poll as protocol messages (a restarted log becomes a fresh reset). */
  pollMessages(): ToDashboard[] {
    const u = this.poll();
    if (u.restarted) return this.resetMessages();
    const out: ToDashboard[] = [];
    for (let i = 0; i < u.steps.length; i += STEPS_PER_MESSAGE) out.push({ type: 'steps', steps: u.steps.slice(i, i + STEPS_PER_MESSAGE) });
    for (const point of u.evals) out.push({ type: 'eval', point });
    if (u.scalars.length) out.push({ type: 'scalars', points: u.scalars });
    if (u.header) out.push({ type: 'status', run: u.header });
    return out;
  }

  /** Tail complete lines from the current offset until the end of the file. */
  private readNew(): { steps: StepEvent[]; evals: EvalPoint[]; scalars: ScalarPoint[]; restarted: boolean } {
    const steps: StepEvent[] = [];
    const evals: EvalPoint[] = [];
    const scalars: ScalarPoint[] = [];
    const startOffset = this.offset;
    for (;;) {
      const r = tailEvents(this.eventsFile, this.offset, { maxBytes: this.opts.maxBytes });
      if (r.reset && startOffset > 0) {
        this.offset = 0;
        return { steps: [], evals: [], scalars: [], restarted: true };
      }
      this.offset = r.nextOffset;
      for (const e of r.events) {
        if (e.type === 'scalars') scalars.push({ step: e.step, values: e.values });
        else this.take(e, steps, evals);
      }
      if (!r.hasMore) break;
    }
    return { steps, evals, scalars, restarted: false };
  }

  private take(e: RunEvent, steps: StepEvent[], evals: EvalPoint[]): void {
    if (e.type === 'step') {
      // Steps only go forward (the dashboard skips any other); a resumed writer's repeats are dropped here.
      if (e.step > this.facts.lastStep) {
        steps.push(e);
        this.facts.lastStep = e.step;
      }
    } else if (e.type === 'eval') evals.push(evalPoint(e));
    else if (e.type === 'start') this.facts.start = this.facts.start ?? e;
    else if (e.type === 'end') this.facts.end = e;
  }
}

/** Byte offset just after the last "\n" of a file (0 when none or missing): where complete lines end. */
export function completeLinesEnd(file: string): number {
  let fd: number;
  try {
    fd = openRegularSync(file).fd;
  } catch {
    return 0;
  }
  try {
    const size = fs.fstatSync(fd).size;
    const chunk = 64 * 1024;
    for (let end = size; end > 0; end -= chunk) {
      const start = Math.max(0, end - chunk);
      const buf = Buffer.alloc(end - start);
      fs.readSync(fd, buf, 0, buf.length, start);
      const nl = buf.lastIndexOf(0x0a);
      if (nl !== -1) return start + nl + 1;
    }
    return 0;
  } finally {
    fs.closeSync(fd);
  }
}
