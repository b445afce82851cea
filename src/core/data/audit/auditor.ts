/**
 * The data audit's single pass (issue 25, part 3): it is shown the corpus items, the test queries and then
 * every training pair in file order, and counts what would mislead training or evaluation:
 *   - duplicatePairs      the same (normalised query, positive id) on several lines;
 *   - sharedPositives     a positive id that answers ≥ `sharedPositiveMin` distinct pairs;
 *   - textUnderSeveralIds one normalised positive text under several ids (an in-batch "negative" that is the positive);
 *   - idWithSeveralTexts  one positive id with several normalised texts;
 *   - noWords             a query or positive with no word for the featurizer (model/featurize.ts `words`);
 *                         blank ones are already bad lines of the readers (formats.ts: "empty query");
 *   - truncatedQueries / truncatedPositives  more words than model.maxQueryTokens / maxItemTokens (words are
 *                         featurized first, so the words past the limit are never seen by the tower);
 *   - testLeakage         a training query whose normalised text is a test query;
 *   - corpusTextDiffers   a positive whose id is in the corpus with another normalised text (`titleMissing`
 *                         counts those equal to the corpus line's "text" without its "title": BEIR's title + text).
 * Memory is bounded by the number of distinct keys, never by text length: every text and id is kept as a
 * 53-bit hash of its normalised form ({@link textKey}, {@link hash53}; a collision, about n²/2^54 — 1e-4 for 10M
 * keys — can only merge two keys of a count), in Maps of number → number (≈ 40–80 bytes an entry in V8): pairs, positive ids,
 * positive texts, corpus ids, test queries. Examples are capped at {@link MAX_EXAMPLES} per finding and the
 * shared-positive ids kept by name at {@link MAX_SHARED_NAMED}.
 */
import { words } from '../../model/featurize';
import type { Example, SourceLocation } from '../types';

/** Example lines kept per finding. */
export const MAX_EXAMPLES = 5;
/** Shared positives kept by id (the most shared are listed). */
export const MAX_SHARED_NAMED = 1000;
/** Default: a positive answering at least this many distinct pairs is "shared by many queries". */
export const DEFAULT_SHARED_POSITIVE_MIN = 5;

export type AuditKind =
  | 'duplicatePairs'
  | 'sharedPositives'
  | 'textUnderSeveralIds'
  | 'idWithSeveralTexts'
  | 'noWords'
  | 'truncatedQueries'
  | 'truncatedPositives'
  | 'testLeakage'
  | 'corpusTextDiffers';

/** One line behind a finding, with what is wrong on it. */
export interface AuditExample {
  file: string;
  line: number;
  note: string;
}

export interface AuditFinding {
  kind: AuditKind;
  /** What is counted (pairs, positives, ids, texts). */
  count: number;
  /** The first {@link MAX_EXAMPLES} lines, in reading order. */
  examples: AuditExample[];
  /** corpusTextDiffers: how many equal the corpus line's text without its title. */
  titleMissing?: number;
}

/** True for the characters JavaScript's `\s` matches (normaliseText collapses their runs to one space). */
function isSpace(c: number): boolean {
  return (
    c === 32 ||
    (c >= 9 && c <= 13) ||
    c === 160 ||
    c === 5760 ||
    (c >= 8192 && c <= 8202) ||
    c === 8232 ||
    c === 8233 ||
    c === 8239 ||
    c === 8287 ||
    c === 12288 ||
    c === 65279
  );
}

/** Two 32-bit FNV-1a style hashes (different primes and offsets) of a code unit sequence, as one 53-bit number. */
class Hash53 {
  private a = 0x811c9dc5;
  private b = 0x9747b28c;
  add(c: number): void {
    this.a = Math.imul(this.a ^ c, 0x01000193);
    this.b = Math.imul(this.b ^ c, 0x5bd1e995);
    this.b ^= this.b >>> 15;
  }
  get value(): number {
    return (this.a >>> 11) * 2 ** 32 + (this.b >>> 0);
  }
}

/**
 * A 53-bit non-cryptographic hash of a string's UTF-16 code units, exact as a JS number (a Map key). Not
 * SHA: the audit hashes millions of texts and a collision (≈ n²/2^54) only merges two keys of a count.
 */
export function hash53(s: string): number {
  const h = new Hash53();
  for (let i = 0; i < s.length; i++) h.add(s.charCodeAt(i));
  return h.value;
}

/**
 * The hash of a text's normalised form (itemId.ts normaliseText: NFKC, lower case, whitespace runs as one
 * space, trimmed), computed without building that string: equal to `hash53(normaliseText(text))`.
 */
