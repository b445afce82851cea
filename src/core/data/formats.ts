/**
 * The record shapes a data line can have, and how one record (one line) becomes training pairs.
 * The rule tables (shape names, id field aliases, forced shapes) live in schemas/data-formats.json, which the
 * Python reader (python/retrieval_lens/data/) reads too. Pure functions of a line's text: a reader (file, shards, gzip) calls {@link recordParser} per line
 * and gets examples, a {@link LineFault} (a bad line) or, for a file whose first record matches no
 * known shape, a located {@link DataError} naming the fields it saw.
 *
 * JSONL shapes (auto-detected from the first record that is a JSON object, or forced by data.format):
 *   pairs                  {"query", "positive", "negatives"?, "query_id"?, "item_id"?}
 *   bge                    FlagEmbedding / BGE {"query", "pos": [..], "neg": [..]}: one pair per positive,
 *                          every pair with all of "neg" as explicit hard negatives
 *   sentence-transformers  {"anchor", "positive", "negative"? | "negative_1".."negative_n"?}
 *   fields                 data.fields: any field names mapped onto query / positive / negatives / ids
 * TSV shapes:
 *   tsv-pairs              query \t positive [\t item id]
 *   msmarco-triples        query \t positive \t negative (MS MARCO triples.train.*.tsv)
 */
import { basename } from 'node:path';
import type { Example, FieldMapping, Item, LoadReport, RecordShape, SourceLocation } from './types';
import { DataError } from './errors';
import { isBlank } from './lineReader';
import { textItemId } from './itemId';
import { LineFault, isObject, kindOf, optionalId, parseJsonObject } from './lineFields';
import rules from '../../../schemas/data-formats.json';

/** What each shape is called in messages and the run log. */
export const SHAPE_NAMES: Record<RecordShape, string> = rules.shapeNames;

/** Shapes whose record (line) gives exactly one pair: BGE (a pair per positive) and data.fields (a list of positives) may give several. */
export const ONE_PAIR_SHAPES: ReadonlySet<RecordShape> = new Set<RecordShape>(rules.onePairShapes as RecordShape[]);

/** The end of an unknown-shape message: what would have been recognised. */
const EXPECTED_SHAPES = rules.expectedShapes;

/**
 * Fields of a pairs record read as the positive's item id, in this order (the first one present is used), and
 * likewise the query id. Ids decide accidental-hit masking and evaluation, so a common name such as
 * "positive_id" is used without data.fields; the run log says which field it was (or that there was none).
 */
export const ITEM_ID_FIELDS: readonly string[] = rules.itemIdFields;
export const QUERY_ID_FIELDS: readonly string[] = rules.queryIdFields;

/** The first of `keys` that `obj` holds (not null). */
function firstPresent(obj: Record<string, unknown>, keys: readonly string[]): string | undefined {
  return keys.find((k) => obj[k] !== undefined && obj[k] !== null);
}

/** What the run log says about a pairs file's ids, from its first record. */
function pairIdsNote(obj: Record<string, unknown>): string {
  const item = firstPresent(obj, ITEM_ID_FIELDS);
  const query = firstPresent(obj, QUERY_ID_FIELDS);
  const positiveHasId = isObject(obj.positive) && obj.positive.id !== undefined;
  const itemNote = item
    ? `item ids from "${item}"`
    : positiveHasId
      ? 'item ids from positive.id'
      : `no item-id field (${ITEM_ID_FIELDS.slice(0, 3).join(', ')}, …): items are keyed by their text; data.fields.itemId names another field`;
  return ` (${itemNote}${query ? `; query ids from "${query}"` : ''})`;
}

/** The default query id of a line: "<basename>:<line>" (all pairs of one line share it). */
function lineQueryId(source: SourceLocation): string {
  return `${basename(source.file)}:${source.line}`;
}

/**
 * Reads an item reference: a plain string (the text) or {"id"?, "text"}. `label` names it in fault messages
 * ("positive", "neg[2]"); `fallbackId` (item_id, data.fields.itemId) is used when the object has no id of its
 * own. Items without any id get {@link textItemId}.
 */
