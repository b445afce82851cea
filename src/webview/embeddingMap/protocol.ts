/**
 * Messages between the extension and the Embedding Map webview, each one TypeBox schema giving its type
 * and its check. The map is the trainer's EmbeddingMapData (src/core/embeddingMap/types.ts): coordinates
 * and metadata of the sampled items and test queries.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { EmbeddingMapData } from '../../core/embeddingMap/types';
import { schemaProblem } from '../../core/schemaCheck';

export type { EmbeddingMapData };

/** The map as the webview reads it: coordinates (x, y per point) and the points' metadata. */
const MapSchema = Type.Unsafe<EmbeddingMapData>(
  Type.Object({
    method: Type.Union([Type.Literal('pca'), Type.Literal('umap')]),
    coords: Type.Array(Type.Number()),
    points: Type.Array(
      Type.Object({
        kind: Type.Union([Type.Literal('item'), Type.Literal('query')]),
        id: Type.String(),
        text: Type.String(),
        file: Type.String(),
        line: Type.Integer(),
        label: Type.String(),
      }),
    ),
    spread: Type.Number(),
  }),
);

/** extension → webview: a map to draw (with the exported files), or a status line. */
export const ToMapSchema = Type.Union([
  Type.Object({ type: Type.Literal('map'), title: Type.String(), map: MapSchema, files: Type.Object({ vectors: Type.String(), metadata: Type.String() }) }),
  Type.Object({ type: Type.Literal('status'), text: Type.String() }),
]);
export type ToMap = Static<typeof ToMapSchema>;

/** Validates a message to the webview (the webview draws only these; coords hold x, y for every point). */
export function parseToMap(x: unknown): ToMap | null {
  if (schemaProblem(ToMapSchema, x) !== null) return null;
  const m = x as ToMap;
  return m.type === 'map' && m.map.coords.length !== 2 * m.map.points.length ? null : m;
}

/** webview → extension: loaded; open a point's data line; compute another projection. */
export const FromMapSchema = Type.Union([
  Type.Object({ type: Type.Literal('ready') }),
  Type.Object({ type: Type.Literal('open'), file: Type.String(), line: Type.Integer({ minimum: 1 }) }),
  Type.Object({ type: Type.Literal('project'), method: Type.Union([Type.Literal('pca'), Type.Literal('umap')]) }),
]);
export type FromMap = Static<typeof FromMapSchema>;

/** Validates a message from the webview (the extension acts only on these). */
export function parseFromMap(x: unknown): FromMap | null {
  return schemaProblem(FromMapSchema, x) === null ? (x as FromMap) : null;
}
