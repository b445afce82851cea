/**
 * The Runs tree: one node per experiment config with the runs it made (recorded in each run's meta.json,
 * core/runs/runGroups.ts), its sweeps and ablations as child nodes holding their runs, and a node for runs of
 * no known config; newest first, with status icons, distinct labels (core/runs/runLabels.ts), the user's
 * display name, tags and note (user.json), and an optional filter (core/runs/runFilter.ts). Clicking a run
 * shows it in the dashboard. "Show Archived Runs" adds a node with the archived runs (each with Restore).
 */
import * as path from 'path';
import * as vscode from 'vscode';
import type { RunSummary } from '../../core/runs/readRun';
import type { ConfigGroup, SweepGroup } from '../../core/runs/runGroups';
import { commonNamePrefix, distinctRunLabels } from '../../core/runs/runLabels';
import { runFilter } from '../../core/runs/runFilter';
import type { RunRegistry } from './runRegistry';
import { hasCheckpoint, runDescription, runTooltip, runIcon } from './runItems';
import { isResumable } from '../../trainer/launch/resumeJob';
import { samePath } from '../configEditor/experimentFiles';
import { untrustedMarkdown, escapeMarkdown } from '../shared/markdownText';

export const RUNS_VIEW_ID = 'retrievalLens.runs';

export type RunsNode =
  | { kind: 'config'; group: ConfigGroup; shown: RunSummary[] }
  | { kind: 'sweep'; group: SweepGroup; shown: RunSummary[] }
  | { kind: 'run'; run: RunSummary; label: string; archived?: boolean }
  | { kind: 'archive'; runs: RunSummary[] };

