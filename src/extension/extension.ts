/**
 * VS Code entry point of Retrieval Lens (with the rest of src/extension/, the only code importing
 * `vscode`). Activation only creates the parts and registers contributions; the workspace scan runs
 * in the background and the trainer process starts only when asked (tfjs never loads in the
 * extension host: training and evaluation run in a forked dist/trainer.js).
 */
import * as path from 'path';
import * as vscode from 'vscode';
import { explainRunElsewhere, followFailuresOf, loadFailuresOf, registerCommands } from './commands';
import { ConfigDiagnostics } from './configEditor/configDiagnostics';
import { ConfigLensProvider } from './configEditor/configLenses';
import { DASHBOARD_PANEL_TYPE, DASHBOARD_VIEW_ID, DashboardPanel, DashboardViewProvider } from './dashboard/dashboardView';
import type { DashboardActions } from './dashboard/dashboardHost';
import { OverlayFeeds } from './dashboard/overlayFeeds';
import { DataReports } from './dataLens/dataReports';
import { dataSpecsOf } from './dataLens/dataSpecs';
import { EvaluationController } from './evaluation/evaluationController';
import { samePath } from './configEditor/experimentFiles';
import { EmbeddingMapPanels } from './embeddingMap/embeddingMapPanel';
import { registerExperimentCommands } from './comparison/experimentsCommands';
import { COMPARE_PANEL_TYPE, ExperimentsPanels } from './comparison/experimentsPanel';
import { FailureNavigator } from './failures/failureNavigator';
import { FAILURES_VIEW_ID, FailuresTreeProvider } from './failures/failuresTree';
import { RunRegistry } from './runs/runRegistry';
import { RUNS_VIEW_ID, RunsTreeProvider } from './runs/runsTree';
import { registerRunCommands } from './runs/runCommands';
import type { Services } from './services';
import { ShownRun } from './dashboard/shownRun';
import { RunStatusBar } from './training/statusBar';
import { SweepController } from './sweep/sweepController';
import { registerSweepCommands } from './sweep/sweepCommands';
import { TrainingController } from './training/trainingController';
import { TrainingNotifications } from './training/trainingNotifications';
import type { DetachedRunRecord } from './training/detachedRun';
import { readBoundedTextSync } from '../core/io/safeRead';
import { drilldownActions } from './dashboard/drilldownActions';
import { applyQualityRemedy } from './verdict/qualityFix';
import { AUDIT_VIEW_ID, AuditResults, AuditTreeProvider, registerAuditCommand } from './audit/auditView';
import { activeConfig, pickConfig } from './commands';
import { isExperimentConfig } from './configEditor/experimentFiles';

/** workspaceState key of the run this workspace's window started (re-attached after a reload). */
const LIVE_RUN_KEY = 'retrievalLens.liveRun';

