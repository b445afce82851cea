/** The embedding map: sampled item and query embeddings of a checkpoint, 2-D projections, projector export. */
export { pca2, umap2, spread2 } from './projection';
export { sampleEmbeddings, type MapPoint, type SampledEmbeddings } from './sampleEmbeddings';
export { exportProjectorTsv } from './projectorExport';
