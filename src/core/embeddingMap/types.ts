/** What the trainer computes for the Embedding Map view and sends to the extension, which passes it to the webview. */

/** A 2-D embedding map: coordinates (x, y per point) of the sampled points, their metadata and the map's spread. */
export interface EmbeddingMapData {
  method: 'pca' | 'umap';
  coords: number[];
  points: { kind: 'item' | 'query'; id: string; text: string; file: string; line: number; label: string }[];
  /** PCA: share of variance on the two axes and the total variance (≈ 0 for a collapsed model). */
  explained?: [number, number];
  totalVariance?: number;
  spread: number;
}
