import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

export const SHOP_TRAIN = path.resolve(__dirname, '../../examples/shop/data/train.jsonl');
export const SHOP_TEST = path.resolve(__dirname, '../../examples/shop/data/test.jsonl');
export const SHOP_CORPUS = path.resolve(__dirname, '../../examples/shop/data/corpus.jsonl');

/** One field of every line of a bundled example file (JSONL): the corpus's texts, the test set's queries. */
export function shopField(file: string, field: string): string[] {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => (JSON.parse(l) as Record<string, string>)[field]);
}

/** A temp folder with a small, fast experiment config (JSON with comments) over the bundled shop data. */
export function smallExperiment(extra: { training?: object; loss?: object; data?: object; evaluation?: object; backend?: string } = {}): {
  dir: string;
  config: string;
  runs: string;
} {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rlens-test-'));
  const config = path.join(dir, 'small.rlens.json');
  const body = {
    name: 'small',
    data: { train: SHOP_TRAIN, ...extra.data },
    model: { vocabBuckets: 4096, embeddingDim: 16, hiddenDim: 32, outputDim: 16 },
    loss: { ...extra.loss },
    training: { batchSize: 32, learningRate: 0.01, steps: 40, logEvery: 5, checkpointEvery: 20, ...extra.training },
    ...(extra.evaluation ? { evaluation: extra.evaluation } : {}),
    backend: extra.backend ?? 'wasm',
    output: { runsDir: 'runs' },
  };
  fs.writeFileSync(config, `// small test experiment\n${JSON.stringify(body, null, 2)}\n`);
  return { dir, config, runs: path.join(dir, 'runs') };
}
