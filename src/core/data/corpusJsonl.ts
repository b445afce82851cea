import type { Item, SourceLocation } from './types';
import type { LineTally } from './badLines';
import { isBlank } from './lineReader';
import { LineFault, optionalString, parseJsonObject, requiredString } from './lineFields';
import { readKeyedJsonl, recordId } from './keyedJsonl';

/**
 * Parses one corpus line, `{"id", "text"}` or BEIR's `{"_id", "title"?, "text"}`, into an Item.
 * The item text is title + " " + text when the title is non-empty.
 */
export function parseCorpusLine(text: string, source: SourceLocation): Item {
  const obj = parseJsonObject(text);
  const id = recordId(obj);
  const body = requiredString(obj, 'text');
  const title = optionalString(obj, 'title');
  const full = title !== undefined && !isBlank(title) ? (isBlank(body) ? title : `${title} ${body}`) : body;
  if (isBlank(full)) throw new LineFault('empty text');
  return { id, text: full, source };
}

/**
 * Streams a corpus JSONL file (see {@link parseCorpusLine}) into items by id, in file order;
 * duplicate ids are dropped (first occurrence wins). `file` must be absolute.
 */
export async function readCorpusJsonl(file: string, tally: LineTally): Promise<Map<string, Item>> {
  return readKeyedJsonl(file, tally, (text, source) => {
    const item = parseCorpusLine(text, source);
    return { id: item.id, value: item };
  });
}