export function textKey(text: string): number {
  const t = text.normalize('NFKC').toLowerCase();
  const h = new Hash53();
  let pendingSpace = false;
  let started = false;
  for (let i = 0; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if (isSpace(c)) {
      pendingSpace = started;
      continue;
    }
    if (pendingSpace) h.add(32);
    pendingSpace = false;
    started = true;
    h.add(c);
  }
  return h.value;
}

/** What a finding counts, for reports. */
export const AUDIT_TITLES: Record<AuditKind, string> = {
  duplicatePairs: 'duplicate pairs (same normalised query and positive id)',
  sharedPositives: 'positives shared by many pairs',
  textUnderSeveralIds: 'positive texts under several ids',
  idWithSeveralTexts: 'positive ids with several texts',
  noWords: 'texts with no word for the featurizer',
  truncatedQueries: 'queries longer than model.maxQueryTokens words',
  truncatedPositives: 'positives longer than model.maxItemTokens words',
  testLeakage: 'training queries that are test queries (normalised text)',
  corpusTextDiffers: 'positives whose corpus item has another text',
};

export interface AuditorOptions {
  maxQueryTokens: number;
  maxItemTokens: number;
  sharedPositiveMin?: number;
}

/** The first value seen under each key, and where: a later other value is a conflict, reported once per key. */
class FirstValue {
  private readonly value = new Map<number, number>();
  private readonly at = new Map<number, number>();
  private readonly flagged = new Set<number>();

  /** Records `value` under `key` (first time), or returns where the first, different value was seen (once per key), else null. */
  conflict(key: number, value: number, here: number): number | null {
    const first = this.value.get(key);
    if (first === undefined) {
      this.value.set(key, value);
      this.at.set(key, here);
      return null;
    }
    if (first === value || this.flagged.has(key)) return null;
    this.flagged.add(key);
    return this.at.get(key)!;
  }

  firstAt(key: number): number | undefined {
    return this.at.get(key);
  }
}

/** Location packed into one number: file index × 2^32 + line. */
function pack(file: number, line: number): number {
  return file * 2 ** 32 + line;
}

export class Auditor {
  private readonly files: string[] = [];
  private readonly fileIndex = new Map<string, number>();
  private readonly findings = new Map<AuditKind, AuditFinding>();
  /** pair key → packed location of its first line. */
  private readonly pairs = new Map<number, number>();
  /** positive id key → distinct pairs answered. */
  private readonly positiveUses = new Map<number, number>();
  /** positive id key → its first normalised text key; normalised positive text key → its first id key. */
  private readonly idText = new FirstValue();
  private readonly textId = new FirstValue();
  private readonly corpusFlagged = new Set<number>();
  /** corpus id key → [text key, body key (text without title, or -1)]. */
  private readonly corpus = new Map<number, number>();
  private readonly corpusBody = new Map<number, number>();
  /** test query text key → packed location. */
  private readonly testQueries = new Map<number, number>();
  /** Shared positives by name once they reach the threshold: id → [uses, first location]. */
  private readonly sharedNamed = new Map<string, { uses: number; first: number }>();
  private readonly sharedMin: number;
  pairsRead = 0;
  corpusItems = 0;
  testQueryCount = 0;

  constructor(private readonly opts: AuditorOptions) {
    this.sharedMin = opts.sharedPositiveMin ?? DEFAULT_SHARED_POSITIVE_MIN;
  }

  private loc(source: SourceLocation): number {
    let i = this.fileIndex.get(source.file);
    if (i === undefined) {
      i = this.files.length;
      this.files.push(source.file);
      this.fileIndex.set(source.file, i);
    }
    return pack(i, source.line);
  }

  private where(packed: number): string {
    const file = this.files[Math.floor(packed / 2 ** 32)];
    return `${file}:${packed % 2 ** 32}`;
  }

  private add(kind: AuditKind, source: SourceLocation, note: string, count = 1): AuditFinding {
    let f = this.findings.get(kind);
    if (!f) {
      f = { kind, count: 0, examples: [] };
      this.findings.set(kind, f);
    }
    f.count += count;
    if (f.examples.length < MAX_EXAMPLES) f.examples.push({ file: source.file, line: source.line, note });
    return f;
  }

  /** A corpus item: its full text (title + text, as corpusJsonl.ts reads it) and, when it has a title, the text alone. */
  addCorpusItem(id: string, text: string, bodyWithoutTitle: string | null): void {
    const key = hash53(id);
    if (this.corpus.has(key)) return; // the first occurrence wins, as in the readers
    this.corpusItems += 1;
    this.corpus.set(key, textKey(text));
    if (bodyWithoutTitle !== null) this.corpusBody.set(key, textKey(bodyWithoutTitle));
  }

