import { basename } from 'node:path';
import type { Example, Item, SourceLocation } from './types';
import type { LineTally } from './badLines';
import { isBlank, readLines } from './lineReader';
import { textItemId } from './itemId';
import { LineFault, isObject, optionalId, parseJsonObject, requiredString } from './lineFields';

/**
 * Reads an item reference of a JSONL pair: a plain string (the text) or {"id"?, "text"}.
 * `label` names it in fault messages ("positive", "negatives[2]"); `fallbackId` (item_id) is
 * used when the object carries no id of its own. Items without any id get {@link textItemId}.
 */
function parseItemRef(value: unknown, label: string, source: SourceLocation, fallbackId?: string): Item {
  const shape = `${label === 'positive' ? 'field "positive"' : label} must be a string or an object with "text"`;
  let text: string;
  let ownId: string | undefined;
  if (typeof value === 'string') {
    text = value;
  } else if (isObject(value) && typeof value.text === 'string') {
    text = value.text;
    ownId = optionalId(value, 'id', `${label}.id`);
  } else {
    throw new LineFault(shape);
  }
  if (isBlank(text)) throw new LineFault(`empty ${label}`);
  if (ownId !== undefined && fallbackId !== undefined && ownId !== fallbackId) {
    throw new LineFault(`field "item_id" ("${fallbackId}") differs from positive.id ("${ownId}")`);
  }
  return { id: ownId ?? fallbackId ?? textItemId(text), text, source };
}

/**
 * Parses one JSONL pair line into an Example, or throws a {@link LineFault} naming the problem.
 * The default query id is "<basename>:<line>".
 */
export function parsePairLine(text: string, source: SourceLocation): Example {
  const obj = parseJsonObject(text);
  const query = requiredString(obj, 'query');
  if (isBlank(query)) throw new LineFault('empty query');
  if (obj.positive === undefined) throw new LineFault('missing field "positive"');
  const queryId = optionalId(obj, 'query_id') ?? `${basename(source.file)}:${source.line}`;
  const positive = parseItemRef(obj.positive, 'positive', source, optionalId(obj, 'item_id'));
  const negatives: Item[] = [];
  if (obj.negatives !== undefined && obj.negatives !== null) {
    if (!Array.isArray(obj.negatives)) throw new LineFault('field "negatives" must be an array');
    obj.negatives.forEach((value: unknown, i: number) => {
      const negative = parseItemRef(value, `negatives[${i}]`, source);
      if (negative.id === positive.id) {
        throw new LineFault(`negatives[${i}] is the positive item itself (id "${positive.id}")`);
      }
      negatives.push(negative);
    });
  }
  return { queryId, query, positive, negatives, source };
}

/**
 * Streams a JSONL pairs file (`{"query", "positive", "negatives"?, "query_id"?, "item_id"?}` per
 * line). Blank lines are skipped silently; every other line is counted in `tally`, and unusable
 * ones are recorded there with their 1-based line and reason. `file` must be absolute.
 */
export async function readJsonlPairs(file: string, tally: LineTally): Promise<Example[]> {
  const examples: Example[] = [];
  for await (const { text, line, encodingFault } of readLines(file)) {
    if (isBlank(text)) continue;
    tally.countLine();
    try {
      if (encodingFault) throw new LineFault(encodingFault);
      examples.push(parsePairLine(text, { file, line }));
    } catch (err) {
      if (!(err instanceof LineFault)) throw err;
      tally.addBad(file, line, err.message);
    }
  }
  return examples;
}
