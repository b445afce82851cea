import * as path from 'path';
import { startEmbeddingExport } from '../trainer/client';
import type { FromTrainer } from '../trainer/protocol';
import { resolveEvalTarget } from './evalCommand';
import { say, terminalSafeLines, warn } from './terminalText';

export interface ExportEmbeddingsArgs {
  target: string;
  checkpoint?: 'last' | 'best';
  out?: string;
  items: number;
  queries: number;
  projection: 'none' | 'pca' | 'umap';
}

/**
 * `retrieval-lens export-embeddings <run|checkpoint> [--out DIR] [--items N] [--queries N] [--projection pca|umap|none]`:
 * vectors.tsv + metadata.tsv for the TensorBoard projector (default `<run>/eval/embeddings/`), and the 2-D
 * map's spread, in the background trainer process.
 */
export async function exportEmbeddingsCommand(args: ExportEmbeddingsArgs): Promise<number> {
  const job = resolveEvalTarget(args.target, args.checkpoint);
  const outDir = path.resolve(args.out ?? path.join(job.runDir, 'eval', 'embeddings'));
  let result: Extract<FromTrainer, { type: 'embeddings' }> | null = null;
  const handle = startEmbeddingExport(
    { runDir: job.runDir, checkpoint: job.checkpoint, outDir, items: args.items, queries: args.queries, projection: args.projection },
    (m) => {
      if (m.type === 'log' && m.level !== 'debug') say(`[${m.level}] ${m.message}`);
      else if (m.type === 'error') warn(`error: ${m.message}`);
      else if (m.type === 'embeddings') result = m;
    },
    { onOutput: (s) => process.stderr.write(terminalSafeLines(s)) },
  );
  const onSigint = () => handle.stop();
  process.on('SIGINT', onSigint);
  const done = await handle.done;
  process.off('SIGINT', onSigint);
  const r = result as Extract<FromTrainer, { type: 'embeddings' }> | null;
  if (r) {
    say(`${r.count} points (step ${r.step}) → ${r.vectors}\n${' '.repeat(String(r.count).length + 20)}${r.metadata}`);
    say('load both at https://projector.tensorflow.org (Load → vectors, then metadata)');
    if (r.map) {
      const extra = r.map.explained
        ? `, axes explain ${(100 * r.map.explained[0]).toFixed(1)}% + ${(100 * r.map.explained[1]).toFixed(1)}% of a total variance ${r.map.totalVariance!.toFixed(4)}`
        : '';
      say(`${r.map.method.toUpperCase()} map: spread (RMS distance from the centroid) ${r.map.spread.toFixed(4)}${extra}`);
    }
  }
  if (!done) warn(`error: ${handle.failure?.message ?? 'the export process ended without reporting the end of its job'}`);
  return done?.status === 'completed' ? 0 : 1;
}
