/**
 * A worker thread of a parallel BM25 search (parallelSearch.ts; a webpack entry of its own, dist/bm25Worker.js):
 * ranks the chunks of queries it is sent with its own ranker over the shared index, writes the rankings into the
 * shared result, and says which chunk it ranked.
 */
import { parentPort, workerData } from 'worker_threads';
import { Bm25Ranker } from './bm25Ranker';
import { rankChunk, type Bm25WorkerData } from './parallelSearch';

const data = workerData as Bm25WorkerData;
const ranker = new Bm25Ranker(data.arrays);
const port = parentPort!;
port.on('message', (c: number) => {
  rankChunk(ranker, data, c);
  port.postMessage({ ranked: c });
});
port.postMessage({ ready: true });
