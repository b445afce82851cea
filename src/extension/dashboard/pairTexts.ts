/**
 * The drill-down's texts (src/webview/dashboard/drilldown/): the query and item texts of step-sample references,
 * read on demand from their lines as the failure detail reads them (failures/itemTexts.ts: the line index, only
 * the needed blocks, each line parsed as the run read its data). Only files inside the folders of the run's data
 * paths (config.json data.train / test / corpus) are read: a reference names a file, and a run folder is data.
 * No VS Code import: unit-tested with real files.
 */
import * as fs from 'fs';
import * as path from 'path';
import { lineParserOf, queryTextFromLine } from '../../core/data/itemText';
import { CONFIG_FILE } from '../../core/runs/meta';
import { readJsonSync } from '../../core/io/safeRead';
import { loadConfig } from '../../core/config/loadConfig';
import { duplicateGroups, type DuplicateReport } from '../../core/data/duplicateGroups';
import { openTrainingData } from '../../core/training/trainingData';
import type { PairTextRef } from '../../webview/dashboard/protocol';
import { ItemTextReader, runDataReading } from '../failures/itemTexts';

/** The folders a run's data paths name (a BEIR folder itself; a file's or glob's folder), absolute. */
export function runDataFolders(runDir: string): string[] {
  let data: Record<string, unknown>;
  try {
    const c = readJsonSync(path.join(runDir, CONFIG_FILE), 'config.json') as { data?: Record<string, unknown> } | null;
    data = c?.data ?? {};
  } catch {
    return [];
  }
  const paths = [data.train, data.test, data.corpus].flat().filter((p): p is string => typeof p === 'string' && path.isAbsolute(p));
  return paths.map((p) => {
    const glob = p.search(/[*?[{]/);
    if (glob >= 0) return path.dirname(p.slice(0, glob) + 'x'); // the folder of the first wildcard's segment
    return isFolder(p) ? p : path.dirname(p);
  });
}

function isFolder(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

const inside = (file: string, folder: string) => {
  const rel = path.relative(folder, file);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
};

/** Whether `file` lies inside a folder of the run's data paths (the only files the drill-down reads or opens). */
export function isRunDataFile(runDir: string, file: string): boolean {
  const abs = path.resolve(file);
  return runDataFolders(runDir).some((f) => inside(abs, f));
}

export class PairTextReader {
  private readonly items = new ItemTextReader();

  /** The texts of `refs` in their order: null when a file is outside the run's data folders, gone, or the line holds no such record. */
  async texts(runDir: string, refs: readonly PairTextRef[]): Promise<(string | null)[]> {
    const reading = runDataReading(runDir);
    const out: (string | null)[] = [];
    for (const r of refs) {
      const file = path.resolve(r.file);
      if (!isRunDataFile(runDir, file)) {
        out.push(null);
        continue;
      }
      if (r.kind === 'item') out.push(await this.items.text(file, r.line, r.id, reading));
      else out.push(await this.queryText(file, r.line, r.id, reading));
    }
    return out;
  }

  private async queryText(file: string, line: number, id: string, reading: ReturnType<typeof runDataReading>): Promise<string | null> {
    try {
      const raw = await this.items.lookup.line(file, line);
      if (raw === null) return null;
      return queryTextFromLine(raw, file, line, id, lineParserOf(file, await this.items.lookup.firstDataLine(file), reading));
    } catch {
      return null;
    }
  }
}

/** The duplicate groups of a run's training data (its config.json's data.train, one streamed pass). */
export async function runDuplicateGroups(runDir: string): Promise<{ report: DuplicateReport; source: string }> {
  const loaded = loadConfig(path.join(runDir, CONFIG_FILE));
  const data = await openTrainingData(loaded);
  try {
    return { report: await duplicateGroups(data.source.epoch(0)), source: data.report.path };
  } finally {
    await data.source.close();
  }
}
