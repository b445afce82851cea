/**
 * The read-only detail document of one failing query (markdown): the query and where it is, the
 * triage label with its reason, the positive(s) with rank and s(q, v), and the top-k retrieved items
 * with s(q, item) and s(v, item). Pure, unit-tested without VS Code.
 */
import * as path from 'path';
import type { FailureRecord } from '../../core/eval/types';
import { formatRank, TRIAGE_TITLES } from './failureGroups';

/** Escape text for a markdown table cell or inline text (pipes, backslashes, markup characters, newlines). */
export function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_{}[\]<>()#+!|~]/g, (c) => `\\${c}`).replace(/\r?\n/g, ' ');
}

/**
 * Markdown of `text` with the words in `terms` (lower-cased, the towers' words) in bold, everything else
 * escaped: the rendered text reads exactly as `text`.
 */
export function highlightTerms(text: string, terms: ReadonlySet<string>): string {
  if (terms.size === 0) return escapeMarkdown(text);
  let out = '';
  let last = 0;
  for (const m of text.matchAll(/[\p{L}\p{N}]+/gu)) {
    const at = m.index ?? 0;
    out += escapeMarkdown(text.slice(last, at));
    out += terms.has(m[0].toLowerCase()) ? `**${escapeMarkdown(m[0])}**` : escapeMarkdown(m[0]);
    last = at + m[0].length;
  }
  return out + escapeMarkdown(text.slice(last));
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

/** "37" or ">100". */
function rankCell(rank: number | null | undefined, cutoff: number): string {
  return rank === null || rank === undefined ? `>${cutoff}` : String(rank);
}

/** The markdown of a failure's detail document. */
export function renderFailureDetail(r: FailureRecord, opts: DetailOptions = {}): string {
  const out: string[] = [];
  const ev = r.evidence;
  const matching = new Set((ev?.matchingTerms ?? []).map((m) => m.term));
  const queryWords = new Set(r.query.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []);
  out.push(`# ${highlightTerms(r.query, matching)}`, '');
  if (r.queryCut) out.push(`_The query is longer than the ${r.query.length - 1} characters shown; its full text is on its line (below)._`, '');
  if (opts.staleWarning) out.push(`> ⚠️ ${escapeMarkdown(opts.staleWarning)}`, '');
  const search = r.search ?? 'the configured index';
  out.push(
    `- **Query** \`${r.queryId.replace(/`/g, "'")}\` at ${escapeMarkdown(shortLocation(r.source.file, r.source.line, opts.baseDir))}`,
    `- **Search**: ${escapeMarkdown(search)} — every rank and s(q, ·) below is this search's (step ${r.step})`,
    `- **Triage**: ${TRIAGE_TITLES[r.label] ?? r.label} — ${escapeMarkdown(r.labelReason ?? '')}`,
    `- **Best positive**: ${formatRank(r)} (top ${r.topK.length} retrieved)`,
  );
  if (ev) {
    out.push(
      `- **Ranks**: ${escapeMarkdown(search)} ${rankCell(ev.rank, r.rankCutoff)} · BM25 ${ev.bm25Rank === undefined ? 'not run' : rankCell(ev.bm25Rank, r.rankCutoff)}${ev.bm25Score !== undefined ? ` (score ${ev.bm25Score.toFixed(2)})` : ''}`,
    );
  }
  out.push('', '## Positive' + (r.positives.length === 1 ? '' : 's'), '', '| rank | item | s(q, v) | text |', '|---:|---|---:|---|');
  for (const p of r.positives) {
    const score = p.score === null ? `not returned by ${escapeMarkdown(search)}` : sim(p.score);
    out.push(
      `| ${rankCell(p.rank, r.rankCutoff)} | \`${p.itemId.replace(/`/g, "'")}\` | ${score} | ${highlightTerms(p.text, matching)}${p.snippet ? ' _(snippet: its line changed)_' : ''} |`,
    );
  }
  if (ev) {
    out.push('', '## Evidence', '');
    if (ev.matchingTerms.length === 0) out.push('No query word appears in the positive.', '');
    else {
      out.push(
        `Query words in the positive (**bold** above), rarest first; the query tower keeps ${ev.limits.maxQueryTokens} features (the query has ${ev.limits.queryWords} words), the item tower ${ev.limits.maxItemTokens} (the positive has ${ev.limits.positiveWords} words):`,
        '',
        '| term | idf | df | query word | positive word | seen by the towers |',
        '|---|---:|---:|---:|---:|---|',
      );
      for (const m of ev.matchingTerms) {
        const seen =
          m.querySeen && m.positiveSeen
            ? 'both'
            : [m.querySeen ? null : 'not by the query tower', m.positiveSeen ? null : 'not by the item tower'].filter(Boolean).join(', ');
        out.push(`| ${escapeMarkdown(m.term)} | ${m.idf.toFixed(2)} | ${m.df} | ${m.queryWord} | ${m.positiveWord} | ${seen} |`);
      }
      out.push('');
    }
    const nb = ev.neighbourhood;
    out.push(
      `Neighbourhood of the top ${r.topK.length}: median s(v, item) ${sim(nb.simToPositiveMedian)} · pairwise s(item, item) median ${sim(nb.pairwiseMedian)}, min ${sim(nb.pairwiseMin)} · ` +
        `median word overlap of their texts ${Number.isFinite(nb.wordOverlapMedian) ? `${Math.round(100 * nb.wordOverlapMedian)}%` : '–'} · scores spread ${Number.isFinite(nb.scoreSpread) ? nb.scoreSpread.toFixed(4) : '–'}` +
        (ev.closest
          ? ` · closest to the positive: \`${ev.closest.itemId.replace(/`/g, "'")}\` s(v, v̂) ${sim(ev.closest.sim)}${ev.closest.sameText ? ' (same text)' : ''}`
          : ''),
      '',
    );
  }
  out.push(`## Top ${r.topK.length} retrieved`, '', '| # | item | s(q, item) | s(v, item) | text |', '|---:|---|---:|---:|---|');
  r.topK.forEach((t, i) => {
    const mark = t.relevant ? ' ✓' : '';
    out.push(
      `| ${i + 1} | \`${t.itemId.replace(/`/g, "'")}\`${mark} | ${sim(t.score)} | ${sim(t.simToPositive)} | ${highlightTerms(t.text, queryWords)}${t.snippet ? ' _(snippet: its line changed)_' : ''} |`,
    );
  });
  out.push(
    '',
    "_s(q, item): the search's score (sorted); s(v, item): exact cosine of the best-ranked positive v and the retrieved item; ✓ marks a relevant item; **bold**: query words._",
    '',
  );
  return out.join('\n');
}
