/** The data audit as text: a report (CLI `retrieval-lens audit`) and a one-line summary (the trainer's run log). */
import { AUDIT_TITLES } from './auditor';
import type { AuditReport } from './auditData';

/** "audit: 3 duplicate pairs, 41 positives whose corpus item has another text (41 without the title), …" or "audit: nothing found". */
export function auditSummary(r: AuditReport): string {
  if (r.findings.length === 0) return `audit of ${r.pairs} pairs: nothing found`;
  const parts = r.findings.map((f) => `${f.count} ${AUDIT_TITLES[f.kind]}${f.titleMissing ? ` (${f.titleMissing} without the title)` : ''}`);
  return `audit of ${r.pairs} pairs: ${parts.join('; ')}`;
}

/** The full report's lines: what was read, then every finding with its example lines (file:line  note); each line is one line for terminalSafe (ids may hold line breaks). */
export function auditReportLines(r: AuditReport): string[] {
  const lines = [
    `training data: ${r.train} (${r.pairs} pairs from ${r.linesRead} lines, ${r.badCount} bad)`,
    `test queries: ${r.test ?? 'none (no data.test)'}${r.test ? ` (${r.testQueries} distinct)` : ''}`,
    `corpus: ${r.corpus ?? 'none (no data.corpus and no BEIR folder)'}${r.corpus ? ` (${r.corpusItems} items)` : ''}`,
    `read in ${(r.ms / 1000).toFixed(1)} s`,
    '',
  ];
  for (const b of r.badLines) lines.push(`bad line ${b.file}:${b.line}  ${b.reason}`);
  if (r.badLines.length > 0) lines.push('');
  if (r.findings.length === 0) lines.push('nothing found');
  for (const f of r.findings) {
    lines.push(`${f.count} ${AUDIT_TITLES[f.kind]}${f.titleMissing ? ` (${f.titleMissing} are the corpus text without its title)` : ''}`);
    for (const ex of f.examples) lines.push(`  ${ex.file}:${ex.line}  ${ex.note}`);
  }
  return lines;
}
