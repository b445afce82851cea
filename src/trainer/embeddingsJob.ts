import { initBackend } from '../core/backend';
import { exportProjectorTsv, pca2, sampleEmbeddings, spread2, umap2 } from '../core/embeddingMap';
import { loadRunConfig } from '../core/eval/evaluateRun';
import { ensureFolder } from '../core/runs/runDir';
import { assertWritableFolder } from '../core/runs/writeError';
import { sendFailure } from './jobFailure';
import type { EmbeddingMapData, ExportEmbeddingsMessage, FromTrainer } from './protocol';

/**
 * Runs an embedding export in the trainer process: encodes a seeded sample of items and test queries with
 * the checkpoint, writes vectors.tsv + metadata.tsv, and projects them to 2-D (PCA or UMAP) when asked;
 * then `embeddings` and `done`, or `error` and `done` failed.
 */
export async function exportEmbeddings(msg: ExportEmbeddingsMessage, send: (m: FromTrainer) => Promise<void>): Promise<void> {
  try {
    const config = loadRunConfig(msg.runDir).config;
    // Before the work: the export folder (by default in the run folder, which may be read-only) must be writable.
    ensureFolder(msg.outDir, 'create the export folder');
    assertWritableFolder(msg.outDir, 'write the embedding export into');
    const backend = await initBackend(config.backend);
    await send({ type: 'log', level: 'info', message: `encoding a sample of ${msg.runDir} on backend ${backend.name}` });
    const s = await sampleEmbeddings({ runDir: msg.runDir, checkpoint: msg.checkpoint, items: msg.items, queries: msg.queries });
    const files = exportProjectorTsv(s, msg.outDir);
    const n = s.points.length;
    let map: EmbeddingMapData | null = null;
    if (msg.projection !== 'none' && n >= 3) {
      const points = s.points.map((p) => ({ kind: p.kind, id: p.id, text: p.text, file: p.source.file, line: p.source.line, label: p.label }));
      if (msg.projection === 'pca') {
        const p = pca2(s.vectors, n, s.dim);
        map = { method: 'pca', coords: Array.from(p.coords), points, explained: p.explained, totalVariance: p.totalVariance, spread: spread2(p.coords) };
      } else {
        const coords = umap2(s.vectors, n, s.dim, { onEpoch: (d, t) => void send({ type: 'log', level: 'debug', message: `UMAP epoch ${d}/${t}` }) });
        map = { method: 'umap', coords: Array.from(coords), points, spread: spread2(coords) };
      }
    }
    await send({ type: 'embeddings', runDir: msg.runDir, step: s.step, vectors: files.vectors, metadata: files.metadata, count: n, map });
    await send({ type: 'done', status: 'completed', runDir: msg.runDir, step: s.step });
  } catch (e) {
    await sendFailure(send, (e as Error).message, msg.runDir);
  }
}
