/**
 * Runs overlaid on the dashboards' per-step charts (up to MAX_OVERLAY_RUNS beside the run shown): the user
 * picks them (a multi-select quick pick of the workspace's runs), each is followed with its own RunFeed —
 * its history as `overlay` messages with `reset: true` (in parts for a long history), then its new steps,
 * polled once a second — and a run unticked is removed (`overlayRemove`). Dashboards that (re)load get
 * every overlaid run again.
 */
import * as vscode from 'vscode';
import { MAX_OVERLAY_RUNS, type StepEvent, type ToDashboard } from '../../webview/dashboard/protocol';
import type { RunRegistry } from '../runs/runRegistry';
import { runDescription } from '../runs/runItems';
import { RunFeed, STEPS_PER_MESSAGE } from './runFeed';
import type { DashboardSink } from './shownRun';

const POLL_MS = 1000;

interface Overlaid {
  feed: RunFeed;
  name: string;
}

export class OverlayFeeds implements vscode.Disposable {
  private readonly runs = new Map<string, Overlaid>();
  private readonly sinks = new Set<DashboardSink>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly registry: RunRegistry,
    private readonly shownRunDir: () => string | null,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  /** The run folders overlaid. */
  get runDirs(): string[] {
    return [...this.runs.keys()];
  }

  attach(sink: DashboardSink): vscode.Disposable {
    this.sinks.add(sink);
    return new vscode.Disposable(() => this.sinks.delete(sink));
  }

  /** A dashboard (re)loaded: every overlaid run's history. */
  sinkReady(sink: DashboardSink): void {
    for (const [dir, r] of this.runs) for (const m of this.historyMessages(dir, r)) sink.post(m);
  }

  /** Asks which runs to overlay (the ones overlaid ticked) and follows them. */
  async pick(): Promise<void> {
    await this.registry.ensureScanned();
    const shown = this.shownRunDir();
    const runs = this.registry.allRuns().filter((r) => r.dir !== shown);
    if (runs.length === 0) {
      void vscode.window.showInformationMessage('Retrieval Lens: there is no other run in this workspace to overlay.');
      return;
    }
    const items = runs.map((r) => ({
      label: r.name,
      description: runDescription(r),
      detail: vscode.workspace.asRelativePath(r.dir),
      picked: this.runs.has(r.dir),
      dir: r.dir,
    }));
    const picked = await vscode.window.showQuickPick(items, {
      canPickMany: true,
      placeHolder: `Overlay which runs on the dashboard's per-step charts? (up to ${MAX_OVERLAY_RUNS})`,
      matchOnDescription: true,
      matchOnDetail: true,
    });
    if (!picked) return;
    if (picked.length > MAX_OVERLAY_RUNS) {
      void vscode.window.showWarningMessage(
        `Retrieval Lens: ${picked.length} runs picked; the dashboard overlays at most ${MAX_OVERLAY_RUNS}. Nothing changed.`,
      );
      return;
    }
    this.set(picked.map((p) => ({ dir: p.dir, name: p.label })));
  }

  /** Overlays exactly these runs (in this order). */
  set(runs: readonly { dir: string; name: string }[]): void {
    const keep = new Set(runs.map((r) => r.dir));
    for (const dir of [...this.runs.keys()]) {
      if (keep.has(dir)) continue;
      this.runs.delete(dir);
      this.broadcast([{ type: 'overlayRemove', runDir: dir }]);
    }
    for (const r of runs.slice(0, MAX_OVERLAY_RUNS)) {
      if (this.runs.has(r.dir)) continue;
      const o = { feed: new RunFeed(r.dir), name: r.name };
      this.runs.set(r.dir, o);
      this.broadcast(this.historyMessages(r.dir, o));
    }
    this.schedule();
  }

  private historyMessages(dir: string, r: Overlaid): ToDashboard[] {
    let steps: StepEvent[];
    try {
      steps = r.feed.reset().steps;
    } catch (e) {
      this.log.warn(`overlay: cannot read ${dir}: ${(e as Error).message}`);
      steps = [];
    }
    const out: ToDashboard[] = [{ type: 'overlay', runDir: dir, name: r.name, reset: true, steps: steps.slice(0, STEPS_PER_MESSAGE) }];
    for (let i = STEPS_PER_MESSAGE; i < steps.length; i += STEPS_PER_MESSAGE) {
      out.push({ type: 'overlay', runDir: dir, name: r.name, reset: false, steps: steps.slice(i, i + STEPS_PER_MESSAGE) });
    }
    return out;
  }

  private poll(): void {
    for (const [dir, r] of this.runs) {
      try {
        const u = r.feed.poll();
        if (u.restarted) this.broadcast(this.historyMessages(dir, r));
        else if (u.steps.length) this.broadcast([{ type: 'overlay', runDir: dir, name: r.name, reset: false, steps: u.steps }]);
      } catch (e) {
        this.log.warn(`overlay: reading ${dir}: ${(e as Error).message}`);
      }
    }
    this.schedule();
  }

  private broadcast(messages: ToDashboard[]): void {
    for (const sink of this.sinks) if (sink.ready) for (const m of messages) sink.post(m);
  }

  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = this.runs.size > 0 ? setTimeout(() => this.poll(), POLL_MS) : undefined;
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.runs.clear();
  }
}
