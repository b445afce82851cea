import { parseCorpusLine } from './corpusJsonl';
import { examplesOfAnyLine } from './formats';
import type { FieldMapping } from './types';

/**
 * The text of item `itemId` as written on one line of a data file (the line an item's source location
 * names): a corpus line (`{"id","text"}`, BEIR `{"_id","title","text"}`), a JSONL pair line (its positive
 * or one of its negatives, in any record shape: pairs, BGE, sentence-transformers, `fields` when data.fields
 * is set) or a TSV line (pairs or MS MARCO triples). null when the line holds no such item (the file changed).
 */
export function itemTextFromLine(lineText: string, file: string, line: number, itemId: string, fields?: FieldMapping): string | null {
  const source = { file, line };
  const attempts: (() => string | null)[] = file.toLowerCase().endsWith('.tsv')
    ? [() => itemOfLine(lineText, source, true, itemId)]
    : [
        () => itemOfLine(lineText, source, false, itemId, fields),
        () => {
          const it = parseCorpusLine(lineText, source);
          return it.id === itemId ? it.text : null;
        },
      ];
  for (const attempt of attempts) {
    try {
      const text = attempt();
      if (text !== null) return text;
    } catch {
      /* not this kind of line */
    }
  }
  return null;
}

/** The text of item `itemId` among the positives and negatives of one line's examples, or null. */
function itemOfLine(lineText: string, source: { file: string; line: number }, tsv: boolean, itemId: string, fields?: FieldMapping): string | null {
  for (const e of examplesOfAnyLine(lineText, source, tsv, fields)) {
    const found = [e.positive, ...e.negatives].find((it) => it.id === itemId);
    if (found) return found.text;
  }
  return null;
}
