/**
 * The detail of one failing query, as markup for the Failing Query webview (src/webview/failureDetail/):
 * the query and where it is, the triage label with its reason, the positive(s) with rank and s(q, v), and
 * the top-k retrieved items with s(q, item) and s(v, item). Every location — the query's line, each
 * positive's and each retrieved item's corpus line — is a link (`data-file`, `data-line`) the webview turns
 * into "open that line". Every text from the data is escaped. Pure, unit-tested without VS Code.
 */
import * as path from 'path';
import type { FailureRecord } from '../../core/eval/types';
import { escapeHtml } from '../shared/webviewPage';
import { formatRank, TRIAGE_TITLES } from './failureGroups';

/**
 * Markup of `text` with the words in `terms` (lower-cased, the towers' words) in bold, everything else
 * escaped: the rendered text reads exactly as `text`.
 */
export function highlightTerms(text: string, terms: ReadonlySet<string>): string {
  if (terms.size === 0) return escapeHtml(text);
  let out = '';
  let last = 0;
  for (const m of text.matchAll(/[\p{L}\p{N}]+/gu)) {
    const at = m.index ?? 0;
    out += escapeHtml(text.slice(last, at));
    out += terms.has(m[0].toLowerCase()) ? `<b>${escapeHtml(m[0])}</b>` : escapeHtml(m[0]);
    last = at + m[0].length;
  }
  return out + escapeHtml(text.slice(last));
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

/** "37" or "&gt;100" (markup). */
function rankCell(rank: number | null | undefined, cutoff: number): string {
  return rank === null || rank === undefined ? `&gt;${cutoff}` : String(rank);
}

/** A link to a data line: `label` (escaped here) opening `source`. */
function lineLink(label: string, source: { file: string; line: number }, title?: string): string {
  return `<a href="#" data-file="${escapeHtml(source.file)}" data-line="${source.line}" title="${escapeHtml(title ?? `Open ${source.file}:${source.line}`)}">${escapeHtml(label)}</a>`;
}

/** A table (in a box that scrolls sideways should it still be too wide): header cells `[text, class]`, rows of cell markup. */
function table(head: [string, string?][], rows: string[][]): string {
  const th = head.map(([t, c]) => `<th${c ? ` class="${c}"` : ''}>${escapeHtml(t)}</th>`).join('');
  const body = rows.map((cells) => `<tr>${cells.map((cell, i) => `<td${head[i]?.[1] ? ` class="${head[i][1]}"` : ''}>${cell}</td>`).join('')}</tr>`).join('\n');
  return `<div class="table-box"><table><thead><tr>${th}</tr></thead>\n<tbody>\n${body}\n</tbody></table></div>`;
}

/** An item's id as code (escaped). */
function itemCode(id: string): string {
  return `<code>${escapeHtml(id)}</code>`;
}

/** The markup of a failure's detail. */
export function renderFailureDetail(r: FailureRecord, opts: DetailOptions = {}): string {
  const out: string[] = [];
  const ev = r.evidence;
  const matching = new Set((ev?.matchingTerms ?? []).map((m) => m.term));
  const queryWords = new Set(r.query.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []);
  out.push(`<h1>${highlightTerms(r.query, matching)}</h1>`);
  if (r.queryCut)
    out.push(`<p class="muted"><i>The query is longer than the ${r.query.length - 1} characters shown; its full text is on its line (below).</i></p>`);
  if (opts.staleWarning) out.push(`<p class="warning">⚠️ ${escapeHtml(opts.staleWarning)}</p>`);
  const search = r.search ?? 'the configured index';
  const facts = [
    `<li><b>Query</b> ${itemCode(r.queryId)} at ${lineLink(shortLocation(r.source.file, r.source.line, opts.baseDir), r.source)}</li>`,
    `<li><b>Search</b>: <span data-role="search">${escapeHtml(search)}</span> — every rank and s(q, ·) below is this search's (step ${r.step})</li>`,
    `<li><b>Triage</b>: ${escapeHtml(TRIAGE_TITLES[r.label] ?? r.label)} — ${escapeHtml(r.labelReason ?? '')}</li>`,
    `<li><b>Best positive</b>: ${escapeHtml(formatRank(r))} (top ${r.topK.length} retrieved)</li>`,
  ];
  if (ev) {
    facts.push(
      `<li><b>Ranks</b>: ${escapeHtml(search)} ${rankCell(ev.rank, r.rankCutoff)} · BM25 ${ev.bm25Rank === undefined ? 'not run' : rankCell(ev.bm25Rank, r.rankCutoff)}${ev.bm25Score !== undefined ? ` (score ${ev.bm25Score.toFixed(2)})` : ''}</li>`,
    );
  }
  out.push(`<ul>\n${facts.join('\n')}\n</ul>`);
  out.push(`<h2>Positive${r.positives.length === 1 ? '' : 's'}</h2>`);
  out.push(
    table(
      [
        ['rank', 'num'],
        ['item', 'item'],
        ['s(q, v)', 'num'],
        ['text', 'text'],
      ],
      r.positives.map((p) => [
        rankCell(p.rank, r.rankCutoff),
        lineLink(p.itemId, p.source, `Open the positive's line ${p.source.file}:${p.source.line}`),
        p.score === null ? `not returned by ${escapeHtml(search)}` : sim(p.score),
        `${highlightTerms(p.text, matching)}${p.snippet ? ' <i>(snippet: its line changed)</i>' : ''}`,
      ]),
    ),
  );
  if (ev) {
    out.push('<h2>Evidence</h2>');
    if (ev.matchingTerms.length === 0) out.push('<p>No query word appears in the positive.</p>');
    else {
      out.push(
        `<p>Query words in the positive (<b>bold</b> above), rarest first; the query tower keeps ${ev.limits.maxQueryTokens} features (the query has ${ev.limits.queryWords} words), the item tower ${ev.limits.maxItemTokens} (the positive has ${ev.limits.positiveWords} words):</p>`,
      );
      out.push(
        table(
          [['term'], ['idf', 'num'], ['df', 'num'], ['query word', 'num'], ['positive word', 'num'], ['seen by the towers']],
          ev.matchingTerms.map((m) => [
            escapeHtml(m.term),
            m.idf.toFixed(2),
            String(m.df),
            String(m.queryWord),
            String(m.positiveWord),
            m.querySeen && m.positiveSeen
              ? 'both'
              : [m.querySeen ? null : 'not by the query tower', m.positiveSeen ? null : 'not by the item tower'].filter(Boolean).join(', '),
          ]),
        ),
      );
    }
    const nb = ev.neighbourhood;
    out.push(
      `<p>Neighbourhood of the top ${r.topK.length}: median s(v, item) ${sim(nb.simToPositiveMedian)} · pairwise s(item, item) median ${sim(nb.pairwiseMedian)}, min ${sim(nb.pairwiseMin)} · ` +
        `median word overlap of their texts ${Number.isFinite(nb.wordOverlapMedian) ? `${Math.round(100 * nb.wordOverlapMedian)}%` : '–'} · scores spread ${Number.isFinite(nb.scoreSpread) ? nb.scoreSpread.toFixed(4) : '–'}` +
        (ev.closest
          ? ` · closest to the positive: ${itemCode(ev.closest.itemId)} s(v, v̂) ${sim(ev.closest.sim)}${ev.closest.sameText ? ' (same text)' : ''}`
          : '') +
        '</p>',
    );
  }
  out.push(`<h2>Top ${r.topK.length} retrieved</h2>`);
  out.push(
    table(
      [
        ['#', 'num'],
        ['item', 'item'],
        ['s(q, item)', 'num'],
        ['s(v, item)', 'num'],
        ['text', 'text'],
      ],
      r.topK.map((t, i) => [
        String(i + 1),
        `${lineLink(t.itemId, t.source, `Open the corpus line ${t.source.file}:${t.source.line}`)}${t.relevant ? ' ✓' : ''}`,
        sim(t.score),
        sim(t.simToPositive),
        `${highlightTerms(t.text, queryWords)}${t.snippet ? ' <i>(snippet: its line changed)</i>' : ''}`,
      ]),
    ),
  );
  out.push(
    '<p class="muted"><i>s(q, item): the search\'s score (sorted); s(v, item): exact cosine of the best-ranked positive v and the retrieved item; ✓ marks a relevant item; <b>bold</b>: query words; an item\'s id opens its line.</i></p>',
  );
  return out.join('\n');
}
