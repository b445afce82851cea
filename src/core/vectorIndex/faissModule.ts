import type * as FaissNode from 'faiss-node';

export type FaissModule = typeof FaissNode;

/** What to do when faiss-node's native addon is missing. */
export const FAISS_SETUP_HINT =
  "faiss-node's native addon is not available: run `bash scripts/setup-faiss.sh` from the repository root " +
  '(it compiles faiss-node against the system libfaiss; no internet needed).';

let cached: FaissModule | undefined;

/**
 * Loads faiss-node (lazily, once). Throws an Error naming scripts/setup-faiss.sh when the native
 * addon cannot be loaded, with the underlying loader message appended.
 */
export function loadFaiss(): FaissModule {
  if (cached) return cached;
  // Thread settings, read by OpenBLAS and libgomp when faiss-node's addon loads them (the require
  // below); values set by the user are kept. Measured on 2 cores (IVF-PQ training, 4000 × 32-d):
  // - faiss calls BLAS from inside its OpenMP loops; Debian's default OpenBLAS (pthreads) then starts
  //   its own threads as well and they fight over the cores (~10× slower training, slower Flat search);
  // - libgomp's default busy-waiting threads made training 10-20× slower whenever anything else
  //   used the CPU (the Node event loop, a concurrent test); PASSIVE waiting avoids that.
  process.env.OPENBLAS_NUM_THREADS ??= '1';
  process.env.OMP_WAIT_POLICY ??= 'PASSIVE';
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    cached = require('faiss-node') as FaissModule;
  } catch (err) {
    throw new Error(`${FAISS_SETUP_HINT}\nCause: ${(err as Error).message.split('\n')[0]}`, { cause: err });
  }
  return cached;
}

/** Version of the installed faiss-node package (e.g. "0.5.1"). */
export function faissNodeVersion(): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require('faiss-node/package.json') as { version: string }).version;
}
