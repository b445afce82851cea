/**
 * Full item texts for the detail view, read on demand from the items' source lines (a format-2 failures
 * file stores only 80-character snippets). Only the needed lines are read (core/data/lineLookup.ts: the
 * block of a plain file by its line index, a gzip file sequentially up to the line), never a whole
 * file: data files can be gigabytes. Each line is parsed by the record parser of its file under the
 * run's data.format and data.fields (formats.ts, as training and evaluation read it), so every supported
 * shape shows its full text. No VS Code import: unit-tested with real files.
 */
import * as path from 'path';
import { itemTextFromLine, lineParserOf, type DataReading } from '../../core/data/itemText';
import { LineLookup } from '../../core/data/lineLookup';
import type { FailureRecord } from '../../core/eval/types';
import { CONFIG_FILE } from '../../core/runs/meta';
import type { RecordParser } from '../../core/data/formats';
import { readJsonSync } from '../../core/io/safeRead';

type SourcedItem = { itemId: string; text: string; snippet?: boolean; source: { file: string; line: number } };

/**
 * data.format and data.fields of a run (its config.json), as far as they are readable; {} when the file is
 * missing or unreadable (then the format follows the file name and the shape is detected per line).
 */
export function runDataReading(runDir: string): DataReading {
  try {
    const config = readJsonSync(path.join(runDir, CONFIG_FILE), 'config.json') as { data?: { format?: unknown; fields?: unknown } } | null;
    const data = config?.data;
    const reading: DataReading = {};
    if (typeof data?.format === 'string') reading.format = data.format as DataReading['format'];
    const f = data?.fields as Record<string, unknown> | undefined;
    if (f && typeof f === 'object' && typeof f.query === 'string' && typeof f.positive === 'string') reading.fields = f as unknown as DataReading['fields'];
    return reading;
  } catch {
    return {};
  }
}

export class ItemTextReader {
  constructor(readonly lookup = new LineLookup()) {}

  /** The record parser of `file` under `reading`, shown the file's first data line (null: a corpus file). */
  private async parserOf(file: string, reading: DataReading): Promise<RecordParser | null> {
    return lineParserOf(file, await this.lookup.firstDataLine(file), reading);
  }

  /** The text of `itemId` on line `line` of `file`; null when the file or that item on the line is gone. */
  async text(file: string, line: number, itemId: string, reading: DataReading = {}): Promise<string | null> {
    try {
      const raw = await this.lookup.line(file, line);
      return raw === null ? null : itemTextFromLine(raw, file, line, itemId, await this.parserOf(file, reading));
    } catch {
      return null;
    }
  }

  /**
   * The record with the full text of every snippet item that can still be read from its line, read as the
   * run read its data (`reading`: its data.format and data.fields, see {@link runDataReading}). Returns `r`
   * itself when no text was read.
   */
  async withFullTexts(r: FailureRecord, reading: DataReading = {}): Promise<FailureRecord> {
    const items: SourcedItem[] = [...r.positives, ...r.topK].filter((it) => it.snippet);
    const texts = new Map<SourcedItem, string>();
    const byFile = new Map<string, SourcedItem[]>();
    for (const it of items) byFile.set(it.source.file, [...(byFile.get(it.source.file) ?? []), it]);
    for (const [file, its] of byFile) {
      let lines: Map<number, string>;
      let parser: RecordParser | null;
      try {
        lines = await this.lookup.lines(
          file,
          its.map((it) => it.source.line),
        );
        parser = await this.parserOf(file, reading);
      } catch {
        continue; // the file is gone or unreadable: the snippets stay
      }
      for (const it of its) {
        const raw = lines.get(it.source.line);
        const text = raw === undefined ? null : itemTextFromLine(raw, file, it.source.line, it.itemId, parser);
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
