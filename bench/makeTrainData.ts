/**
 * Writes a large JSONL pairs file from the bundled example (examples/shop/data/train.jsonl) for the
 * data benchmark: pair k is line (k mod n) of the example with ids made unique per copy
 * (`tr-19037~3`, `p01238~3`) and the positive's text lengthened with five other products' texts,
 * so that a pair is ≈ 500 bytes like the issue's files (0.5 GB per million pairs).
 *   node --import tsx bench/makeTrainData.ts <pairs> <out.jsonl> [--shards N] [--gzip]
 * With --shards the pairs are split into N files `<out>-00001.jsonl` … (consecutive lines).
 */
import { createWriteStream, readFileSync } from 'node:fs';
import { once } from 'node:events';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { createGzip } from 'node:zlib';

const EXAMPLE = path.resolve(__dirname, '../examples/shop/data/train.jsonl');

interface Pair {
  query_id: string;
  query: string;
  positive: string;
  item_id: string;
  negatives?: { id: string; text: string }[];
}

/** The example's pairs. */
function examplePairs(): Pair[] {
  return readFileSync(EXAMPLE, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Pair);
}

/** Line k of the generated data (without the newline). */
export function pairLine(base: Pair[], k: number): string {
  const n = base.length;
  const p = base[k % n];
  const copy = Math.floor(k / n);
  const tag = copy === 0 ? '' : `~${copy}`;
  const extra = [7, 13, 17, 19, 23].map((m, i) => base[(k * m + i + 1) % n].positive).join(' ');
  const out: Pair = { query_id: `${p.query_id}${tag}`, query: p.query, positive: `${p.positive} ${extra}`, item_id: `${p.item_id}${tag}` };
  if (p.negatives) out.negatives = p.negatives.map((x) => ({ id: `${x.id}${tag}`, text: x.text }));
  return JSON.stringify(out);
}

/** Writes `pairs` lines into `shards` files (one when 1: `file` itself); returns the files. */
export async function makeTrainData(pairs: number, file: string, opts: { shards?: number; gzip?: boolean } = {}): Promise<string[]> {
  const base = examplePairs();
  const shards = opts.shards ?? 1;
  const files: string[] = [];
  const per = Math.ceil(pairs / shards);
  for (let s = 0; s < shards; s++) {
    const name = shards === 1 ? file : file.replace(/\.jsonl$/, `-${String(s + 1).padStart(5, '0')}.jsonl`);
    const target = opts.gzip ? `${name}.gz` : name;
    const out = createWriteStream(target);
    const gz = opts.gzip ? createGzip() : null;
    if (gz) gz.pipe(out);
    const sink = gz ?? out;
    let chunk: string[] = [];
    for (let k = s * per; k < Math.min(pairs, (s + 1) * per); k++) {
      chunk.push(pairLine(base, k));
      if (chunk.length === 2000) {
        if (!sink.write(chunk.join('\n') + '\n')) await once(sink, 'drain');
        chunk = [];
      }
    }
    if (chunk.length) sink.write(chunk.join('\n') + '\n');
    sink.end();
    await once(out, 'close');
    files.push(target);
  }
  return files;
}

if (require.main === module) {
  const { positionals, values } = parseArgs({ allowPositionals: true, options: { shards: { type: 'string' }, gzip: { type: 'boolean' } } });
  const [pairs, out] = positionals;
  if (!pairs || !out) {
    console.error('usage: makeTrainData.ts <pairs> <out.jsonl> [--shards N] [--gzip]');
    process.exit(2);
  }
  void makeTrainData(Number(pairs), path.resolve(out), { shards: values.shards ? Number(values.shards) : 1, gzip: values.gzip }).then((files) =>
    console.log(files.join('\n')),
  );
}
