/**
 * CodeLenses of experiment configs (`*.rlens.json`):
 * - at the top: ▶ Train · ⏹ Stop (while this config trains) · Dashboard · Evaluate last run;
 * - above `loss`: the live δ/τ percentiles and collapse verdict while a run of this file is running
 *   (refreshed at most once a second, paced by lensRefreshPacer.ts), else the last run's values;
 * - above each data path: example (item) and bad-line counts.
 * - "Sweep…" above `margin`, `temperature`, `alpha` of `loss` (or above `loss` when none is written):
 *   a sweep of that value (src/extension/sweep/sweepController.ts); hidden in an untrusted workspace.
 * Positions come from jsonc-parser's parse tree.
 */
import * as path from 'path';
import * as vscode from 'vscode';
import type { StepEvent } from '../../core/runs/eventSchema';
import { findConfigAnchors, type TextSpan } from './configAnchors';
import type { DataReports } from '../dataLens/dataReports';
import { dataSpecsOf } from '../dataLens/dataSpecs';
import { isExperimentConfig, samePath } from './experimentFiles';
import { formatDataLens, formatLossLens, formatLossLensTooltip, type LossLensSource } from '../shared/lensText';
import { LensRefreshPacer } from './lensRefreshPacer';
import { learnedLensTitle } from './learnedLens';
import { statusLabel } from '../../core/runs/status';
import { hasCheckpoint } from '../runs/runItems';
import type { RunRegistry } from '../runs/runRegistry';
import type { ShownRun } from '../dashboard/shownRun';
import type { TrainingController } from '../training/trainingController';
import { UNTRUSTED_EXPLANATION } from '../shared/workspaceTrust';
import { hardNegativesLens } from '../dataLens/hardNegativesLens';
import { isSweepRun, ownRuns } from '../training/trainConflict';
import type { RunSummary } from '../../core/runs/readRun';
import { auditCodeLens, type AuditResults } from '../audit/auditView';

/** The live lens changes at most this often. */
const LIVE_REFRESH_MS = 1000;
/** A live change is fired regardless when VS Code has not asked for the lenses within this time. */
const LIVE_REFRESH_PATIENCE_MS = 10_000;

