/**
 * Messages between the extension and the Embedding Map webview, each one TypeBox schema giving its type
 * and its check (generated into protocolChecks.generated.ts: the webview's CSP forbids eval). The map is
 * the trainer's EmbeddingMapData (src/core/embeddingMap/types.ts): coordinates and metadata of the
 * sampled items and test queries. Both sides validate every message that arrives and ignore one that
 * does not validate.
 */
import { Type } from '@sinclair/typebox';
import type { EmbeddingMapData } from '../../core/embeddingMap/types';
import { defineChannel, type MessageOf, type ParseResult } from '../../core/messageChannel';
import { FROM_MAP_CHECKS, TO_MAP_CHECKS } from './protocolChecks.generated';

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
export const TO_MAP_SCHEMAS = {
  map: Type.Object({
    type: Type.Literal('map'),
    title: Type.String(),
    map: MapSchema,
    files: Type.Object({ vectors: Type.String(), metadata: Type.String() }),
  }),
  status: Type.Object({ type: Type.Literal('status'), text: Type.String() }),
} as const;
export type ToMap = MessageOf<typeof TO_MAP_SCHEMAS>;

/** webview → extension: loaded; open a point's data line; compute another projection. */
export const FROM_MAP_SCHEMAS = {
  ready: Type.Object({ type: Type.Literal('ready') }),
  open: Type.Object({ type: Type.Literal('open'), file: Type.String(), line: Type.Integer({ minimum: 1 }) }),
  project: Type.Object({ type: Type.Literal('project'), method: Type.Union([Type.Literal('pca'), Type.Literal('umap')]) }),
} as const;
export type FromMap = MessageOf<typeof FROM_MAP_SCHEMAS>;

/** The rule a map's schema cannot say: coords hold x, y for every point. */
function coordsProblem(m: ToMap): string | null {
  if (m.type !== 'map' || m.map.coords.length === 2 * m.map.points.length) return null;
  return `map.map.coords: must hold x, y for each of the ${m.map.points.length} points (has ${m.map.coords.length} numbers)`;
}

/** Validates a message to the webview (the webview draws only these). */
export const parseToMap: (x: unknown) => ParseResult<ToMap> = defineChannel(TO_MAP_SCHEMAS, TO_MAP_CHECKS, coordsProblem);

/** Validates a message from the webview (the extension acts only on these). */
export const parseFromMap: (x: unknown) => ParseResult<FromMap> = defineChannel(FROM_MAP_SCHEMAS, FROM_MAP_CHECKS);
