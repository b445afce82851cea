/**
 * The read-only detail document of one failing query (markdown): the query and where it is, the
 * triage label with its reason, the positive(s) with rank and s(q, v), and the top-k retrieved items
 * with s(q, item) and s(v, item). Pure, unit-tested without VS Code.
 */
import * as path from 'path';
import type { FailureRecord } from '../core/eval/types';
import { formatRank, TRIAGE_TITLES } from './failureGroups';

/** Escape text for a markdown table cell or inline text (pipes, backslashes, markup characters, newlines). */
export function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_{}[\]<>()#+!|~]/g, (c) => `\\${c}`).replace(/\r?\n/g, ' ');
}

/** A similarity with three decimals; "–" for non-finite. */
function sim(x: number | null | undefined): string {
  return typeof x === 'number' && Number.isFinite(x) ? x.toFixed(3) : '–';
}

/** "data/test.jsonl:12" relative to `baseDir` when inside it. */
export function shortLocation(file: string, line: number, baseDir?: string): string {
  const rel = baseDir ? path.relative(baseDir, file) : '';
  const shown = baseDir && rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : file;
  return `${shown}:${line}`;
}

export interface DetailOptions {
  /** Folder to show paths relative to (the workspace folder). */
  baseDir?: string;
  /** Set when the query's data file changed after the evaluation: the line may have moved. */
  staleWarning?: string;
}

/** The markdown of a failure's detail document. */
export function renderFailureDetail(r: FailureRecord, opts: DetailOptions = {}): string {
  const out: string[] = [];
  out.push(`# ${escapeMarkdown(r.query)}`, '');
  if (opts.staleWarning) out.push(`> ⚠️ ${escapeMarkdown(opts.staleWarning)}`, '');
  out.push(
    `- **Query** \`${r.queryId.replace(/`/g, "'")}\` at ${escapeMarkdown(shortLocation(r.source.file, r.source.line, opts.baseDir))}`,
    `- **Search**: ${escapeMarkdown(r.search ?? 'the configured index')} — every rank and s(q, ·) below is this search's (step ${r.step})`,
    `- **Triage**: ${TRIAGE_TITLES[r.label] ?? r.label} — ${escapeMarkdown(r.labelReason ?? '')}`,
    `- **Best positive**: ${formatRank(r)} (top ${r.topK.length} retrieved)`,
    '',
    '## Positive' + (r.positives.length === 1 ? '' : 's'),
    '',
    '| rank | item | s(q, v) | text |',
    '|---:|---|---:|---|',
  );
  for (const p of r.positives) {
    const score = p.score === null ? `not returned by ${escapeMarkdown(r.search ?? 'the search')}` : sim(p.score);
    out.push(`| ${p.rank === null ? `>${r.rankCutoff}` : p.rank} | \`${p.itemId.replace(/`/g, "'")}\` | ${score} | ${escapeMarkdown(p.text)} |`);
  }
  out.push('', `## Top ${r.topK.length} retrieved`, '', '| # | item | s(q, item) | s(v, item) | text |', '|---:|---|---:|---:|---|');
  r.topK.forEach((t, i) => {
    const mark = t.relevant ? ' ✓' : '';
    out.push(`| ${i + 1} | \`${t.itemId.replace(/`/g, "'")}\`${mark} | ${sim(t.score)} | ${sim(t.simToPositive)} | ${escapeMarkdown(t.text)} |`);
  });
  out.push('', '_s(q, item): the search\'s score (sorted); s(v, item): exact cosine of the best-ranked positive v and the retrieved item; ✓ marks a relevant item._', '');
  return out.join('\n');
}
