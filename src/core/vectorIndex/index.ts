/** Vector-index layer over faiss-node: build, search, nprobe, persistence, brute-force reference. */
export type { BuildOptions, BuildProgress, FlatSpec, IndexSpec, IvfPqSpec, SearchResult, VectorIndex } from './types';
export { buildIndex } from './buildIndex';
export { search } from './searchIndex';
export { setNprobe } from './nprobe';
export { saveIndex, loadIndex, sidecarPath } from './persistIndex';
export type { IndexSidecar } from './persistIndex';
export { exactSearch } from './exactSearch';
export { resultToRankings } from './rankings';
export { resolveIndexSpec, maxNlistFor, factoryString } from './resolveSpec';
export { loadFaiss, faissNodeVersion, FAISS_SETUP_HINT } from './faissModule';
