/**
 * How a run looks in the Runs tree and in pickers: status icon, label, description and tooltip text.
 * No VS Code import (icons are named by codicon id and theme color id), unit-tested.
 */
import type { DerivedRunStatus } from '../../core/runs/eventSchema';
import type { RunSummary } from '../../core/runs/readRun';
import { statusLabel } from '../../core/runs/status';
import { formatRatio, formatStat } from '../shared/lensText';
import { escapeMarkdown } from '../shared/markdownText';

/** Codicon and theme color of each status. */
export const STATUS_ICONS: Record<DerivedRunStatus, { icon: string; color?: string }> = {
  running: { icon: 'sync~spin', color: 'charts.blue' },
  completed: { icon: 'pass', color: 'testing.iconPassed' },
  stopped: { icon: 'debug-stop', color: 'charts.yellow' },
  failed: { icon: 'error', color: 'testing.iconFailed' },
  crashed: { icon: 'flame', color: 'list.warningForeground' },
  unknown: { icon: 'question' },
};

/** Codicon and theme color of a running run whose heartbeat is stale (statusLabel: "stalled (…)"). */
export const STALLED_ICON = { icon: 'debug-pause', color: 'list.warningForeground' };

/** The icon of a run: its status's, or STALLED_ICON for a stalled run. */
export function runIcon(r: Pick<RunSummary, 'status' | 'heartbeatStale'>): { icon: string; color?: string } {
  return r.status === 'running' && r.heartbeatStale ? STALLED_ICON : STATUS_ICONS[r.status];
}

/** Local start time "2025-06-01 09:30" of an ISO time (or "" when unknown). */
export function formatStartTime(iso: string | null): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

/** "completed · 300/300 · 2025-06-01 09:30". */
export function runDescription(r: RunSummary): string {
  const steps = `${r.step}${r.totalSteps ? `/${r.totalSteps}` : ''}`;
  return [statusLabel(r), steps, formatStartTime(r.startedAt)].filter((s) => s !== '').join(' · ');
}

/**
 * Markdown tooltip lines of a run. Everything read from the run folder (name, id, status reason, backend,
 * verdict, metric names, error, problems) is escaped (shared/markdownText.ts): a run folder is the
 * workspace's, and must not inject headings, links or images.
 */
export function runTooltip(r: RunSummary): string {
  const e = escapeMarkdown;
  const lines = [`**${e(r.name)}** — ${e(statusLabel(r))}`, '', e(r.id), '', `- status: ${e(r.statusReason)}`];
  if (r.meta) lines.push(`- backend: ${e(String(r.meta.backend))}`);
  lines.push(`- step ${r.step}${r.totalSteps ? ` of ${r.totalSteps}` : ''}`);
  if (r.lastStep) {
    const ratio = r.lastStep.diagnostics?.collapse?.ratio;
    lines.push(
      `- last logged step ${r.lastStep.step}: loss ${e(formatStat(r.lastStep.loss))}, ${e(formatRatio(ratio))}, ${e(r.lastStep.verdict.state)} (${e(r.lastStep.verdict.reason)})`,
    );
  }
  if (r.lastEval) {
    const m = Object.entries(r.lastEval.metrics)
      .filter(([, v]) => typeof v === 'number')
      .slice(0, 6)
      .map(([k, v]) => `${e(k)} ${e(formatStat(v as number))}`)
      .join(', ');
    if (m) lines.push(`- evaluation at step ${r.lastEval.step}: ${m}`);
  }
  if (r.meta?.error) lines.push(`- error: ${e(r.meta.error.message)}`);
  for (const p of r.problems) lines.push(`- ⚠ ${e(p)}`);
  return lines.join('\n');
}

/** Whether a run has a checkpoint to evaluate. */
export function hasCheckpoint(r: RunSummary): boolean {
  return !!(r.meta?.checkpoints.last || r.meta?.checkpoints.best);
}
