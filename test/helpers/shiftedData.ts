import * as fs from 'fs';
import * as path from 'path';
import * as zlib from 'zlib';

/**
 * Data whose held-out recall peaks early and then falls while the in-batch task saturates, by construction:
 * 200 items "k<i> z<i>", held-out queries "k<i>" → item i. The training file (gzip: read as one sequential
 * block, so with a small shuffle buffer its order is kept) first pairs "k<i>" with item i (`aligned` rounds:
 * held-out recall rises), then with item i+1 (`shifted` rounds: the model learns the shifted mapping, the
 * in-batch task saturates and held-out recall falls).
 */
export function writeShiftedData(dir: string, aligned = 3, shifted = 20): { train: string; test: string; corpus: string } {
  const N = 200;
  const word = (i: number, s: string) => `${s}${(i * 7919 + 13).toString(36)}x${i}`;
  const items = Array.from({ length: N }, (_, i) => ({ id: `item${i}`, text: `${word(i, 'k')} ${word(i, 'z')}` }));
  const jsonl = (rows: object[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
  const files = { train: path.join(dir, 'train.jsonl.gz'), test: path.join(dir, 'test.jsonl'), corpus: path.join(dir, 'corpus.jsonl') };
  fs.writeFileSync(files.corpus, jsonl(items));
  fs.writeFileSync(files.test, jsonl(items.map((it, i) => ({ query_id: `q${i}`, query: word(i, 'k'), positive: it }))));
  const pairs: object[] = [];
  for (let r = 0; r < aligned; r++) for (let i = 0; i < N; i++) pairs.push({ query: word(i, 'k'), positive: items[i] });
  for (let r = 0; r < shifted; r++) for (let i = 0; i < N; i++) pairs.push({ query: word(i, 'k'), positive: items[(i + 1) % N] });
  fs.writeFileSync(files.train, zlib.gzipSync(jsonl(pairs)));
  return files;
}
