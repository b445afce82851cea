/**
 * The Failing Queries tree: the failures of one search (exact: eval/failures.jsonl, or IVF-PQ:
 * eval/failures-ann.jsonl) of one run's latest evaluation, grouped by triage label with counts, worst first. Selecting a query opens its data file at the
 * query's line and shows the detail document; Next / Previous walk the tree order.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { FailureRecord, TriageLabel } from '../../core/eval/types';
import { formatStat } from '../shared/lensText';
import { samePath } from '../configEditor/experimentFiles';
import { evaluationTime, failuresPath, readEvalEntries, readFailures, type FailureSearch } from './failureRecords';
import { failureKey, flattenGroups, formatRank, groupDescription, groupFailures, stepIndex, type FailureGroup } from './failureGroups';
import { escapeMarkdown, untrustedMarkdown } from '../shared/markdownText';

export const FAILURES_VIEW_ID = 'retrievalLens.failures';

export type FailureNode = { kind: 'group'; group: FailureGroup } | { kind: 'failure'; record: FailureRecord; group: FailureGroup };

const GROUP_ICONS: Record<TriageLabel, string> = {
  'collapsed-neighbourhood': 'debug-breakpoint-log-unverified',
  'near-duplicate': 'copy',
  truncated: 'fold',
  'lexical-miss': 'symbol-key',
  'hard-for-both': 'question',
  'ranked-low': 'arrow-down',
  'missing-terms': 'symbol-key',
};

/** The failures shown, with what the tree needs about them. */
interface Loaded {
  runDir: string;
  /** Which search's failures these are, and its name ("exact", "IVF-PQ, nprobe 16"). */
  which: FailureSearch;
  searchName: string;
  /** Whether the run also has the other search's failures. */
  hasOther: boolean;
  groups: FailureGroup[];
  flat: FailureRecord[];
  nodes: Map<string, FailureNode & { kind: 'failure' }>;
  groupNodes: Map<string, FailureNode & { kind: 'group' }>;
  evaluatedAt: Date | null;
  summary: string;
  badLines: number;
}

