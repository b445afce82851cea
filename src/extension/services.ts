/**
 * The extension's long-lived parts, created once at activation and shared by the commands.
 */
import type * as vscode from 'vscode';
import type { ConfigDiagnostics } from './configDiagnostics';
import type { DashboardPanel, DashboardViewProvider } from './dashboardView';
import type { DataReports } from './dataReports';
import type { EvaluationController } from './evaluationController';
import type { EmbeddingMapPanels } from './embeddingMapPanel';
import type { FailureNavigator } from './failureNavigator';
import type { FailureNode, FailuresTreeProvider } from './failuresTree';
import type { RunRegistry } from './runRegistry';
import type { RunsTreeProvider } from './runsTree';
import type { ShownRun } from './shownRun';
import type { TrainingController } from './trainingController';

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
}