  /** A test query (counted once per normalised text). */
  addTestQuery(text: string, source: SourceLocation): void {
    const key = textKey(text);
    if (this.testQueries.has(key)) return;
    this.testQueryCount += 1;
    this.testQueries.set(key, this.loc(source));
  }

  /** One training pair, in reading order. */
  addPair(e: Example): void {
    this.pairsRead += 1;
    const qKey = textKey(e.query);
    const idKey = hash53(e.positive.id);
    const pKey = textKey(e.positive.text);
    const here = this.loc(e.source);
    const pairKey = hash53(`${qKey}:${idKey}`);
    const earlier = this.pairs.get(pairKey);
    if (earlier !== undefined) {
      this.add('duplicatePairs', e.source, `repeats the pair of ${this.where(earlier)}`);
    } else {
      this.pairs.set(pairKey, here);
      this.countUse(e, idKey);
    }
    const qWords = words(e.query).length;
    const pWords = words(e.positive.text).length;
    if (qWords === 0) this.add('noWords', e.source, 'query has no word');
    if (pWords === 0) this.add('noWords', e.positive.source, `positive "${e.positive.id}" has no word`);
    if (qWords > this.opts.maxQueryTokens) this.add('truncatedQueries', e.source, `query has ${qWords} words (maxQueryTokens ${this.opts.maxQueryTokens})`);
    if (pWords > this.opts.maxItemTokens)
      this.add('truncatedPositives', e.positive.source, `positive "${e.positive.id}" has ${pWords} words (maxItemTokens ${this.opts.maxItemTokens})`);
    const test = this.testQueries.get(qKey);
    if (test !== undefined) this.add('testLeakage', e.source, `query is the test query of ${this.where(test)}`);
    this.checkIdText(e, idKey, pKey);
    const corpusText = this.corpus.get(idKey);
    if (corpusText !== undefined && corpusText !== pKey && !this.corpusFlagged.has(idKey)) {
      this.corpusFlagged.add(idKey); // counted once per id
      const titleMissing = this.corpusBody.get(idKey) === pKey;
      const f = this.add(
        'corpusTextDiffers',
        e.positive.source,
        `positive "${e.positive.id}" ${titleMissing ? 'is the corpus text without its title' : 'differs from its corpus item'}`,
      );
      f.titleMissing = (f.titleMissing ?? 0) + (titleMissing ? 1 : 0);
    }
  }

  private countUse(e: Example, idKey: number): void {
    const uses = (this.positiveUses.get(idKey) ?? 0) + 1;
    this.positiveUses.set(idKey, uses);
    if (uses < this.sharedMin) return;
    const named = this.sharedNamed.get(e.positive.id);
    if (named) named.uses = uses;
    else if (this.sharedNamed.size < MAX_SHARED_NAMED)
      this.sharedNamed.set(e.positive.id, { uses, first: this.idText.firstAt(idKey) ?? this.loc(e.positive.source) });
  }

  private checkIdText(e: Example, idKey: number, pKey: number): void {
    const here = this.loc(e.positive.source);
    const textFirst = this.idText.conflict(idKey, pKey, here);
    if (textFirst !== null) this.add('idWithSeveralTexts', e.positive.source, `id "${e.positive.id}" has another text at ${this.where(textFirst)}`);
    const idFirst = this.textId.conflict(pKey, idKey, here);
    if (idFirst !== null)
      this.add('textUnderSeveralIds', e.positive.source, `positive "${e.positive.id}" has the text of another id at ${this.where(idFirst)}`);
  }

  /** The findings so far, in the order of {@link AUDIT_TITLES}; shared positives listed most shared first. */
  findingsList(): AuditFinding[] {
    const shared = [...this.sharedNamed.entries()].sort((a, b) => b[1].uses - a[1].uses);
    let sharedCount = 0;
    for (const uses of this.positiveUses.values()) if (uses >= this.sharedMin) sharedCount += 1;
    if (sharedCount > 0) {
      this.findings.set('sharedPositives', {
        kind: 'sharedPositives',
        count: sharedCount,
        examples: shared.slice(0, MAX_EXAMPLES).map(([id, s]) => {
          const at = this.where(s.first);
          const colon = at.lastIndexOf(':');
          return { file: at.slice(0, colon), line: Number(at.slice(colon + 1)), note: `positive "${id}" answers ${s.uses} distinct pairs` };
        }),
      });
    }
    return (Object.keys(AUDIT_TITLES) as AuditKind[]).flatMap((k) => {
      const f = this.findings.get(k);
      return f ? [f] : [];
    });
  }
}
