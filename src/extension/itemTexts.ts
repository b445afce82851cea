/**
 * Full item texts for the detail view, read on demand from the items' source lines (a format-2 failures
 * file stores only 80-character snippets). Only the needed lines are read (core/data/lineLookup.ts: the
 * block of a plain file by its line index, a gzip file sequentially up to the line), never a whole
 * file: data files can be gigabytes. No VS Code import: unit-tested with real files.
 */
import { itemTextFromLine } from '../core/data/itemText';
import { LineLookup } from '../core/data/lineLookup';
import type { FailureRecord } from '../core/eval/types';

type SourcedItem = { itemId: string; text: string; snippet?: boolean; source: { file: string; line: number } };

export class ItemTextReader {
  constructor(readonly lookup = new LineLookup()) {}

  /** The text of `itemId` on line `line` of `file`; null when the file or that item on the line is gone. */
  async text(file: string, line: number, itemId: string): Promise<string | null> {
    let raw: string | null;
    try {
      raw = await this.lookup.line(file, line);
    } catch {
      return null;
    }
    return raw === null ? null : itemTextFromLine(raw, file, line, itemId);
  }

  /** The record with the full text of every snippet item that can still be read from its line. */
  async withFullTexts(r: FailureRecord): Promise<FailureRecord> {
    const items: SourcedItem[] = [...r.positives, ...r.topK].filter((it) => it.snippet);
    const texts = new Map<SourcedItem, string>();
    const byFile = new Map<string, SourcedItem[]>();
    for (const it of items) byFile.set(it.source.file, [...(byFile.get(it.source.file) ?? []), it]);
    for (const [file, its] of byFile) {
      let lines: Map<number, string>;
      try {
        lines = await this.lookup.lines(
          file,
          its.map((it) => it.source.line),
        );
      } catch {
        continue; // the file is gone or unreadable: the snippets stay
      }
      for (const it of its) {
        const raw = lines.get(it.source.line);
        const text = raw === undefined ? null : itemTextFromLine(raw, file, it.source.line, it.itemId);
        if (text !== null) texts.set(it, text);
      }
    }
    if (texts.size === 0) return r;
    const full = <T extends SourcedItem>(it: T): T => {
      const text = texts.get(it);
      return text === undefined ? it : { ...it, text, snippet: false };
    };
    return { ...r, positives: r.positives.map(full), topK: r.topK.map(full) };
  }
}
