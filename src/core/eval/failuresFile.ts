/**
 * The failures file (eval/failures.jsonl, eval/failures-ann.jsonl), format 2: a file that scales with the
 * number of failing queries. Lines, in order of first use:
 *   {"kind":"header","v":2,"step":300,"search":"exact","rankCutoff":100,"maxQueryTokens":30,"maxItemTokens":100}  first line
 *   {"file":0,"path":"/abs/data/corpus.jsonl"}                                  a data file, once
 *   {"item":"p04353","f":0,"line":4354,"snippet":"Basico Organic T-Shirt…"}    an item, once
 *   {"queryId":…,"query":…,"source":{"f":1,"line":93},"rank":…,"positives":[{"itemId","rank","score"}],
 *    "topK":[[id, s(q,item), s(v,item), 1 if relevant]…],"label","labelReason","evidence","severity"}  a failure
 * Item texts are stored once per file as snippets of at most SNIPPET_CHARS characters; the UI reads the
 * full text from the item's source line on demand (data/itemText.ts). A query longer than QUERY_CHARS is
 * cut the same way (`"queryCut": true`; its full text is on its source line). Floats are rounded to 4 decimals
 * (idf to 2); what is the same for every record (step, search, cutoff, the towers' limits) is in the
 * header. Format-1 files (one full FailureRecord per line, texts repeated) are still read.
 */
import type { SourceLocation } from '../data/types';
import { words } from '../model/featurize';
import type { FailureRecord, MatchingTerm, PositiveItem, RetrievedItem, TriageEvidence } from './types';

export const FAILURES_FORMAT = 2;
export const SNIPPET_CHARS = 60;
/**
 * Longest query text a failure line holds: a longer query (a 10 MB test line) is cut to this many
 * characters plus "…" and marked `"queryCut": true`; its full text is on its source line.
 */
export const QUERY_CHARS = 1000;

/** A query as a failure line holds it: at most QUERY_CHARS characters, and whether it was cut. */
export function boundQuery(query: string): { query: string; queryCut?: true } {
  return query.length <= QUERY_CHARS ? { query } : { query: query.slice(0, QUERY_CHARS) + '…', queryCut: true };
}

const r4 = (x: number | null) => (x === null || !Number.isFinite(x) ? x : Math.round(x * 1e4) / 1e4);

/** The first SNIPPET_CHARS characters of a text (whitespace collapsed), "…" when cut. */
export function snippetOf(text: string): { snippet: string; cut: boolean } {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= SNIPPET_CHARS ? { snippet: flat, cut: flat !== text } : { snippet: flat.slice(0, SNIPPET_CHARS - 1) + '…', cut: true };
}

/** Matching terms stored per record: the rarest KEPT_TERMS, and every other one the label's reason names (its evidence). */
const KEPT_TERMS = 8;

function keptTerms(terms: readonly MatchingTerm[], reason: string): MatchingTerm[] {
  const named = new Set(words(reason));
  return terms.filter((m, i) => i < KEPT_TERMS || named.has(m.term));
}

/** Encodes failures (worst first, all of one evaluation and search) as format-2 lines. */
export function encodeFailures(records: readonly FailureRecord[]): string {
  const files = new Map<string, number>();
  const items = new Set<string>();
  const out: string[] = [];
  const first = records[0];
  if (!first) return '';
  out.push(
    JSON.stringify({
      kind: 'header',
      v: 2,
      step: first.step,
      search: first.search,
      rankCutoff: first.rankCutoff,
      ...(first.evidence
        ? { maxQueryTokens: first.evidence.limits.maxQueryTokens, maxItemTokens: first.evidence.limits.maxItemTokens, corpusSize: first.evidence.corpusSize }
        : {}),
    }),
  );
  const fileOf = (path: string): number => {
    let f = files.get(path);
    if (f === undefined) {
      f = files.size;
      files.set(path, f);
      out.push(JSON.stringify({ file: f, path }));
    }
    return f;
  };
  const at = (s: SourceLocation) => ({ f: fileOf(s.file), line: s.line });
  const item = (it: { itemId: string; text: string; source: SourceLocation }) => {
    if (items.has(it.itemId)) return;
    const loc = at(it.source);
    items.add(it.itemId);
    out.push(JSON.stringify({ item: it.itemId, ...loc, snippet: snippetOf(it.text).snippet }));
  };
  for (const r of records) {
    if (r.step !== first.step || r.search !== first.search || r.rankCutoff !== first.rankCutoff)
      throw new Error('encodeFailures: records of one evaluation and search only');
    r.positives.forEach(item);
    r.topK.forEach(item);
    const ev = r.evidence;
    const evidence = ev && {
      ...ev,
      ...(ev.bm25Score !== undefined ? { bm25Score: r4(ev.bm25Score) } : {}),
      // [term, df, query word, positive word, "q"/"p"/"qp" = the towers that did NOT see it (absent: both saw it)]; idf from df and the header's corpusSize
      matchingTerms: keptTerms(ev.matchingTerms, r.labelReason).map((m) => {
        const unseen = `${m.querySeen ? '' : 'q'}${m.positiveSeen ? '' : 'p'}`;
        return [m.term, m.df, m.queryWord, m.positiveWord, ...(unseen ? [unseen] : [])];
      }),
      corpusSize: undefined,
      limits: { queryWords: ev.limits.queryWords, positiveWords: ev.limits.positiveWords },
      neighbourhood: Object.fromEntries(Object.entries(ev.neighbourhood).map(([k, v]) => [k, r4(v)])),
      ...(ev.closest ? { closest: { ...ev.closest, sim: r4(ev.closest.sim) } } : {}),
    };
    out.push(
      JSON.stringify({
        queryId: r.queryId,
        ...boundQuery(r.query),
        source: at(r.source),
        rank: r.rank,
        positives: r.positives.map((p) => ({ itemId: p.itemId, rank: p.rank, score: r4(p.score) })),
        topK: r.topK.map((t) => [t.itemId, r4(t.score), r4(t.simToPositive), ...(t.relevant ? [1] : [])]),
        label: r.label,
        labelReason: r.labelReason,
        ...(evidence ? { evidence } : {}),
        severity: r4(r.severity),
      }),
    );
  }
  return out.join('\n') + '\n';
}

