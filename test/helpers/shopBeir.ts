import * as fs from 'fs';
import * as path from 'path';
import { SHOP_CORPUS, SHOP_TEST, SHOP_TRAIN } from './smallExperiment';

/** The first `n` non-blank lines of a JSONL file, parsed. */
function head(file: string, n: number): Record<string, unknown>[] {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .slice(0, n)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/**
 * A BEIR folder (`corpus.jsonl`, `queries.jsonl`, `qrels/train.tsv`, `qrels/test.tsv`) made in `dir` from
 * the bundled shop data: the whole corpus (as `{"_id","title","text"}`), the first `train` training pairs and
 * the first `test` test pairs. Returns the folder.
 */
export function shopBeirFolder(dir: string, sizes: { train?: number; test?: number } = {}): string {
  const out = path.join(dir, 'shop-beir');
  fs.mkdirSync(path.join(out, 'qrels'), { recursive: true });
  const corpus = head(SHOP_CORPUS, Infinity).map((c) => JSON.stringify({ _id: c.id, title: '', text: c.text }));
  fs.writeFileSync(path.join(out, 'corpus.jsonl'), corpus.join('\n') + '\n');
  const queries: string[] = [];
  for (const [split, file, n] of [
    ['train', SHOP_TRAIN, sizes.train ?? 4000],
    ['test', SHOP_TEST, sizes.test ?? 300],
  ] as const) {
    const rows = ['query-id\tcorpus-id\tscore'];
    for (const [i, p] of head(file, n).entries()) {
      const qid = `${split}-${i + 1}`;
      queries.push(JSON.stringify({ _id: qid, text: p.query }));
      rows.push(`${qid}\t${String(p.item_id)}\t1`);
    }
    fs.writeFileSync(path.join(out, 'qrels', `${split}.tsv`), rows.join('\n') + '\n');
  }
  fs.writeFileSync(path.join(out, 'queries.jsonl'), queries.join('\n') + '\n');
  return out;
}