export class FailuresTreeProvider implements vscode.TreeDataProvider<FailureNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<FailureNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private loaded: Loaded | null = null;
  private current: string | null = null;
  /** Files' mtimes (one stat per file, refreshed when a watcher sees the file change). */
  private mtimes = new Map<string, number | null>();
  /** Watchers of the data files the failures point into. */
  private fileWatchers: vscode.Disposable[] = [];

  get runDir(): string | null {
    return this.loaded?.runDir ?? null;
  }

  get count(): number {
    return this.loaded?.flat.length ?? 0;
  }

  /** One-line summary for the view's message ("run · step · recall@10 · n failing"). */
  get summary(): string | undefined {
    return this.loaded?.summary;
  }

  /** When the shown failures were evaluated. */
  get evaluatedAt(): Date | null {
    return this.loaded?.evaluatedAt ?? null;
  }

  /** mtime:size of the loaded failures file ('' when none): a reload with the same stamp is skipped. */
  private stamp = '';
  /** The search whose failures are shown (kept across runs; exact when a run has no ANN failures). */
  private which: FailureSearch = 'exact';

  /** The search shown: 'exact' or 'ann'. */
  get search(): FailureSearch {
    return this.loaded?.which ?? this.which;
  }

  /** Show the other search's failures of the current run (when it has them); returns the failure count, −1 when none. */
  switchSearch(): number {
    if (!this.loaded?.hasOther) return -1;
    this.which = this.loaded.which === 'exact' ? 'ann' : 'exact';
    this.requested = undefined;
    return this.load(this.loaded.runDir);
  }
  /** The run last asked for (with or without a failures file). */
  private requested: string | null | undefined;

  /**
   * Load the failures of `runDir` (null: none); nothing happens when that run's failures file is
   * unchanged since the last load. Returns the number of failures (−1: no failures file).
   */
  load(runDir: string | null): number {
    const which: FailureSearch = runDir && this.which === 'ann' && fs.existsSync(failuresPath(runDir, 'ann')) ? 'ann' : 'exact';
    const stamp = runDir ? `${which}:${fileStamp(failuresPath(runDir, which))}` : '';
    const sameRun = this.requested === undefined ? false : runDir === null ? this.requested === null : samePath(this.requested, runDir);
    if (sameRun && stamp === this.stamp) return this.loaded ? this.loaded.flat.length : -1;
    this.requested = runDir;
    this.stamp = stamp;
    this.mtimes.clear();
    this.fileWatchers.forEach((w) => w.dispose());
    this.fileWatchers = [];
    const read = runDir ? readFailures(runDir, which) : null;
    if (!runDir || !read) {
      this.loaded = null;
      this.current = null;
      this.changed.fire(undefined);
      this.setContext();
      return -1;
    }
    const groups = groupFailures(read.records);
    const flat = flattenGroups(groups);
    const nodes = new Map<string, FailureNode & { kind: 'failure' }>();
    const groupNodes = new Map<string, FailureNode & { kind: 'group' }>();
    for (const group of groups) {
      groupNodes.set(group.key, { kind: 'group', group });
      for (const record of group.items) nodes.set(failureKey(record), { kind: 'failure', record, group });
    }
    const entry = readEvalEntries(runDir).at(-1);
    const summaryOf = which === 'ann' ? entry?.annFailures : entry?.failures;
    // Files before 0.2 name no search: they listed the configured index's failures (IVF-PQ when the entry has ANN metrics).
    const annName = entry && entry.index.spec.type === 'IVF-PQ' ? `IVF-PQ, nprobe ${String(entry.index.spec.nprobe)}` : 'IVF-PQ';
    const searchName = read.records[0]?.search ?? summaryOf?.search ?? (which === 'ann' || entry?.ann ? annName : 'exact');
    const metrics = entry ? (searchName === 'exact' ? entry.exact : entry.ann) : null;
    const recall = metrics?.['recall@10'];
    const summary = [
      path.basename(runDir),
      entry ? `step ${entry.step}` : null,
      searchName,
      recall !== undefined ? `recall@10 ${formatStat(recall)}` : null,
      `${flat.length} failing${entry ? ` of ${entry.queries.count}` : ''}`,
    ]
      .filter((s) => s !== null)
      .join(' · ');
    const hasOther = fs.existsSync(failuresPath(runDir, which === 'exact' ? 'ann' : 'exact'));
    this.loaded = {
      runDir,
      which,
      searchName,
      hasOther,
      groups,
      flat,
      nodes,
      groupNodes,
      evaluatedAt: evaluationTime(runDir),
      summary,
      badLines: read.badLines.length,
    };
    this.watchSources(read.records);
    if (this.current && !nodes.has(this.current)) this.current = null;
    this.changed.fire(undefined);
    this.setContext();
    return flat.length;
  }

  /** Re-read the current run's failures if its file changed. */
  reload(): void {
    if (this.loaded) this.load(this.loaded.runDir);
  }

  /** The failure `key` names, if shown. */
  node(key: string): (FailureNode & { kind: 'failure' }) | undefined {
    return this.loaded?.nodes.get(key);
  }

  /** The current failure's key (the one Next / Previous start from); null when none. */
  get currentKey(): string | null {
    return this.current;
  }

  /** Make `key` the current failure (the one Next / Previous start from). */
  setCurrent(key: string): void {
    this.current = key;
  }

  /** The failure after (+1) or before (−1) the current one in tree order, wrapping; null when none. */
  step(direction: 1 | -1): (FailureNode & { kind: 'failure' }) | null {
    if (!this.loaded) return null;
    const flat = this.loaded.flat;
    const at = this.current ? flat.findIndex((r) => failureKey(r) === this.current) : -1;
    const i = stepIndex(flat.length, at >= 0 ? at : null, direction);
    if (i < 0) return null;
    const key = failureKey(flat[i]);
    this.current = key;
    return this.loaded.nodes.get(key) ?? null;
  }

  /** Watch the data files of the failures: a change marks their items "file changed" at once. */
  private watchSources(records: readonly FailureRecord[]): void {
    for (const file of new Set(records.map((r) => r.source.file))) {
      const w = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(path.dirname(file)), path.basename(file)));
      const changed = () => {
        this.mtimes.delete(file);
        this.changed.fire(undefined);
      };
      this.fileWatchers.push(w, w.onDidChange(changed), w.onDidCreate(changed), w.onDidDelete(changed));
    }
  }

  /**
   * Whether the record's data file was modified after the evaluation (its line may have moved).
   * `fresh` stats the file now instead of using the cached mtime.
   */
  isStale(r: FailureRecord, fresh = false): boolean {
    const at = this.loaded?.evaluatedAt;
    if (!at) return false;
    if (fresh) this.mtimes.delete(r.source.file);
    if (!this.mtimes.has(r.source.file)) {
      let m: number | null;
      try {
        m = fs.statSync(r.source.file).mtimeMs;
      } catch {
        m = null; // a file that is gone is not "changed after the evaluation"
      }
      this.mtimes.set(r.source.file, m);
    }
    const m = this.mtimes.get(r.source.file);
    return m !== null && m !== undefined && m > at.getTime();
  }

  getChildren(node?: FailureNode): FailureNode[] {
    if (!this.loaded) return [];
    if (!node) return [...this.loaded.groupNodes.values()];
    if (node.kind === 'group') return node.group.items.map((r) => this.loaded!.nodes.get(failureKey(r))!).filter(Boolean);
    return [];
  }

  getParent(node: FailureNode): FailureNode | undefined {
    return node.kind === 'failure' ? this.loaded?.groupNodes.get(node.group.key) : undefined;
  }

  getTreeItem(node: FailureNode): vscode.TreeItem {
    if (node.kind === 'group') {
      const item = new vscode.TreeItem(node.group.title, vscode.TreeItemCollapsibleState.Expanded);
      item.id = `group:${node.group.key}`;
      item.description = groupDescription(node.group.items.length, this.count);
      item.iconPath = new vscode.ThemeIcon(GROUP_ICONS[node.group.label]);
      item.contextValue = 'failureGroup';
      item.tooltip = `${node.group.items.length} of ${this.count} failing queries of the ${this.loaded?.searchName ?? 'exact'} search labelled ${node.group.label}`;
      return item;
    }
    const r = node.record;
    const key = failureKey(r);
    const stale = this.isStale(r);
    const item = new vscode.TreeItem(r.query, vscode.TreeItemCollapsibleState.None);
    item.id = `failure:${key}`;
    item.description = `${formatRank(r)} · ${r.label}${stale ? ' · file changed' : ''}`;
    item.iconPath = new vscode.ThemeIcon(stale ? 'warning' : 'search', stale ? new vscode.ThemeColor('list.warningForeground') : undefined);
    const tip = untrustedMarkdown(new vscode.MarkdownString(undefined, true));
    tip.appendText(`${r.query}\n\n`);
    tip.appendMarkdown(
      `**${escapeMarkdown(formatRank(r))}** in the ${escapeMarkdown(this.loaded?.searchName ?? 'exact')} search · ${escapeMarkdown(r.label)}\n\n`,
    );
    tip.appendText(`${r.labelReason}\n\n${path.basename(r.source.file)}:${r.source.line}`);
    if (stale) tip.appendMarkdown('\n\n$(warning) the file changed after the evaluation: the line may have moved');
    item.tooltip = tip;
    item.contextValue = 'failure';
    item.command = { command: 'retrievalLens.openFailure', title: 'Open Failing Query', arguments: [key] };
    item.accessibilityInformation = { label: `${r.query}, ${formatRank(r)}, ${r.label}` };
    return item;
  }

  private setContext(): void {
    void vscode.commands.executeCommand('setContext', 'retrievalLens.hasFailures', this.count > 0);
    void vscode.commands.executeCommand('setContext', 'retrievalLens.hasAnnFailures', !!this.loaded?.hasOther || this.loaded?.which === 'ann');
  }

  dispose(): void {
    this.fileWatchers.forEach((w) => w.dispose());
    this.changed.dispose();
  }
}

/** mtime:size of a file ('' when missing). */
function fileStamp(file: string): string {
  try {
    const st = fs.statSync(file);
    return `${st.mtimeMs}:${st.size}`;
  } catch {
    return '';
  }
}