export function activate(context: vscode.ExtensionContext): void {
  const sub = (...d: vscode.Disposable[]) => context.subscriptions.push(...d);
  const log = vscode.window.createOutputChannel('Retrieval Lens', { log: true });
  const registry = new RunRegistry();
  const training = new TrainingController(log, {
    get: () => context.workspaceState.get<DetachedRunRecord>(LIVE_RUN_KEY),
    set: (rec) => void context.workspaceState.update(LIVE_RUN_KEY, rec),
  });
  const evaluation = new EvaluationController(log);
  const shown = new ShownRun(log);
  sub(log, registry, training, evaluation, shown);

  const dashboardActions: DashboardActions = {
    stop: () => {
      if (training.isLiveRun(shown.runDir)) training.stop();
      else if (shown.header?.status === 'running') void explainRunElsewhere(shown.header.runDir);
      else void vscode.window.showInformationMessage('Retrieval Lens: the run shown is not running.');
    },
    openLog: () => log.show(true),
    evaluate: () => void vscode.commands.executeCommand('retrievalLens.evaluateRun', shown.runDir ?? undefined),
    qualityRemedy: (id) => void applyQualityRemedy(shown.header?.configPath ?? null, id),
    overlays: new OverlayFeeds(registry, () => shown.runDir, log),
    ...drilldownActions(
      () => shown.runDir,
      () => shown.header?.configPath ?? null,
    ),
  };
  sub(dashboardActions.overlays!);
  const dashboardView = new DashboardViewProvider(context.extensionUri, shown, dashboardActions, log);
  const dashboardPanel = new DashboardPanel(context.extensionUri, shown, dashboardActions, log);
  sub(
    dashboardView,
    dashboardPanel,
    vscode.window.registerWebviewViewProvider(DASHBOARD_VIEW_ID, dashboardView),
    vscode.window.registerWebviewPanelSerializer(DASHBOARD_PANEL_TYPE, dashboardPanel),
  );

  const runsTree = new RunsTreeProvider(
    registry,
    (dir) => training.isLiveRun(dir),
    () => shown.runDir,
  );
  const failures = new FailuresTreeProvider();
  const failuresView = vscode.window.createTreeView(FAILURES_VIEW_ID, { treeDataProvider: failures, showCollapseAll: true });
  const navigator = new FailureNavigator(failures, failuresView, context.extensionUri);
  const configDiagnostics = new ConfigDiagnostics();
  const dataReports = new DataReports(log);
  // Restricted Mode counted only the workspace's regular files: count again with the wider scope.
  sub(vscode.workspace.onDidGrantWorkspaceTrust(() => dataReports.resetScope()));
  const embeddingMaps = new EmbeddingMapPanels(context.extensionUri, log);
  sub(embeddingMaps);
  // canSelectMany: several runs can be selected for "Compare Selected Runs".
  sub(
    runsTree,
    vscode.window.createTreeView(RUNS_VIEW_ID, { treeDataProvider: runsTree, canSelectMany: true }),
    failures,
    failuresView,
    navigator,
    configDiagnostics,
    dataReports,
  );

  const audits = new AuditResults();
  const auditTree = new AuditTreeProvider(audits);
  const auditView = vscode.window.createTreeView(AUDIT_VIEW_ID, { treeDataProvider: auditTree });
  sub(audits, auditTree, auditView);

  const sweeps = new SweepController(log);
  const lenses = new ConfigLensProvider(training, shown, registry, dataReports, () => sweeps.runDirs(), audits);
  sub(lenses, vscode.languages.registerCodeLensProvider({ scheme: 'file', pattern: '**/*.rlens.json' }, lenses));
  sub(new RunStatusBar(training, shown));

  const services: Services = {
    context,
    log,
    registry,
    training,
    evaluation,
    shown,
    dashboardView,
    dashboardPanel,
    runsTree,
    failures,
    failuresView,
    navigator,
    configDiagnostics,
    dataReports,
    embeddingMaps,
  };
  sub(...registerCommands(services), ...registerRunCommands(services));
  sub(
    registerAuditCommand(
      audits,
      log,
      async (uri) =>
        uri && isExperimentConfig(uri.fsPath) ? uri.fsPath : (activeConfig() ?? (await pickConfig(services, 'Audit the training data of which experiment?'))),
      (configPath) => auditTree.reveal(auditView, configPath),
    ),
  );
  const experiments = new ExperimentsPanels(context.extensionUri, log);
  sub(vscode.window.registerWebviewPanelSerializer(COMPARE_PANEL_TYPE, experiments));
  sub(experiments, ...registerExperimentCommands(experiments, registry, log));
  services.sweeps = sweeps;
  sub(sweeps, ...registerSweepCommands(services, sweeps));
  sub(
    new TrainingNotifications(training, shown, {
      showLog: () => log.show(true),
      openResults: (runDir) => void vscode.commands.executeCommand('retrievalLens.openDashboardInEditor', runDir),
      evaluate: (runDir) => void vscode.commands.executeCommand('retrievalLens.evaluateRun', runDir),
      showProblems: () => void vscode.commands.executeCommand('workbench.actions.view.problems'),
    }),
  );

  // The live training drives the dashboard: its run is shown as soon as it exists, and every step
  // message triggers an immediate read of events.jsonl (which holds every logged step).
  sub(
    training.onDidChange((live) => {
      registry.refreshSoon();
      runsTree.refresh();
      if (!live?.runDir) return;
      if (!samePath(shown.runDir, live.runDir)) {
        shown.show(live.runDir);
        followFailuresOf(services, live.runDir);
      }
      if (live.examples !== null && live.badLines !== null) {
        try {
          const train = dataSpecsOf(live.configPath, readBoundedTextSync(live.configPath, 'experiment config')).find(
            (d) => d.key === 'train' && d.index === null,
          );
          if (train) dataReports.fromTrainer(train, { examples: live.examples, badLines: live.badLines, count: live.count, dataLines: live.dataLines });
        } catch {
          // Config unreadable now: the lens counts in the background instead.
        }
      }
    }),
    training.onDidStep((live) => {
      if (samePath(shown.runDir, live.runDir)) shown.nudge();
    }),
    training.onDidEnd(() => {
      shown.nudge();
      registry.refreshSoon();
    }),
    // A run started elsewhere (CLI, another trainer writing the run format) is followed when nothing live is shown.
    registry.onDidAddRun((r) => {
      if (r.status === 'running' && shown.header?.status !== 'running' && !training.current) {
        shown.show(r.dir);
        followFailuresOf(services, r.dir);
        runsTree.refresh();
      }
    }),
  );
  let shownDir: string | null = null;
  sub(
    shown.onDidChange(() => {
      if (shown.runDir === shownDir) return;
      shownDir = shown.runDir;
      runsTree.refresh();
    }),
    training.onDidChange((live) => void vscode.commands.executeCommand('setContext', 'retrievalLens.training', !!live)),
  );

  // Failing queries follow their file (a re-evaluation replaces it); an unchanged file is not re-read.
  sub(
    registry.onDidChange(() => {
      const dir = failures.runDir ?? shown.runDir;
      if (dir) loadFailuresOf(services, dir);
    }),
  );

  // A run started here before a window reload kept running: make it live again (dashboard, Stop) and say so.
  const reattached = training.reattach();
  if (reattached) {
    void vscode.window
      .showInformationMessage(
        `Retrieval Lens: training of ${path.basename(reattached.configPath)} kept running through the window reload (${path.basename(reattached.runDir)}); Stop still stops it.`,
        'Show Dashboard',
      )
      .then((choice) => {
        if (choice) void vscode.commands.executeCommand('retrievalLens.showDashboard', reattached.runDir);
      });
  }

  // Background: find the experiments and show the most relevant run (a running one, else the newest).
  void registry.rescan().then(() => {
    // Sweeps whose trainers ended with the previous window (or a killed CLI) are offered for resume.
    if (vscode.workspace.isTrusted) void sweeps.offerResume(registry.configPaths);
    if (shown.runDir) return;
    const runs = registry.allRuns();
    const pick = runs.find((r) => r.status === 'running') ?? runs[0];
    if (pick) {
      shown.show(pick.dir);
      loadFailuresOf(services, pick.dir);
    }
  });
}

export function deactivate(): void {
  // Disposables (context.subscriptions) stop a live trainer and evaluation.
}
