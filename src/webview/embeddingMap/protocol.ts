/**
 * Messages between the extension and the Embedding Map webview. The map is the trainer's EmbeddingMapData
 * (src/core/embeddingMap/types.ts): coordinates and metadata of the sampled items and test queries.
 */
import type { EmbeddingMapData } from '../../core/embeddingMap/types';

export type { EmbeddingMapData };

/** extension → webview */
export type ToMap =
  | { type: 'map'; title: string; map: EmbeddingMapData; files: { vectors: string; metadata: string } }
  | { type: 'status'; text: string };

/** webview → extension */
export type FromMap = { type: 'ready' } | { type: 'open'; file: string; line: number } | { type: 'project'; method: 'pca' | 'umap' };

/** Validates a message from the webview (the extension acts only on these). */
export function parseFromMap(x: unknown): FromMap | null {
  if (typeof x !== 'object' || x === null) return null;
  const m = x as Record<string, unknown>;
  if (m.type === 'ready') return { type: 'ready' };
  if (m.type === 'open' && typeof m.file === 'string' && Number.isInteger(m.line) && (m.line as number) >= 1) return { type: 'open', file: m.file, line: m.line as number };
  if (m.type === 'project' && (m.method === 'pca' || m.method === 'umap')) return { type: 'project', method: m.method };
  return null;
}