export function parseItemRef(value: unknown, label: string, source: SourceLocation, fallbackId?: string, fallbackField = 'item_id'): Item {
  let text: string;
  let ownId: string | undefined;
  if (typeof value === 'string') {
    text = value;
  } else if (isObject(value) && typeof value.text === 'string') {
    text = value.text;
    ownId = optionalId(value, 'id', `${label}.id`);
  } else {
    throw new LineFault(`${label.includes('[') ? label : `field "${label}"`} must be a string or an object with "text"`);
  }
  if (isBlank(text)) throw new LineFault(`empty ${label}`);
  if (ownId !== undefined && fallbackId !== undefined && ownId !== fallbackId) {
    throw new LineFault(`field "${fallbackField}" ("${fallbackId}") differs from ${label}.id ("${ownId}")`);
  }
  return { id: ownId ?? fallbackId ?? textItemId(text), text, source };
}

/** A required text field (a query): faults when missing, not a string or blank. */
function requiredText(obj: Record<string, unknown>, key: string): string {
  const value = obj[key];
  if (value === undefined || value === null) throw new LineFault(`missing field "${key}"`);
  if (typeof value !== 'string') throw new LineFault(`field "${key}" must be a string, got ${kindOf(value)}`);
  if (isBlank(value)) throw new LineFault(`empty ${key}`);
  return value;
}

/** A field holding one item or a list of items (absent/null → none); faults name the field and index. */
function itemList(obj: Record<string, unknown>, key: string, source: SourceLocation): Item[] {
  const value = obj[key];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) return [parseItemRef(value, key, source)];
  return value.map((v: unknown, i) => parseItemRef(v, `${key}[${i}]`, source));
}

/** One example per positive, all with the same query, query id and negatives; a negative that is a positive is a fault. */
function examplesOf(queryId: string, query: string, positives: Item[], negatives: Item[], negLabel: string, source: SourceLocation): Example[] {
  const positiveIds = new Set(positives.map((p) => p.id));
  const which = positives.length === 1 ? 'the positive item' : 'a positive item';
  negatives.forEach((n, i) => {
    if (positiveIds.has(n.id)) throw new LineFault(`${negLabel}[${i}] is ${which} itself (id "${n.id}")`);
  });
  return positives.map((positive) => ({ queryId, query, positive, negatives, source }));
}

/**
 * The pairs shape: {"query", "positive", "negatives"?, "query_id"?, "item_id"?} → one example; the ids may also
 * be named as {@link ITEM_ID_FIELDS} / {@link QUERY_ID_FIELDS} list.
 */
function parsePairsRecord(obj: Record<string, unknown>, source: SourceLocation): Example[] {
  const query = requiredText(obj, 'query');
  if (obj.positive === undefined) throw new LineFault('missing field "positive"');
  const queryIdField = firstPresent(obj, QUERY_ID_FIELDS);
  const queryId = (queryIdField && optionalId(obj, queryIdField)) ?? lineQueryId(source);
  const itemIdField = firstPresent(obj, ITEM_ID_FIELDS) ?? 'item_id';
  const positive = parseItemRef(obj.positive, 'positive', source, optionalId(obj, itemIdField), itemIdField);
  if (obj.negatives !== undefined && obj.negatives !== null && !Array.isArray(obj.negatives)) throw new LineFault('field "negatives" must be an array');
  return examplesOf(queryId, query, [positive], itemList(obj, 'negatives', source), 'negatives', source);
}

/** BGE: {"query", "pos": [..], "neg": [..]} → one example per positive, each with every negative. */
function parseBgeRecord(obj: Record<string, unknown>, source: SourceLocation): Example[] {
  const query = requiredText(obj, 'query');
  const positives = itemList(obj, 'pos', source);
  if (positives.length === 0) throw new LineFault(obj.pos === undefined ? 'missing field "pos"' : 'field "pos" holds no positive');
  const queryId = optionalId(obj, 'query_id') ?? lineQueryId(source);
  return examplesOf(queryId, query, positives, itemList(obj, 'neg', source), 'neg', source);
}

