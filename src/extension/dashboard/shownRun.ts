/**
 * The run the dashboards show (sidebar view and editor panel share it): follows its folder with a
 * RunFeed — a full `reset` for every dashboard that says `ready`, then `steps` / `eval` / `status`
 * as events.jsonl grows (polled twice a second while running, and at once when the live trainer
 * reports a step) — for runs of the extension's trainer and runs written by anything else alike.
 */
import * as vscode from 'vscode';
import type { StepEvent } from '../../core/runs/eventSchema';
import type { RunHeader, ToDashboard } from '../../webview/dashboard/protocol';
import { RunFeed } from './runFeed';
import { samePath } from '../configEditor/experimentFiles';

/** A dashboard that receives messages once it said `ready`. */
export interface DashboardSink {
  readonly ready: boolean;
  post(message: ToDashboard): void;
}

/** Poll intervals (ms): while the run is running, and otherwise while a dashboard is open. */
const POLL_RUNNING_MS = 500;
const POLL_IDLE_MS = 3000;

export class ShownRun implements vscode.Disposable {
  private feed: RunFeed | null = null;
  private lastStepEvent: StepEvent | null = null;
  private readonly sinks = new Set<DashboardSink>();
  private timer: NodeJS.Timeout | undefined;
  private readonly changed = new vscode.EventEmitter<RunHeader | null>();
  private readonly stepped = new vscode.EventEmitter<StepEvent>();

  /** The run switched or its header changed. */
  readonly onDidChange = this.changed.event;
  /** New steps were read (the newest one). */
  readonly onDidStep = this.stepped.event;

  constructor(private readonly log: vscode.LogOutputChannel) {}

  get runDir(): string | null {
    return this.feed?.runDir ?? null;
  }

  get header(): RunHeader | null {
    return this.feed?.currentHeader ?? null;
  }

  /** The newest step event read from the shown run. */
  get lastStep(): StepEvent | null {
    return this.lastStepEvent;
  }

  /** Show `runDir` (null: nothing) in every dashboard. Showing the run already shown only refreshes it. */
  show(runDir: string | null): void {
    if (runDir !== null && this.feed && samePath(this.feed.runDir, runDir)) {
      this.nudge();
      return;
    }
    this.feed = runDir === null ? null : new RunFeed(runDir);
    this.lastStepEvent = null;
    if (this.feed) {
      try {
        this.lastStepEvent = this.feed.startAtEnd().last;
      } catch (e) {
        this.log.warn(`cannot read ${runDir}: ${(e as Error).message}`);
      }
    }
    for (const sink of this.sinks) if (sink.ready) this.sendReset(sink);
    this.changed.fire(this.header);
    this.schedule();
  }

  /** Register a dashboard; it gets a reset when it reports ready ({@link sinkReady}). */
  attach(sink: DashboardSink): vscode.Disposable {
    this.sinks.add(sink);
    return new vscode.Disposable(() => {
      this.sinks.delete(sink);
      this.schedule();
    });
  }

  /** A dashboard (re)loaded: bring the others up to date first, then send it the full history. */
  sinkReady(sink: DashboardSink): void {
    this.nudge();
    this.sendReset(sink);
    this.schedule();
  }

  /** Read new events now (e.g. the live trainer reported a step); also re-arms the poll timer. */
  nudge(): void {
    if (!this.feed) return;
    try {
      this.readAndBroadcast(this.feed);
    } finally {
      this.schedule();
    }
  }

  private readAndBroadcast(feed: RunFeed): void {
    let messages: ToDashboard[];
    try {
      messages = feed.pollMessages();
    } catch (e) {
      this.log.warn(`reading ${feed.runDir}: ${(e as Error).message}`);
      return;
    }
    if (messages.length === 0) return;
    let newest: StepEvent | null = null;
    for (const m of messages) {
      if (m.type === 'reset' || m.type === 'steps') newest = m.steps.at(-1) ?? newest;
    }
    if (newest) this.lastStepEvent = newest;
    for (const sink of this.sinks) if (sink.ready) for (const m of messages) sink.post(m);
    if (newest) this.stepped.fire(newest);
    if (messages.some((m) => m.type === 'status' || m.type === 'reset')) this.changed.fire(this.header);
  }

  private sendReset(sink: DashboardSink): void {
    if (!this.feed) {
      sink.post({ type: 'reset', run: null, steps: [], evals: [] });
      return;
    }
    let messages: ToDashboard[];
    try {
      messages = this.feed.resetMessages();
    } catch (e) {
      this.log.warn(`reading ${this.feed.runDir}: ${(e as Error).message}`);
      messages = [{ type: 'reset', run: null, steps: [], evals: [] }];
    }
    for (const m of messages) {
      if ((m.type === 'reset' || m.type === 'steps') && m.steps.length) this.lastStepEvent = m.steps.at(-1) ?? this.lastStepEvent;
      sink.post(m);
    }
  }

  /** (Re)arm the poll timer for the current state. */
  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.feed) return;
    const running = this.header?.status === 'running';
    const anyReady = [...this.sinks].some((s) => s.ready);
    const ms = running ? POLL_RUNNING_MS : anyReady ? POLL_IDLE_MS : 0;
    if (ms > 0) this.timer = setTimeout(() => this.nudge(), ms);
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.changed.dispose();
    this.stepped.dispose();
  }
}
