/**
 * A BM25 search of many queries on several threads: this thread and `threads − 1` worker threads (bm25Worker.ts,
 * a webpack entry of its own: dist/bm25Worker.js) rank chunks of CHUNK queries each, taking the next chunk when
 * done, each with its own {@link Bm25Ranker} over the same arrays — the index lives on SharedArrayBuffers
 * (bm25Index.ts), so a worker copies nothing — and write their rankings into one shared result. Queries are
 * independent, so the result is the single-threaded search's, row for row and score for score.
 *
 * A worker that fails to start or dies hands its chunk back and the others (this thread at least) rank it: the
 * search then only takes longer, and says so in `threads` (the threads that ranked a chunk).
 */
import * as os from 'os';
import * as path from 'path';
import { Worker } from 'worker_threads';
import type { SearchResult } from '../vectorIndex/types';
import { workerScript } from '../workerScript';
import type { Bm25Ranker, RankerArrays } from './bm25Ranker';
import { sharedArray } from './sharedArray';

/** Queries a thread takes at a time. */
const CHUNK = 32;
/** A search of fewer queries, or over an index of fewer postings, runs on one thread unless asked otherwise. */
export const PARALLEL_MIN_QUERIES = 256;
export const PARALLEL_MIN_POSTINGS = 1_000_000;

/** RLENS_BM25_THREADS when set to a whole number ≥ 1 (every search then runs on that many threads), else null. */
export function bm25ThreadsFromEnv(): number | null {
  const env = Number(process.env.RLENS_BM25_THREADS);
  return Number.isInteger(env) && env >= 1 ? env : null;
}

/** Threads for a large BM25 search: RLENS_BM25_THREADS when set, else the machine's cores, at most 8. */
export function bm25Threads(): number {
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  return bm25ThreadsFromEnv() ?? Math.max(1, Math.min(8, cores));
}

/** What a worker thread is started with (bm25Worker.ts): the index, the queries, the result, all shared. */
export interface Bm25WorkerData {
  arrays: RankerArrays;
  /** Query q's term ids are ids[starts[q], starts[q + 1]). */
  ids: Int32Array;
  starts: Int32Array;
  depth: number;
  chunk: number;
  labels: Int32Array;
  scores: Float32Array;
}

/** A search's result, the threads that ranked a part of it, and how many of them were worker threads. */
export type ParallelSearchResult = SearchResult & { threads: number; workers: number };

/** The shared data of a search: the index's arrays, the queries' term ids, the result (label −1, score −∞ past the last match). */
export function bm25WorkerData(arrays: RankerArrays, queries: readonly (readonly number[])[], depth: number): Bm25WorkerData {
  const nq = queries.length;
  const starts = sharedArray(Int32Array, nq + 1);
  for (let q = 0; q < nq; q++) starts[q + 1] = starts[q] + queries[q].length;
  const ids = sharedArray(Int32Array, starts[nq]);
  queries.forEach((t, q) => ids.set(t, starts[q]));
  return {
    arrays,
    ids,
    starts,
    depth,
    chunk: CHUNK,
    labels: sharedArray(Int32Array, nq * depth).fill(-1),
    scores: sharedArray(Float32Array, nq * depth).fill(-Infinity),
  };
}

/** Ranks the queries of chunk c into the shared result (the same code on every thread). */
export function rankChunk(ranker: Bm25Ranker, d: Bm25WorkerData, c: number): void {
  const nq = d.starts.length - 1;
  for (let q = c * d.chunk; q < Math.min(nq, (c + 1) * d.chunk); q++) {
    const r = ranker.rank(Array.from(d.ids.subarray(d.starts[q], d.starts[q + 1])), d.depth);
    d.labels.set(r.labels, q * d.depth);
    d.scores.set(r.scores, q * d.depth);
  }
}

/**
 * The search (see the file's comment): `queries` are each query's distinct term ids, in query order. `callerRanks`
 * false: only the worker threads rank (this thread stays free) unless none is left. `worker`: the workers' script
 * (tests: one that fails), by default bm25Worker's.
 */
export async function searchInThreads(
  ranker: Bm25Ranker,
  queries: readonly (readonly number[])[],
  depth: number,
  threads: number,
  opts: { onProgress?: (done: number, total: number) => void; callerRanks?: boolean; worker?: { script: string; eval: boolean } } = {},
): Promise<ParallelSearchResult> {
  const { onProgress, callerRanks = true } = opts;
  const nq = queries.length;
  const data = bm25WorkerData(ranker.a, queries, depth);
  const chunks = Math.ceil(nq / CHUNK);
  const queue: number[] = [];
  let next = 0;
  const take = (): number => queue.pop() ?? (next < chunks ? next++ : -1);
  let done = 0;
  let reported = 0;
  const finishedChunks = new Set<number>();
  const finished = (c: number) => {
    if (finishedChunks.has(c)) return; // handed back by a worker that had ranked it after all
    finishedChunks.add(c);
    done += Math.min(nq, (c + 1) * CHUNK) - c * CHUNK;
    if (onProgress && done < nq && Math.floor(done / 1000) > Math.floor(reported / 1000)) onProgress(done, nq);
    reported = done;
  };
  /** The worker threads that ranked a chunk, and whether this one did. */
  const workersRanked = new Set<number>();
  let callerRanked = false;

  const workers: Worker[] = [];
  let alive = 0;
  const entry = opts.worker ?? workerScript(path.join(__dirname, 'bm25Worker.ts'));
  for (let w = 1; w < Math.min(threads, chunks); w++) {
    let worker: Worker;
    try {
      worker = new Worker(entry.script, { eval: entry.eval, workerData: data });
    } catch {
      continue; // no worker threads here: the others rank its share
    }
    workers.push(worker);
    alive++;
    let held = -1;
    let ended = false;
    const end = () => {
      if (held >= 0) queue.push(held); // died holding a chunk: another thread ranks it
      held = -1;
      if (!ended) alive--;
      ended = true;
    };
    worker.on('message', (m: { ready?: true; ranked?: number }) => {
      if (m.ranked !== undefined) {
        finished(m.ranked);
        workersRanked.add(w);
      }
      held = ended ? -1 : take();
      if (held >= 0) worker.postMessage(held);
      else void worker.terminate();
    });
    worker.on('error', end);
    worker.on('exit', end);
  }
  try {
    // This thread ranks too (or, callerRanks false, once no worker is left), yielding between chunks so that the
    // workers' messages are taken; it waits while the last chunks are with the workers.
    while (done < nq) {
      const c = callerRanks || alive === 0 ? take() : -1;
      if (c < 0) {
        // Unref'd: the workers still ranking keep the process alive, and nothing else must (a lost chunk would
        // otherwise spin here for ever).
        await new Promise((r) => setTimeout(r, 1).unref());
        continue;
      }
      rankChunk(ranker, data, c);
      finished(c);
      callerRanked = true;
      await new Promise((r) => setImmediate(r));
    }
  } finally {
    for (const w of workers) void w.terminate();
  }
  onProgress?.(nq, nq);
  return { nq, k: depth, labels: data.labels, scores: data.scores, threads: workersRanked.size + (callerRanked ? 1 : 0), workers: workersRanked.size };
}