/** sentence-transformers: {"anchor", "positive", "negative"?} or "negative_1".."negative_n" → one example. */
function parseSentenceTransformersRecord(obj: Record<string, unknown>, source: SourceLocation): Example[] {
  const query = requiredText(obj, 'anchor');
  if (obj.positive === undefined || obj.positive === null) throw new LineFault('missing field "positive"');
  const positive = parseItemRef(obj.positive, 'positive', source);
  const negatives = itemList(obj, 'negative', source);
  for (let i = 1; obj[`negative_${i}`] !== undefined; i++) negatives.push(parseItemRef(obj[`negative_${i}`], `negative_${i}`, source));
  return examplesOf(lineQueryId(source), query, [positive], negatives, 'negatives', source);
}

/**
 * data.fields: the mapped field names. `positive` may hold one item or a list (one example each); `itemId`
 * names the field with the positive's id (a list of ids beside a list of positives).
 */
function parseMappedRecord(obj: Record<string, unknown>, source: SourceLocation, f: FieldMapping): Example[] {
  const query = requiredText(obj, f.query);
  const raw = obj[f.positive];
  if (raw === undefined || raw === null) throw new LineFault(`missing field "${f.positive}" (data.fields.positive)`);
  const values = Array.isArray(raw) ? raw : [raw];
  let ids: (string | undefined)[] = values.map(() => undefined);
  if (f.itemId !== undefined) {
    const idValue = obj[f.itemId];
    if (Array.isArray(raw) && Array.isArray(idValue)) {
      if (idValue.length !== raw.length) throw new LineFault(`field "${f.itemId}" holds ${idValue.length} ids for ${raw.length} positives`);
      ids = idValue.map((_, i) => optionalId(idValue as unknown as Record<string, unknown>, String(i), `${f.itemId}[${i}]`));
    } else if (!Array.isArray(raw)) {
      ids = [optionalId(obj, f.itemId)];
    } else if (idValue !== undefined && idValue !== null) {
      throw new LineFault(`field "${f.itemId}" must be a list of ids beside the list "${f.positive}"`);
    }
  }
  const label = (i: number) => (Array.isArray(raw) ? `${f.positive}[${i}]` : f.positive);
  const positives = values.map((v: unknown, i) => parseItemRef(v, label(i), source, ids[i], f.itemId));
  if (positives.length === 0) throw new LineFault(`field "${f.positive}" holds no positive`);
  const queryId = (f.queryId !== undefined ? optionalId(obj, f.queryId) : undefined) ?? lineQueryId(source);
  const negatives = f.negatives !== undefined ? itemList(obj, f.negatives, source) : [];
  return examplesOf(queryId, query, positives, negatives, f.negatives ?? 'negatives', source);
}

/** The JSONL shape a record has, or null: pairs (query+positive), BGE (query+pos), sentence-transformers (anchor+positive). */
export function jsonlShapeOf(obj: Record<string, unknown>): RecordShape | null {
  if ('query' in obj && 'positive' in obj) return 'pairs';
  if ('query' in obj && 'pos' in obj) return 'bge';
  if ('anchor' in obj && 'positive' in obj) return 'sentence-transformers';
  return null;
}

/** Fields that show a record means to be of some known shape (then a missing partner field is a bad line, not an unknown shape). */
const SHAPE_HINTS: readonly string[] = rules.shapeHints;

/** Parses a JSON record of a known shape into its examples. */
export function parseJsonlRecord(shape: RecordShape, obj: Record<string, unknown>, source: SourceLocation, fields?: FieldMapping): Example[] {
  switch (shape) {
    case 'pairs':
      return parsePairsRecord(obj, source);
    case 'bge':
      return parseBgeRecord(obj, source);
    case 'sentence-transformers':
      return parseSentenceTransformersRecord(obj, source);
    case 'fields':
      if (!fields) throw new Error('the data.fields shape needs a field mapping');
      return parseMappedRecord(obj, source, fields);
    default:
      throw new Error(`${shape} is not a JSONL shape`);
  }
}

