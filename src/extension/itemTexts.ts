/**
 * Full item texts for the detail view, read on demand from the items' source lines (a format-2 failures
 * file stores only 80-character snippets). Each data file is read once and kept while its mtime and size
 * are unchanged. No VS Code import: unit-tested with real files.
 */
import * as fs from 'fs';
import { itemTextFromLine } from '../core/data/itemText';
import type { FailureRecord } from '../core/eval/types';

export class ItemTextReader {
  private readonly files = new Map<string, { stamp: string; lines: string[] }>();

  constructor(private readonly maxFiles = 4) {}

  private linesOf(file: string): string[] | null {
    let stamp: string;
    try {
      const st = fs.statSync(file);
      stamp = `${st.mtimeMs}:${st.size}`;
    } catch {
      return null;
    }
    const cached = this.files.get(file);
    if (cached?.stamp === stamp) return cached.lines;
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    this.files.delete(file);
    this.files.set(file, { stamp, lines });
    while (this.files.size > this.maxFiles) this.files.delete(this.files.keys().next().value as string);
    return lines;
  }

  /** The text of `itemId` on line `line` of `file`; null when the file or that item on the line is gone. */
  text(file: string, line: number, itemId: string): string | null {
    const lines = this.linesOf(file);
    const raw = lines?.[line - 1];
    return raw === undefined ? null : itemTextFromLine(raw.replace(/\r$/, ''), file, line, itemId);
  }

  /** The record with the full text of every snippet item that can still be read from its line. */
  withFullTexts(r: FailureRecord): FailureRecord {
    const full = <T extends { itemId: string; text: string; snippet?: boolean; source: { file: string; line: number } }>(it: T): T => {
      if (!it.snippet) return it;
      const text = this.text(it.source.file, it.source.line, it.itemId);
      return text === null ? it : { ...it, text, snippet: false };
    };
    return { ...r, positives: r.positives.map(full), topK: r.topK.map(full) };
  }
}
