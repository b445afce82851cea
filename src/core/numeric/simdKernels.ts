/**
 * WebAssembly SIMD versions of the two hot host kernels — `bagForwardRange` (embeddingBag.ts) and
 * `lazyAdamFromBags` (adam.ts) — written in simdKernels.wat and assembled with wabt at generation time
 * (`npm run -s gen:wasm`, into simdKernels.generated.ts; test/unit/simdKernels.test.ts fails while that is
 * stale). They work on tables kept in a WebAssembly.Memory (see `TableArena` in params.ts) and give
 * bit-identical tables, bags and moments to the JavaScript kernels (the .wat says how). Measured with
 * `npm run bench:train -- --simd on,off` (RLENS_SIMD=0 runs the JavaScript kernels): at the paper's shape
 * the SIMD kernels take the step's process CPU time down by about a fifth (README, Benchmarks).
 */
import { SIMD_KERNELS_WASM_BASE64 } from './simdKernels.generated';

/** The module's bytes: imports env.memory (shared, up to 4 GiB), exports bag_forward and adam_rows. */
export function simdModuleBytes(): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(atob(SIMD_KERNELS_WASM_BASE64), (c) => c.charCodeAt(0));
}

let cached: WebAssembly.Module | null | undefined;

/**
 * The compiled kernels, or null where WebAssembly SIMD or shared memory is unavailable, or when the
 * environment variable RLENS_SIMD is `0` (the JavaScript kernels then run: `npm run bench:train -- --simd on,off`
 * compares the two).
 */
export function simdModule(): WebAssembly.Module | null {
  if (cached !== undefined) return cached;
  if (process.env.RLENS_SIMD === '0') return (cached = null);
  try {
    const bytes = simdModuleBytes();
    cached = typeof SharedArrayBuffer === 'function' && WebAssembly.validate(bytes) ? new WebAssembly.Module(bytes) : null;
  } catch {
    cached = null;
  }
  return cached;
}

/** The exports of one instance (bound to one memory). */
export interface SimdKernels {
  bag_forward(table: number, dim: number, ids: number, offsets: number, r0: number, r1: number, out: number): void;
  adam_rows(
    table: number,
    m: number,
    v: number,
    dim: number,
    rows: number,
    start: number,
    bagOf: number,
    u0: number,
    u1: number,
    gradBag: number,
    invLen: number,
    g: number,
    lr: number,
    b1: number,
    b2: number,
    eps: number,
  ): number;
}

/** Instantiates the kernels over `memory`. */
export function simdKernels(module: WebAssembly.Module, memory: WebAssembly.Memory): SimdKernels {
  return new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as SimdKernels;
}