/** The located error for a file whose first record matches no shape, naming the fields it saw. */
function unknownShape(obj: Record<string, unknown>, source: SourceLocation): DataError {
  const seen = Object.keys(obj);
  return new DataError(
    `${source.file}:${source.line}: no known shape: saw ${seen.length > 0 ? `fields ${seen.join(', ')}` : 'no fields'}; ${EXPECTED_SHAPES}`,
    source.file,
    source.line,
  );
}

/** True when column 3 of a TSV line looks like text (holds whitespace) rather than an item id. */
function thirdColumnIsText(columns: string[]): boolean {
  return columns.length === 3 && /\S\s+\S/.test(columns[2].trim());
}

/** A TSV header: first column "query", second starting with "positive" (a third "negative…" makes it MS MARCO triples). */
function tsvHeaderShape(columns: string[]): RecordShape | null {
  if (columns.length < 2 || columns[0].trim().toLowerCase() !== 'query' || !columns[1].trim().toLowerCase().startsWith('positive')) return null;
  return columns.length === 3 && columns[2].trim().toLowerCase().startsWith('negative') ? 'msmarco-triples' : 'tsv-pairs';
}

/** One TSV line of a known shape → its example. Texts are kept as written; the query id is "<basename>:<line>". */
export function parseTsvRecord(shape: 'tsv-pairs' | 'msmarco-triples', text: string, source: SourceLocation): Example[] {
  const columns = text.split('\t');
  if (shape === 'msmarco-triples') {
    if (columns.length !== 3) throw new LineFault(`expected 3 tab-separated columns (query, positive, negative), got ${columns.length}`);
  } else if (columns.length < 2 || columns.length > 3) {
    throw new LineFault(`expected 2 or 3 tab-separated columns (query, positive[, positive id]), got ${columns.length}`);
  }
  const [query, positiveText, third] = columns;
  if (isBlank(query)) throw new LineFault('empty query');
  if (isBlank(positiveText)) throw new LineFault('empty positive');
  if (shape === 'msmarco-triples') {
    if (isBlank(third)) throw new LineFault('empty negative (column 3)');
    const positive = { id: textItemId(positiveText), text: positiveText, source };
    const negative = { id: textItemId(third), text: third, source };
    return examplesOf(lineQueryId(source), query, [positive], [negative], 'negatives', source);
  }
  if (third !== undefined && isBlank(third)) throw new LineFault('empty positive id (column 3)');
  return [{ queryId: lineQueryId(source), query, positive: { id: third ?? textItemId(positiveText), text: positiveText, source }, negatives: [], source }];
}

/** The container a record parser reads: JSON objects or tab-separated columns. */
export type RecordContainer = 'jsonl' | 'tsv';

/** The data.format values that fix a shape; 'jsonl' and 'tsv' (and 'auto') detect it from the file. */
const FORCED_SHAPES: Partial<Record<string, RecordShape>> = rules.forcedShapes as Record<string, RecordShape>;

/** The container of a concrete file format: tsv and msmarco are TSV, the rest JSONL. */
export function containerOf(format: string): RecordContainer {
  return format === 'tsv' || format === 'msmarco' ? 'tsv' : 'jsonl';
}

/**
 * One file's record parser: `header(text)` is asked about the first non-blank line (true: skip it,
 * uncounted); `parse(text, source)` turns one line into examples, throws a {@link LineFault} for a bad
 * line, or a {@link DataError} when the file's first JSON object matches no known shape. `shape` is the
 * shape found (null until a record decided it) and `how` says why ("detected at line 3", "data.format").
 */
export interface RecordParser {
  header(text: string): boolean;
  parse(text: string, source: SourceLocation): Example[];
  readonly shape: RecordShape | null;
  readonly how: string;
}

