/**
 * The Runs tree: every run of the workspace's experiments (grouped by runs folder when there are
 * several), newest first, with status icons; clicking a run shows it in the dashboard.
 */
import * as vscode from 'vscode';
import type { RunSummary } from '../../core/runs/readRun';
import type { RunRegistry, RunsRoot } from './runRegistry';
import { hasCheckpoint, runDescription, runTooltip, runIcon } from './runItems';
import { samePath } from '../configEditor/experimentFiles';
import { untrustedMarkdown } from '../shared/markdownText';

export const RUNS_VIEW_ID = 'retrievalLens.runs';

export type RunsNode = { kind: 'root'; root: RunsRoot } | { kind: 'run'; run: RunSummary };

export class RunsTreeProvider implements vscode.TreeDataProvider<RunsNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<RunsNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly subscription: vscode.Disposable;

  constructor(
    private readonly registry: RunRegistry,
    private readonly isLive: (runDir: string) => boolean,
    private readonly shownRunDir: () => string | null,
  ) {
    this.subscription = registry.onDidChange(() => this.changed.fire(undefined));
  }

  /** Redraw (e.g. the shown run changed). */
  refresh(): void {
    this.changed.fire(undefined);
  }

  async getChildren(node?: RunsNode): Promise<RunsNode[]> {
    if (!node) {
      await this.registry.ensureScanned();
      const roots = this.registry.runsRoots.filter((r) => this.registry.runsOf(r).length > 0 || r.configPath !== null);
      if (roots.length === 1) return this.registry.runsOf(roots[0]).map((run) => ({ kind: 'run', run }));
      if (roots.every((r) => this.registry.runsOf(r).length === 0)) return [];
      return roots.map((root) => ({ kind: 'root', root }));
    }
    if (node.kind === 'root') return this.registry.runsOf(node.root).map((run) => ({ kind: 'run', run }));
    return [];
  }

  getTreeItem(node: RunsNode): vscode.TreeItem {
    if (node.kind === 'root') {
      const item = new vscode.TreeItem(node.root.label, vscode.TreeItemCollapsibleState.Expanded);
      item.description = `${this.registry.runsOf(node.root).length} runs`;
      item.tooltip = node.root.dir;
      item.iconPath = new vscode.ThemeIcon('beaker');
      item.contextValue = 'runsRoot';
      return item;
    }
    const r = node.run;
    const item = new vscode.TreeItem(r.name, vscode.TreeItemCollapsibleState.None);
    item.id = r.dir;
    const shown = samePath(this.shownRunDir(), r.dir);
    item.description = `${shown ? '◉ ' : ''}${runDescription(r)}`;
    const tooltip = untrustedMarkdown(new vscode.MarkdownString(runTooltip(r)));
    tooltip.supportThemeIcons = true;
    item.tooltip = tooltip;
    const icon = runIcon(r);
    item.iconPath = new vscode.ThemeIcon(icon.icon, icon.color ? new vscode.ThemeColor(icon.color) : undefined);
    const tags = ['run', r.status];
    if (this.isLive(r.dir)) tags.push('live');
    if (hasCheckpoint(r)) tags.push('evaluable');
    item.contextValue = tags.join(' ');
    item.command = { command: 'retrievalLens.openRun', title: 'Show in Dashboard', arguments: [r.dir] };
    item.accessibilityInformation = { label: `${r.name}, ${runDescription(r)}` };
    return item;
  }

  dispose(): void {
    this.subscription.dispose();
    this.changed.dispose();
  }
}
