/**
 * What the extension shows of a data audit (src/core/data/audit/, issue 25), without VS Code: the count line of
 * the data lens above `data.train`, and the nodes of the Data Audit view — one per finding (its count and what it
 * counts), each with the lines behind it (file:line and what is wrong there) that open the file at that line.
 */
import * as path from 'path';
import { AUDIT_TITLES, type AuditKind } from '../../core/data/audit/auditor';
import type { AuditProgress, AuditReport } from '../../core/data/audit/auditData';
import { formatCount } from '../shared/lensText';

/** A node of the Data Audit view: a finding (with its lines as children) or a line. */
export interface AuditNode {
  label: string;
  description?: string;
  tooltip?: string;
  /** The data line a click opens (1-based). */
  location?: { file: string; line: number };
  children?: AuditNode[];
}

/** Codicon per finding. */
export const AUDIT_ICONS: Record<AuditKind, string> = {
  duplicatePairs: 'copy',
  sharedPositives: 'references',
  textUnderSeveralIds: 'symbol-key',
  idWithSeveralTexts: 'symbol-key',
  noWords: 'circle-slash',
  truncatedQueries: 'fold',
  truncatedPositives: 'fold',
  testLeakage: 'warning',
  corpusTextDiffers: 'diff',
};

/** The data lens's count line above data.train for an audit: "audit of 13 pairs: 9 findings · 1 duplicate pairs (…), …" or "nothing found". */
export function auditLensTitle(r: AuditReport): string {
  if (r.findings.length === 0) return `$(pass) audit of ${formatCount(r.pairs)} pairs: nothing found`;
  const total = r.findings.length;
  const shown = r.findings
    .slice(0, 3)
    .map((f) => `${formatCount(f.count)} ${AUDIT_TITLES[f.kind].replace(/ \(.*\)$/, '')}`)
    .join(', ');
  return `$(checklist) audit of ${formatCount(r.pairs)} pairs: ${total} finding${total === 1 ? '' : 's'} · ${shown}${total > 3 ? ', …' : ''}`;
}

/** The view's nodes for an audit report of `configPath`: one per finding, then the first bad lines of the training data. */
export function auditNodes(configPath: string, r: AuditReport): AuditNode[] {
  const nodes: AuditNode[] = r.findings.map((f) => ({
    label: `${formatCount(f.count)} ${AUDIT_TITLES[f.kind]}`,
    description: f.titleMissing ? `${formatCount(f.titleMissing)} are the corpus text without its title` : undefined,
    tooltip: `${path.basename(configPath)}: ${AUDIT_TITLES[f.kind]} (${f.kind}); the first ${f.examples.length} lines`,
    children: f.examples.map((ex) => ({
      label: `${path.basename(ex.file)}:${ex.line}`,
      description: ex.note,
      tooltip: `${ex.file}:${ex.line}\n${ex.note}`,
      location: { file: ex.file, line: ex.line },
    })),
  }));
  if (r.badLines.length > 0) {
    nodes.push({
      label: `${formatCount(r.badCount)} bad lines`,
      tooltip: 'lines the readers skip (as training does)',
      children: r.badLines.map((b) => ({
        label: `${path.basename(b.file)}:${b.line}`,
        description: b.reason,
        tooltip: `${b.file}:${b.line}\n${b.reason}`,
        location: { file: b.file, line: b.line },
      })),
    });
  }
  if (nodes.length === 0) nodes.push({ label: 'nothing found', description: `${formatCount(r.pairs)} pairs` });
  return nodes;
}

/** The root line of an audit: the config and what was read. */
export function auditRootLabel(configPath: string, r: AuditReport): { label: string; description: string } {
  const n = r.findings.length;
  return {
    label: path.basename(configPath),
    description: `${formatCount(r.pairs)} pairs · ${n === 0 ? 'nothing found' : `${n} finding${n === 1 ? '' : 's'}`} · ${(r.ms / 1000).toFixed(1)} s`,
  };
}

const PART_TITLES: Record<AuditProgress['part'], string> = { corpus: 'corpus lines', test: 'test lines', train: 'training lines' };

/** The audit's progress notification message: how many lines it has read of what ("120,832 training lines read"). */
export function auditProgressText(p: AuditProgress): string {
  return `${formatCount(p.linesRead)} ${PART_TITLES[p.part]} read`;
}
