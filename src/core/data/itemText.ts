import { parseCorpusLine } from './corpusJsonl';
import { parsePairLine } from './jsonl';
import { parseTsvLine } from './tsv';

/**
 * The text of item `itemId` as written on one line of a data file (the line an item's source location
 * names): a corpus line (`{"id","text"}`, BEIR `{"_id","title","text"}`), a JSONL pair line (its positive
 * or one of its negatives) or a TSV pair line. null when the line holds no such item (the file changed).
 */
export function itemTextFromLine(lineText: string, file: string, line: number, itemId: string): string | null {
  const source = { file, line };
  const attempts: (() => string | null)[] = file.toLowerCase().endsWith('.tsv')
    ? [
        () => {
          const e = parseTsvLine(lineText, file, line);
          return e.positive.id === itemId ? e.positive.text : null;
        },
      ]
    : [
        () => {
          const e = parsePairLine(lineText, source);
          return [e.positive, ...e.negatives].find((it) => it.id === itemId)?.text ?? null;
        },
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
