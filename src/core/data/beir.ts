import { join } from 'node:path';
import type { Example, Item, SourceLocation } from './types';
import type { LineTally } from './badLines';
import { isBlank, readLines } from './lineReader';
import { LineFault, parseJsonObject, requiredString } from './lineFields';
import { readKeyedJsonl, recordId } from './keyedJsonl';
import { readCorpusJsonl } from './corpusJsonl';

/** The files of a BEIR folder for one qrels split (absolute paths). */
export interface BeirFiles {
  corpus: string;
  queries: string;
  qrels: string;
}

/** Paths of corpus.jsonl, queries.jsonl and qrels/<split>.tsv inside a BEIR folder. */
export function beirFiles(folder: string, split: string): BeirFiles {
  return {
    corpus: join(folder, 'corpus.jsonl'),
    queries: join(folder, 'queries.jsonl'),
    qrels: join(folder, 'qrels', `${split}.tsv`),
  };
}

/** One query of queries.jsonl with the location of its line. */
export interface QueryRecord {
  text: string;
  source: SourceLocation;
}

/** Streams a BEIR queries.jsonl (`{"_id", "text"}` per line) into queries by id, first occurrence winning. */
export async function readQueriesJsonl(file: string, tally: LineTally): Promise<Map<string, QueryRecord>> {
  return readKeyedJsonl(file, tally, (text, source) => {
    const obj = parseJsonObject(text);
    const id = recordId(obj);
    const query = requiredString(obj, 'text');
    if (isBlank(query)) throw new LineFault('empty text');
    return { id, value: { text: query, source } };
  });
}

/** True for the qrels header line "query-id\tcorpus-id\tscore". */
function isQrelsHeader(columns: string[]): boolean {
  return columns[0].trim().toLowerCase() === 'query-id';
}

/**
 * Streams qrels/<split>.tsv (`query-id \t corpus-id \t score`, optional header) and returns one
 * Example per relevant pair (score > 0), in file order. example.source is the query's line in
 * queries.jsonl and positive.source the item's line in corpus.jsonl. Rows naming unknown ids,
 * rows with a non-numeric score and repeated pairs are bad lines of the qrels file; rows with
 * score <= 0 are read but yield nothing.
 */
export async function readQrels(file: string, queries: Map<string, QueryRecord>, corpus: Map<string, Item>, tally: LineTally): Promise<Example[]> {
  const examples: Example[] = [];
  const seen = new Map<string, number>();
  let first = true;
  for await (const { text, line, encodingFault } of readLines(file)) {
    if (isBlank(text)) continue;
    const columns = text.split('\t');
    if (first) {
      first = false;
      if (isQrelsHeader(columns)) continue;
    }
    tally.countLine();
    try {
      if (encodingFault) throw new LineFault(encodingFault);
      if (columns.length !== 3) {
        throw new LineFault(`expected 3 tab-separated columns (query-id, corpus-id, score), got ${columns.length}`);
      }
      const [queryId, itemId, scoreText] = columns.map((c) => c.trim());
      if (queryId === '') throw new LineFault('empty query-id');
      if (itemId === '') throw new LineFault('empty corpus-id');
      const score = scoreText === '' ? NaN : Number(scoreText);
      if (!Number.isFinite(score)) throw new LineFault(`score "${scoreText}" is not a number`);
      const query = queries.get(queryId);
      if (query === undefined) throw new LineFault(`unknown query-id "${queryId}" (not in queries.jsonl)`);
      const item = corpus.get(itemId);
      if (item === undefined) throw new LineFault(`unknown corpus-id "${itemId}" (not in corpus.jsonl)`);
      const key = JSON.stringify([queryId, itemId]);
      const earlier = seen.get(key);
      if (earlier !== undefined) throw new LineFault(`repeats the pair of line ${earlier}`);
      seen.set(key, line);
      if (score > 0) {
        examples.push({ queryId, query: query.text, positive: item, negatives: [], source: query.source });
      }
    } catch (err) {
      if (!(err instanceof LineFault)) throw err;
      tally.addBad(file, line, err.message);
    }
  }
  return examples;
}

/** The tallies of a BEIR load, one per role: each file's bad-line share is checked on its own. */
export interface BeirTallies {
  corpus: LineTally;
  queries: LineTally;
  /** Its bad lines are qrels rows that yielded no pair (lost training/test pairs). */
  qrels: LineTally;
}

/**
 * Reads a BEIR folder for one split: corpus.jsonl, queries.jsonl, then qrels/<split>.tsv, each
 * counted in its own tally (a few bad qrels rows are many lost pairs, which the thousands of
 * corpus lines must not dilute). The caller checks that the files exist.
 */
export async function readBeirExamples(files: BeirFiles, tallies: BeirTallies): Promise<Example[]> {
  const corpus = await readCorpusJsonl(files.corpus, tallies.corpus);
  const queries = await readQueriesJsonl(files.queries, tallies.queries);
  return readQrels(files.qrels, queries, corpus, tallies.qrels);
}