/**
 * A record parser for one file of the given concrete format ('jsonl', 'tsv', 'bge', 'sentence-transformers',
 * 'msmarco'); `explicit` false when the format came from data.format "auto" (a *.tsv file then detects its
 * shape). With `fields` (data.fields) every JSONL record is read through the mapping. Otherwise the
 * shape is fixed by the format or detected: JSONL from the first JSON object (pairs / BGE /
 * sentence-transformers), TSV from a header or the first line (3 columns whose third holds text → MS MARCO
 * triples, else pairs with an optional item id; an explicit 'tsv' keeps the item-id reading).
 */
export function recordParser(format: string, fields?: FieldMapping, explicit = true): RecordParser {
  const container = containerOf(format);
  if (fields !== undefined && container === 'tsv') throw new Error('data.fields applies to JSONL files only');
  let shape: RecordShape | null = fields ? 'fields' : explicit || format !== 'tsv' ? (FORCED_SHAPES[format] ?? null) : null;
  let how = fields ? 'data.fields' : shape ? `data.format "${format}"` : '';
  let first = true;
  const decide = (s: RecordShape, source: SourceLocation, why: string): RecordShape => {
    shape = s;
    how = `detected at ${basename(source.file)}:${source.line}${why}`;
    return s;
  };
  return {
    get shape() {
      return shape;
    },
    get how() {
      return how;
    },
    header(text: string): boolean {
      if (container !== 'tsv' || !first) return false;
      first = false;
      const headerShape = tsvHeaderShape(text.split('\t'));
      if (headerShape === null) return false;
      if (shape === null) {
        shape = headerShape;
        how = 'detected from the header line';
      }
      return true;
    },
    parse(text: string, source: SourceLocation): Example[] {
      first = false;
      if (container === 'tsv') {
        const columns = text.split('\t');
        // A line of 2 or 3 columns decides the shape; a malformed first line is a bad line and decides nothing.
        if (shape === null && (columns.length < 2 || columns.length > 3)) return parseTsvRecord('tsv-pairs', text, source);
        const s =
          shape ??
          (thirdColumnIsText(columns)
            ? decide('msmarco-triples', source, ' (column 3 holds text)')
            : decide('tsv-pairs', source, columns.length === 3 ? ' (column 3 holds an id)' : ''));
        return parseTsvRecord(s as 'tsv-pairs' | 'msmarco-triples', text, source);
      }
      const obj = parseJsonObject(text);
      let s = shape;
      if (s === null) {
        const found = jsonlShapeOf(obj);
        if (found === null) {
          if ('query' in obj) throw new LineFault('missing field "positive" (or "pos" for BGE)');
          if ('anchor' in obj) throw new LineFault('missing field "positive"');
          if (SHAPE_HINTS.some((k) => k in obj)) throw new LineFault(`no known shape: saw fields ${Object.keys(obj).join(', ')}; ${EXPECTED_SHAPES}`);
          throw unknownShape(obj, source);
        }
        s = decide(found, source, found === 'pairs' ? pairIdsNote(obj) : '');
      }
      return parseJsonlRecord(s, obj, source, fields);
    },
  };
}

/**
 * The shape of a data set read by one parser per file (shards): the shape of the first file that decided
 * one, named in report.shape and the run log. When the files agree, `how` says so for several files; when
 * they differ, `name` lists every shape and `how` how each was decided. Undefined while no file decided.
 */
export function shapeReport(parsers: readonly RecordParser[]): LoadReport['shape'] {
  const decided = parsers.filter((p) => p.shape !== null);
  if (decided.length === 0) return undefined;
  const first = decided[0];
  const shape = first.shape as RecordShape;
  const distinct = decided.filter((p, i) => decided.findIndex((q) => q.shape === p.shape) === i);
  if (distinct.length === 1) {
    const how = decided.length > 1 ? `${first.how}; the same in ${decided.length} files` : first.how;
    return { shape, how, name: SHAPE_NAMES[shape] };
  }
  return {
    shape,
    how: `files differ: ${distinct.map((p) => `${p.shape} ${p.how}`).join('; ')}`,
    name: distinct.map((p) => SHAPE_NAMES[p.shape as RecordShape]).join(' / '),
  };
}
