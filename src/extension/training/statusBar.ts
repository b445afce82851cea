/**
 * The status bar item of the active run: the live training (from the trainer's step messages) or,
 * without one, the shown run while it is running (a run started elsewhere, followed from its
 * events.jsonl). Shows step, loss and the collapse state; warning colours when not healthy; a click
 * opens the dashboard. Hidden when nothing is running.
 */
import * as vscode from 'vscode';
import type { StepEvent } from '../../core/runs/eventSchema';
import { formatStatusBar } from '../shared/lensText';
import type { ShownRun } from '../dashboard/shownRun';
import type { TrainingController } from './trainingController';

export class RunStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('retrievalLens.run', vscode.StatusBarAlignment.Left, 50);
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly training: TrainingController,
    private readonly shown: ShownRun,
  ) {
    this.item.name = 'Retrieval Lens Run';
    this.item.command = 'retrievalLens.showDashboard';
    const update = () => this.update();
    this.disposables.push(training.onDidChange(update), training.onDidStep(update), shown.onDidChange(update), shown.onDidStep(update));
    this.update();
  }

  private update(): void {
    const live = this.training.current;
    let run: { name: string; running: boolean; step: number; totalSteps: number | null } | null = null;
    let last: StepEvent | null = null;
    if (live) {
      const name = this.shown.header && live.runDir && this.shown.runDir === live.runDir ? this.shown.header.name : 'training';
      run = { name, running: true, step: live.last?.step ?? 0, totalSteps: live.totalSteps };
      last = live.last;
      if (!live.runDir) this.item.text = '$(loading~spin) Retrieval Lens: starting the trainer…';
    } else if (this.shown.header?.status === 'running') {
      const h = this.shown.header;
      run = { name: h.name, running: true, step: Math.max(h.step, this.shown.lastStep?.step ?? 0), totalSteps: h.totalSteps };
      last = this.shown.lastStep;
    }
    if (!run) {
      this.item.hide();
      return;
    }
    if (!live || live.runDir) this.item.text = formatStatusBar(run, last);
    const state = last?.verdict.state ?? 'healthy';
    this.item.backgroundColor =
      state === 'collapsed'
        ? new vscode.ThemeColor('statusBarItem.errorBackground')
        : state === 'warning' || state === 'collapsing' || state === 'never-separated'
          ? new vscode.ThemeColor('statusBarItem.warningBackground')
          : undefined;
    this.item.tooltip = last
      ? `Retrieval Lens: ${run.name}, step ${last.step}\n${last.verdict.state}: ${last.verdict.reason}\nClick to open the dashboard`
      : 'Retrieval Lens: click to open the dashboard';
    this.item.accessibilityInformation = { label: `Retrieval Lens run ${run.name}, step ${run.step}${last ? `, ${last.verdict.state}` : ''}` };
    this.item.show();
  }

  dispose(): void {
    this.disposables.forEach((d) => d.dispose());
    this.item.dispose();
  }
}
