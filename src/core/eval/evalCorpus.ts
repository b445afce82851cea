/**
 * The corpus an evaluation searches, without all of its texts in memory: ids and source locations for every
 * row (what rankings, failure records and the index cache need), items streamed in row order in batches (for
 * encoding and BM25), and the texts of chosen rows fetched in one pass (for the failing queries' top-k).
 * A corpus file (data.corpus, a BEIR corpus.jsonl) is read again for each pass; the items of the train and
 * test data (no data.corpus) are in memory anyway and are served from there.
 */
import { createHash, type Hash } from 'crypto';
import { streamCorpus } from '../data/load';
import { parseCorpusLine } from '../data/corpusJsonl';
import { readLines } from '../data/lineReader';
import { LineFault } from '../data/lineFields';
import type { DataSpec, Item, LoadReport, SourceLocation } from '../data/types';

export interface EvalCorpus {
  readonly count: number;
  /** Item id of every row (row = faiss label). */
  readonly ids: readonly string[];
  /** sha256 over every row's id and text, in row order (the index cache key; see {@link corpusFingerprint}). */
  readonly fingerprint: string;
  /** Where row `row` is written (file, 1-based line). */
  source(row: number): SourceLocation;
  /** Every row in order, `size` items at a time. */
  batches(size: number): AsyncGenerator<Item[]>;
  /** The items of the given rows, in the order asked (one pass over a corpus file). */
  items(rows: readonly number[]): Promise<Item[]>;
}

/** Adds one item to a corpus fingerprint: id \0 text \n (the format of {@link corpusFingerprint}). */
function hashItem(h: Hash, it: Item): void {
  h.update(it.id).update('\0').update(it.text).update('\n');
}

/** The fingerprint of items in order: sha256 over id \0 text \n of each. */
export function corpusFingerprint(items: readonly Item[]): string {
  const h = createHash('sha256');
  for (const it of items) hashItem(h, it);
  return h.digest('hex');
}

/** A corpus held in memory (the items of the train and test data, or a test's hand-made list). */
export function memoryCorpus(items: readonly Item[]): EvalCorpus {
  const ids = items.map((it) => it.id);
  return {
    count: items.length,
    ids,
    fingerprint: corpusFingerprint(items),
    source: (row) => items[row].source,
    async *batches(size: number) {
      for (let s = 0; s < items.length; s += size) yield items.slice(s, s + size);
    },
    items: async (rows) => rows.map((r) => items[r]),
  };
}

/** Grows an Int32Array by doubling. */
class IntList {
  data = new Int32Array(1024);
  length = 0;
  push(v: number): void {
    if (this.length === this.data.length) {
      const next = new Int32Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = v;
  }
}

/**
 * A corpus file streamed from disk: one pass now reads the ids, lines and fingerprint (and checks the bad-line
 * share, like loadCorpus); `extra` items (relevant items of the test data missing from the file) follow the
 * file's rows. Later passes read the file again and fail loudly when it changed meanwhile.
 */
export async function fileCorpus(spec: DataSpec, extra: (ids: ReadonlySet<string>) => Item[] = () => []): Promise<{ corpus: EvalCorpus; report: LoadReport }> {
  const ids: string[] = [];
  const lines = new IntList();
  const h = createHash('sha256');
  const { report, file } = await streamCorpus(spec, (it) => {
    ids.push(it.id);
    lines.push(it.source.line);
    hashItem(h, it);
  });
  const fileRows = ids.length;
  const added = extra(new Set(ids));
  for (const it of added) {
    ids.push(it.id);
    hashItem(h, it);
  }
  const lineOf = lines.data.subarray(0, fileRows);

  /** Reads the file again, yielding [row, item] for every row of the file (in order). */
  async function* fileRowsAgain(): AsyncGenerator<[number, Item]> {
    let row = 0;
    for await (const { text, line } of readLines(file)) {
      if (row >= fileRows) break;
      if (line !== lineOf[row]) continue;
      let item: Item;
      try {
        item = parseCorpusLine(text, { file, line });
      } catch (err) {
        if (!(err instanceof LineFault)) throw err;
        item = { id: '', text: '', source: { file, line } };
      }
      if (item.id !== ids[row]) throw new Error(`${file}:${line}: the corpus changed during the evaluation (expected item "${ids[row]}" on this line)`);
      yield [row, item];
      row++;
    }
    if (row < fileRows) throw new Error(`${file}: the corpus changed during the evaluation (it now ends before line ${lineOf[row]})`);
  }

  const corpus: EvalCorpus = {
    count: ids.length,
    ids,
    fingerprint: h.digest('hex'),
    source: (row) => (row < fileRows ? { file, line: lineOf[row] } : added[row - fileRows].source),
    async *batches(size: number) {
      let batch: Item[] = [];
      for await (const [, item] of fileRowsAgain()) {
        batch.push(item);
        if (batch.length === size) {
          yield batch;
          batch = [];
        }
      }
      for (const it of added) {
        batch.push(it);
        if (batch.length === size) {
          yield batch;
          batch = [];
        }
      }
      if (batch.length > 0) yield batch;
    },
    async items(rows) {
      const wanted = new Map<number, Item | null>();
      for (const r of rows) if (r < fileRows) wanted.set(r, null);
      if (wanted.size > 0) {
        for await (const [row, item] of fileRowsAgain()) if (wanted.has(row)) wanted.set(row, item);
      }
      return rows.map((r) => (r < fileRows ? wanted.get(r)! : added[r - fileRows]));
    },
  };
  return { corpus, report };
}