export interface DecodedFailures {
  records: FailureRecord[];
  /** 1-based line of each record. */
  recordLines: number[];
  /** Lines that could not be used: 1-based line and reason. */
  badLines: { line: number; reason: string }[];
}

type Obj = Record<string, unknown>;
const isObj = (x: unknown): x is Obj => typeof x === 'object' && x !== null && !Array.isArray(x);

/**
 * Decodes a failures file of format 1 or 2 into records (item texts of format 2 are snippets, marked
 * `snippet: true`). An unterminated, unparsable last line is a write in progress and is not reported.
 */
export function decodeFailures(text: string): DecodedFailures {
  const out: DecodedFailures = { records: [], recordLines: [], badLines: [] };
  const lines = text.split('\n');
  const files = new Map<number, string>();
  const items = new Map<string, { source: SourceLocation; snippet: string }>();
  let header: Obj | null = null;
  const parsed: { i: number; value: Obj }[] = [];
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (e) {
      if (i < lines.length - 1) out.badLines.push({ line: i + 1, reason: `invalid JSON: ${(e as Error).message}` });
      return;
    }
    if (!isObj(value)) return void out.badLines.push({ line: i + 1, reason: 'not a JSON object' });
    if (value.v === 2 && value.kind === 'header') header = value;
    else if ('file' in value && 'path' in value) {
      if (typeof value.path === 'string' && Number.isInteger(value.file)) files.set(value.file as number, value.path);
      else out.badLines.push({ line: i + 1, reason: 'a file line needs "file" (a number) and "path"' });
    } else parsed.push({ i, value });
  });
  const loc = (x: unknown): SourceLocation | null =>
    isObj(x) && Number.isInteger(x.line) && files.has(x.f as number) ? { file: files.get(x.f as number)!, line: x.line as number } : null;
  for (const { i, value } of parsed) {
    if (!('item' in value)) continue;
    const source = loc(value);
    if (typeof value.item === 'string' && source && typeof value.snippet === 'string') items.set(value.item, { source, snippet: value.snippet });
    else out.badLines.push({ line: i + 1, reason: 'an item line needs "item", a known "f", "line" and "snippet"' });
  }
  for (const { i, value } of parsed) {
    if ('item' in value) continue;
    if (!header) {
      out.records.push(value as unknown as FailureRecord); // format 1: the record itself (validated by the caller)
      out.recordLines.push(i + 1);
      continue;
    }
    try {
      out.records.push(decodeRecord(value, header, loc, items));
      out.recordLines.push(i + 1);
    } catch (e) {
      out.badLines.push({ line: i + 1, reason: (e as Error).message });
    }
  }
  return out;
}

function decodeRecord(
  x: Obj,
  h: Obj,
  loc: (x: unknown) => SourceLocation | null,
  items: Map<string, { source: SourceLocation; snippet: string }>,
): FailureRecord {
  const source = loc(x.source);
  if (!source) throw new Error('"source" must be {f, line} of a known file');
  const itemOf = (id: unknown) => {
    const it = typeof id === 'string' ? items.get(id) : undefined;
    if (!it) throw new Error(`item ${JSON.stringify(id)} has no item line`);
    return it;
  };
  if (!Array.isArray(x.positives) || !Array.isArray(x.topK)) throw new Error('"positives" and "topK" must be arrays');
  const positives: PositiveItem[] = x.positives.map((p: Obj) => {
    const it = itemOf(p.itemId);
    return { itemId: p.itemId as string, text: it.snippet, snippet: true, rank: p.rank as number | null, score: p.score as number | null, source: it.source };
  });
  const topK: RetrievedItem[] = x.topK.map((t: unknown) => {
    if (!Array.isArray(t) || t.length < 3) throw new Error('a topK entry must be [id, score, simToPositive, 1 if relevant]');
    const it = itemOf(t[0]);
    return {
      itemId: t[0] as string,
      text: it.snippet,
      snippet: true,
      score: t[1] as number,
      simToPositive: t[2] as number,
      relevant: t[3] === 1,
      source: it.source,
    };
  });
  const ev = isObj(x.evidence) ? (x.evidence as unknown as TriageEvidence) : undefined;
  const n = h.corpusSize as number;
  const evidence = ev && {
    ...ev,
    corpusSize: n,
    matchingTerms: (ev.matchingTerms as unknown as [string, number, number, number, string?][]).map(([term, df, queryWord, positiveWord, unseen = '']) => ({
      term,
      df,
      idf: Math.log(1 + (n - df + 0.5) / (df + 0.5)),
      queryWord,
      positiveWord,
      querySeen: !unseen.includes('q'),
      positiveSeen: !unseen.includes('p'),
    })),
    limits: { ...ev.limits, maxQueryTokens: h.maxQueryTokens as number, maxItemTokens: h.maxItemTokens as number },
  };
  return {
    ...(x as unknown as FailureRecord),
    v: 1,
    step: h.step as number,
    search: h.search as string | undefined,
    rankCutoff: h.rankCutoff as number,
    source,
    positives,
    topK,
    ...(evidence ? { evidence } : {}),
  };
}
