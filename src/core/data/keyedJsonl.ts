import type { SourceLocation } from './types';
import type { LineTally } from './badLines';
import { isBlank, readLines } from './lineReader';
import { LineFault, optionalId } from './lineFields';

/** Reads the id of a corpus or queries record: "_id" (BEIR) or "id"; faults when neither is there. */
export function recordId(obj: Record<string, unknown>): string {
  const id = optionalId(obj, '_id') ?? optionalId(obj, 'id');
  if (id === undefined) throw new LineFault('missing field "_id" (or "id")');
  return id;
}

/**
 * Streams a JSONL file of records keyed by id and returns them by id, in file order. A record
 * whose id was already seen is dropped: the first occurrence wins and keeps its location. Blank
 * lines are skipped; other lines count in `tally`, and lines `parse` rejects with a LineFault are
 * recorded there as bad.
 */
export async function readKeyedJsonl<T>(
  file: string,
  tally: LineTally,
  parse: (text: string, source: SourceLocation) => { id: string; value: T },
): Promise<Map<string, T>> {
  const records = new Map<string, T>();
  for await (const { text, line, encodingFault } of readLines(file)) {
    if (isBlank(text)) continue;
    tally.countLine();
    try {
      if (encodingFault) throw new LineFault(encodingFault);
      const { id, value } = parse(text, { file, line });
      if (!records.has(id)) records.set(id, value);
    } catch (err) {
      if (!(err instanceof LineFault)) throw err;
      tally.addBad(file, line, err.message);
    }
  }
  return records;
}