export class RunsTreeProvider implements vscode.TreeDataProvider<RunsNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<RunsNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly subscription: vscode.Disposable;
  private filterText = '';
  private archivedShown = false;

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

  /** The filter in force ("" for none). */
  get filter(): string {
    return this.filterText;
  }

  /** Show only the runs matching `text` (core/runs/runFilter.ts); "" shows every run. */
  setFilter(text: string): void {
    this.filterText = text.trim();
    void vscode.commands.executeCommand('setContext', 'retrievalLens.runsFiltered', this.filterText !== '');
    this.refresh();
  }

  /** Whether the archived runs are listed (a node after the others). */
  get showArchived(): boolean {
    return this.archivedShown;
  }

  setShowArchived(on: boolean): void {
    this.archivedShown = on;
    void vscode.commands.executeCommand('setContext', 'retrievalLens.runsShowArchived', on);
    this.refresh();
  }

  private keep(runs: readonly RunSummary[], configPath: string | null): RunSummary[] {
    if (this.filterText === '') return [...runs];
    const f = runFilter(this.filterText);
    return runs.filter((run) => f({ run, user: this.registry.userOf(run.dir), config: configPath ? path.basename(configPath) : null }));
  }

  private runNodes(runs: RunSummary[]): RunsNode[] {
    const prefix = commonNamePrefix(runs.map((r) => r.name));
    const labels = distinctRunLabels(
      runs.map((r) => ({ name: r.name, id: r.id, startedAt: r.startedAt, userName: this.registry.userOf(r.dir)?.name })),
      prefix,
    );
    return runs.map((run, i) => ({ kind: 'run', run, label: labels[i] }));
  }

  private sweepNodes(group: ConfigGroup): RunsNode[] {
    return group.sweeps.flatMap((g) => {
      const shown = this.keep(g.runs, g.sweep.configPath);
      return shown.length > 0 ? [{ kind: 'sweep' as const, group: g, shown }] : [];
    });
  }

  async getChildren(node?: RunsNode): Promise<RunsNode[]> {
    if (!node) {
      const listed = await this.listedChildren();
      if (!this.archivedShown) return listed;
      return [...listed, { kind: 'archive', runs: this.keep(this.registry.archivedRuns(), null) }];
    }
    if (node.kind === 'archive') return this.runNodes(node.runs).map((n) => ({ ...n, archived: true }) as RunsNode);
    return this.listedChildren(node);
  }

  private async listedChildren(node?: RunsNode): Promise<RunsNode[]> {
    if (!node) {
      await this.registry.ensureScanned();
      const groups = this.registry
        .groups()
        .map((group) => ({ kind: 'config' as const, group, shown: this.keep(group.runs, group.configPath) }))
        .filter((n) => n.shown.length > 0 || this.sweepNodes(n.group).length > 0 || (n.group.configPath !== null && this.filterText === ''));
      if (groups.every((g) => g.shown.length === 0 && this.sweepNodes(g.group).length === 0)) return [];
      if (groups.length === 1) return this.listedChildren(groups[0]);
      return groups;
    }
    if (node.kind === 'config') return [...this.sweepNodes(node.group), ...this.runNodes(node.shown)];
    if (node.kind === 'sweep') return this.runNodes(node.shown);
    return [];
  }

  getTreeItem(node: RunsNode): vscode.TreeItem {
    if (node.kind === 'archive') {
      const item = new vscode.TreeItem('Archived runs', vscode.TreeItemCollapsibleState.Expanded);
      item.description = `${node.runs.length} run${node.runs.length === 1 ? '' : 's'}${this.filterText ? ` matching "${this.filterText}"` : ''}`;
      item.tooltip = 'Runs moved to <runs folder>/.archive by Archive Run; Restore Run moves one back.';
      item.iconPath = new vscode.ThemeIcon('archive');
      item.contextValue = 'runsArchive';
      item.id = 'archive:';
      return item;
    }
    if (node.kind === 'config') {
      const label = node.group.configPath ? vscode.workspace.asRelativePath(node.group.configPath) : 'Runs of no experiment in this workspace';
      const item = new vscode.TreeItem(label, vscode.TreeItemCollapsibleState.Expanded);
      const n = node.shown.length + node.group.sweeps.reduce((a, s) => a + s.runs.length, 0);
      item.description = `${n} run${n === 1 ? '' : 's'}${this.filterText ? ` matching "${this.filterText}"` : ''}`;
      item.tooltip = node.group.configPath ?? 'Runs whose meta.json names a config that is not in this workspace (or none)';
      item.iconPath = new vscode.ThemeIcon('beaker');
      item.contextValue = node.group.configPath ? 'runsConfig' : 'runsOther';
      item.id = `config:${node.group.configPath ?? ''}`;
      if (node.group.configPath) item.resourceUri = vscode.Uri.file(node.group.configPath);
      return item;
    }
    if (node.kind === 'sweep') {
      const s = node.group.sweep;
      const item = new vscode.TreeItem(`${s.kind === 'ablation' ? 'ablation' : 'sweep'} ${s.name}`, vscode.TreeItemCollapsibleState.Collapsed);
      item.description = `${node.shown.length} run${node.shown.length === 1 ? '' : 's'} · ${path.basename(s.dir)}`;
      item.tooltip = s.dir;
      item.iconPath = new vscode.ThemeIcon(s.kind === 'ablation' ? 'beaker' : 'list-tree');
      item.contextValue = 'sweep';
      item.id = `sweep:${s.dir}`;
      return item;
    }
    const r = node.run;
    const user = this.registry.userOf(r.dir);
    const item = new vscode.TreeItem(node.label, vscode.TreeItemCollapsibleState.None);
    item.id = r.dir;
    const shown = samePath(this.shownRunDir(), r.dir);
    const tags = user?.tags?.length ? ` · ${user.tags.map((t) => `#${t}`).join(' ')}` : '';
    item.description = `${shown ? '◉ ' : ''}${runDescription(r)}${tags}${user?.note ? ' · ✎' : ''}`;
    const extra: string[] = [];
    if (user?.name) extra.push(`- experiment: ${escapeMarkdown(r.name)}`);
    if (user?.tags?.length) extra.push(`- tags: ${escapeMarkdown(user.tags.join(', '))}`);
    if (user?.note) extra.push('', escapeMarkdown(user.note));
    const problem = this.registry.userProblem(r.dir);
    if (problem) extra.push(`- ⚠ ${escapeMarkdown(problem)}`);
    const tooltip = untrustedMarkdown(new vscode.MarkdownString([runTooltip(r), ...extra].join('\n')));
    tooltip.supportThemeIcons = true;
    item.tooltip = tooltip;
    const icon = runIcon(r);
    item.iconPath = new vscode.ThemeIcon(icon.icon, icon.color ? new vscode.ThemeColor(icon.color) : undefined);
    if (node.archived) {
      item.id = `archived:${r.dir}`;
      item.description = `archived · ${runDescription(r)}${tags}`;
      item.contextValue = 'archivedRun';
      item.command = undefined;
      return item;
    }
    const ctx = ['run', r.status];
    if (this.isLive(r.dir)) ctx.push('live');
    if (hasCheckpoint(r)) ctx.push('evaluable');
    if (isResumable(r)) ctx.push('resumable');
    item.contextValue = ctx.join(' ');
    item.command = { command: 'retrievalLens.openRun', title: 'Show in Dashboard', arguments: [r.dir] };
    item.accessibilityInformation = { label: `${node.label}, ${runDescription(r)}` };
    return item;
  }

  dispose(): void {
    this.subscription.dispose();
    this.changed.dispose();
  }
}
