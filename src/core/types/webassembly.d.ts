/**
 * The part of the WebAssembly JavaScript API that the Node side uses (the SIMD host kernels in
 * src/core/numeric/simdKernels.ts and the shared table arenas in params.ts). Node has the global
 * `WebAssembly`, but the installed @types/node (20.x) does not declare it — TypeScript declares it only
 * in its DOM and WebWorker libraries, which the Node project (tsconfig.json) leaves out on purpose.
 * Signatures as in TypeScript's lib.dom.d.ts.
 */
declare namespace WebAssembly {
  interface MemoryDescriptor {
    initial: number;
    maximum?: number;
    shared?: boolean;
  }
  class Memory {
    constructor(descriptor: MemoryDescriptor);
    readonly buffer: ArrayBuffer | SharedArrayBuffer;
    grow(delta: number): number;
  }
  class Module {
    constructor(bytes: BufferSource);
  }
  type ExportValue = unknown;
  type Exports = Record<string, ExportValue>;
  type ImportValue = unknown;
  type Imports = Record<string, Record<string, ImportValue>>;
  class Instance {
    constructor(module: Module, importObject?: Imports);
    readonly exports: Exports;
  }
  function validate(bytes: BufferSource): boolean;
}