export class ConfigLensProvider implements vscode.CodeLensProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changed.event;
  private readonly disposables: vscode.Disposable[] = [];
  private readonly pacer = new LensRefreshPacer(LIVE_REFRESH_MS, LIVE_REFRESH_PATIENCE_MS, () => this.changed.fire());

  constructor(
    private readonly training: TrainingController,
    private readonly shown: ShownRun,
    private readonly registry: RunRegistry,
    private readonly data: DataReports,
    /** The running sweep's run folders: trained from a config with overrides, they are not the config's own runs. */
    private readonly sweepRunDirs: () => ReadonlySet<string> = () => new Set(),
    /** The data audits of this window: their count line goes above data.train. */
    private readonly audits?: AuditResults,
  ) {
    const now = () => this.refresh();
    const throttled = () => this.refreshThrottled();
    this.disposables.push(
      training.onDidChange(now),
      training.onDidStep(throttled),
      shown.onDidStep(throttled),
      shown.onDidChange(throttled),
      registry.onDidChange(throttled),
      data.onDidChange(now),
      // Paced as a live change: the "auditing…" event and the result come within milliseconds, and VS Code drops a
      // change that arrives while it fetches the lenses of the previous one (the result then showed only after an edit).
      ...(audits ? [audits.onDidChange(throttled)] : []),
      vscode.workspace.onDidGrantWorkspaceTrust(now),
    );
  }

  /** Refresh now. */
  refresh(): void {
    this.pacer.now();
  }

  /** Refresh with the newest values once VS Code has fetched the previous ones, at most once per LIVE_REFRESH_MS. */
  private refreshThrottled(): void {
    this.pacer.soon();
  }

  provideCodeLenses(doc: vscode.TextDocument): vscode.CodeLens[] {
    if (!isExperimentConfig(doc.uri.fsPath)) return [];
    this.pacer.requested();
    const configPath = doc.uri.fsPath;
    const text = doc.getText();
    const anchors = findConfigAnchors(text);
    const span = (s: TextSpan) => new vscode.Range(doc.positionAt(s.offset), doc.positionAt(s.offset));
    const lenses: vscode.CodeLens[] = [];
    const top = new vscode.Range(0, 0, 0, 0);
    const sweepRuns = this.sweepRunDirs();
    const runs = ownRuns(this.registry.runsOfConfig(configPath), sweepRuns);
    const lastRun = runs[0];
    const training = this.training.isTraining(configPath);

    if (!vscode.workspace.isTrusted) {
      lenses.push(
        new vscode.CodeLens(top, {
          title: '$(shield) Training disabled: workspace not trusted',
          command: 'workbench.trust.manage',
          tooltip: UNTRUSTED_EXPLANATION,
        }),
      );
    } else if (!training) {
      lenses.push(
        new vscode.CodeLens(top, {
          title: '$(play) Train',
          command: 'retrievalLens.startTraining',
          arguments: [doc.uri],
          tooltip: 'Train this experiment in the background trainer',
        }),
      );
    }
    if (training) {
      const stopping = this.training.current?.stopRequested;
      lenses.push(
        new vscode.CodeLens(top, {
          title: stopping ? '$(loading~spin) Stopping…' : '$(debug-stop) Stop',
          command: 'retrievalLens.stopTraining',
          tooltip: 'Stop after the current step and write the last checkpoint',
        }),
      );
    }
    const dashboardRun = training ? (this.training.current?.runDir ?? undefined) : lastRun?.dir;
    lenses.push(
      new vscode.CodeLens(top, {
        title: '$(graph-line) Dashboard',
        command: 'retrievalLens.showDashboard',
        arguments: [dashboardRun],
        tooltip: "Show this experiment's latest run in the dashboard",
      }),
    );
    const evaluable = runs.find((r) => hasCheckpoint(r) && r.status !== 'running');
    if (evaluable && vscode.workspace.isTrusted) {
      lenses.push(
        new vscode.CodeLens(top, {
          title: '$(beaker) Evaluate last run',
          command: 'retrievalLens.evaluateRun',
          arguments: [evaluable.dir],
          tooltip: `Evaluate ${path.basename(evaluable.dir)} with Faiss on data.test`,
        }),
      );
    }

    if (anchors.loss) {
      const loss = this.lossValues(configPath, lastRun, sweepRuns);
      if (loss) {
        lenses.push(
          new vscode.CodeLens(span(anchors.loss), {
            title: formatLossLens(loss.event, loss.source),
            command: 'retrievalLens.showDashboard',
            arguments: [loss.runDir],
            tooltip: formatLossLensTooltip(loss.event),
          }),
        );
        const learned = learnedLensTitle(text, loss.event);
        if (learned) {
          lenses.push(
            new vscode.CodeLens(span(anchors.loss), {
              title: learned,
              command: 'retrievalLens.showDashboard',
              arguments: [loss.runDir],
              tooltip: "The learned hyper-parameters (loss.trainable): from this config's value to the step above; docs/collapse.md explains where they drift",
            }),
          );
        }
      }
    }

    if (vscode.workspace.isTrusted) {
      const sweepLens = (at: TextSpan, param?: string) =>
        new vscode.CodeLens(span(at), {
          title: '$(beaker) Sweep…',
          command: 'retrievalLens.runSweep',
          arguments: param ? [doc.uri, param] : [doc.uri],
          tooltip: param
            ? `Train one run per value of ${param} (and per seed) and plot the sweep's metric against it`
            : 'Sweep a loss or training parameter of this experiment',
        });
      for (const a of anchors.sweepable) lenses.push(sweepLens(a.property, a.param));
      if (anchors.sweepable.length === 0 && anchors.loss) lenses.push(sweepLens(anchors.loss));
    }

    const specs = dataSpecsOf(configPath, text);
    for (const d of specs) {
      const state = this.data.get(d);
      lenses.push(
        new vscode.CodeLens(span(d.at), {
          title: formatDataLens(state),
          command: state.kind === 'error' ? '' : 'vscode.open',
          arguments: state.kind === 'error' ? undefined : [vscode.Uri.file(d.absPath)],
          tooltip: state.kind === 'loaded' ? `${d.absPath}\n(${state.from === 'run' ? 'as loaded by the trainer' : 'counted in the background'})` : d.absPath,
        }),
      );
    }
    const train = specs.find((d) => d.key === 'train');
    const audit = train && this.audits ? auditCodeLens(this.audits, configPath, span(train.at)) : null;
    if (audit) lenses.push(audit);
    const mined = hardNegativesLens(configPath, text);
    if (mined) lenses.push(new vscode.CodeLens(span(mined.at), { title: mined.title, command: '', tooltip: mined.tooltip }));
    return lenses;
  }

  /** The step to summarise above `loss`: live (this config's run is running) or the last run's. */
  private lossValues(
    configPath: string,
    lastRun: RunSummary | undefined,
    sweepRuns: ReadonlySet<string>,
  ): { event: StepEvent; source: LossLensSource; runDir?: string } | null {
    const live = this.training.current;
    /** "stalled (no heartbeat for N s)" when the live run's heartbeat is stale (the Runs tree's summary of it). */
    const stalled = (runDir: string | null | undefined) => {
      const r = runDir ? this.registry.find(runDir) : undefined;
      return r && r.status === 'running' && r.heartbeatStale ? { stalled: statusLabel(r) } : {};
    };
    if (live && samePath(live.configPath, configPath) && live.last) {
      return { event: live.last, source: { kind: 'live', totalSteps: live.totalSteps, ...stalled(live.runDir) }, runDir: live.runDir ?? undefined };
    }
    const shownHeader = this.shown.header;
    if (
      shownHeader?.status === 'running' &&
      samePath(shownHeader.configPath, configPath) &&
      !isSweepRun(shownHeader.runDir, sweepRuns) &&
      this.shown.lastStep
    ) {
      const stall = shownHeader.statusText ? { stalled: shownHeader.statusText } : {};
      return { event: this.shown.lastStep, source: { kind: 'live', totalSteps: shownHeader.totalSteps, ...stall }, runDir: shownHeader.runDir };
    }
    if (lastRun?.lastStep) return { event: lastRun.lastStep, source: { kind: 'last-run', status: statusLabel(lastRun) }, runDir: lastRun.dir };
    return null;
  }

  dispose(): void {
    this.pacer.dispose();
    this.disposables.forEach((d) => d.dispose());
    this.changed.dispose();
  }
}
