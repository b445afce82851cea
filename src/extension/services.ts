/**
 * The extension's long-lived parts, created once at activation and shared by the commands.
 */
import type * as vscode from 'vscode';
import type { ConfigDiagnostics } from './configEditor/configDiagnostics';
import type { DashboardPanel, DashboardViewProvider } from './dashboard/dashboardView';
import type { DataReports } from './dataLens/dataReports';
import type { EvaluationController } from './evaluation/evaluationController';
import type { EmbeddingMapPanels } from './embeddingMap/embeddingMapPanel';
import type { FailureNavigator } from './failures/failureNavigator';
import type { FailureNode, FailuresTreeProvider } from './failures/failuresTree';
import type { RunRegistry } from './runs/runRegistry';
import type { RunsTreeProvider } from './runs/runsTree';
import type { ShownRun } from './dashboard/shownRun';
import type { TrainingController } from './training/trainingController';
import type { SweepController } from './sweep/sweepController';

export interface Services {
  context: vscode.ExtensionContext;
  log: vscode.LogOutputChannel;
  registry: RunRegistry;
  training: TrainingController;
  evaluation: EvaluationController;
  shown: ShownRun;
  dashboardView: DashboardViewProvider;
  dashboardPanel: DashboardPanel;
  runsTree: RunsTreeProvider;
  failures: FailuresTreeProvider;
  failuresView: vscode.TreeView<FailureNode>;
  navigator: FailureNavigator;
  configDiagnostics: ConfigDiagnostics;
  dataReports: DataReports;
  embeddingMaps: EmbeddingMapPanels;
  /** The window's sweeps (set once created; ▷ Train asks about a running sweep's runs of its config). */
  sweeps?: SweepController;
}
