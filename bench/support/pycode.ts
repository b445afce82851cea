/**
 * The BEIR set /work/shared/datasets/pycode (50,829 Python functions, 5,000 test queries, 39,674 training pairs)
 * as the benchmarks train it: the bundled example's model and loss, batch 256. One writer of that config for
 * bench:heldout and bench:levers.
 */
import * as fs from 'fs';
import * as path from 'path';

export const PYCODE_DEFAULT = '/work/shared/datasets/pycode';

/** Writes `<dir>/<name>.rlens.json` training on `folder` for `steps` steps; null when the folder has no corpus.jsonl / train.jsonl. */
export function writePycodeConfig(folder: string, dir: string, name: string, steps: number): string | null {
  if (!fs.existsSync(path.join(folder, 'corpus.jsonl')) || !fs.existsSync(path.join(folder, 'train.jsonl'))) return null;
  const file = path.join(dir, `${name}.rlens.json`);
  const cfg = {
    name,
    data: { train: path.join(folder, 'train.jsonl'), test: folder },
    model: { vocabBuckets: 65536 },
    loss: { type: 'softmax', adaptive: true, stopGradient: true, symmetric: true },
    training: { batchSize: 256, learningRate: 0.002, steps, logEvery: 10, checkpointEvery: 500 },
    evaluation: { index: { type: 'Flat' } },
  };
  fs.writeFileSync(file, JSON.stringify(cfg, null, 2));
  return file;
}
