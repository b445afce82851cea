/**
 * WebAssembly SIMD versions of the two hot host kernels — `bagForwardRange` (embeddingBag.ts) and
 * `lazyAdamFromBags` (adam.ts) — assembled at run time by the few lines of encoder below (no toolchain,
 * no binary in the repository).
 *
 * Why an encoder and not a .wat file built by a toolchain: the kernels are two small functions written
 * with named locals and loop helpers, the same TypeScript serves the webpack bundle and the tests that
 * run from sources (no generated artefact to keep in sync with its source), and no toolchain is needed
 * at build or run time. test/unit/simdKernels.test.ts reads the module with
 * wabt (the reference WebAssembly toolkit): it validates with the SIMD and threads features, exports
 * the signatures called here, and survives a disassemble/assemble round trip. They work on tables kept in a WebAssembly.Memory (see `TableArena` in
 * params.ts) and give bit-identical tables, bags and moments to the JavaScript kernels: f32x4 adds
 * round after every addition as the JS loops do, and the Adam update runs in f64x2 with the same
 * operations in the same order as the JS expression. Only Σg² (for the gradient norm) is summed in a
 * different order. JavaScript on V8 spends ~30 cycles per table element in the Adam update; this
 * spends a few.
 */

// ---------------------------------------------------------------------------------------------
// A minimal WebAssembly encoder: LEB128, sections, and a function builder with named locals.
// ---------------------------------------------------------------------------------------------

const I32 = 0x7f;
const F64 = 0x7c;
const V128 = 0x7b;
type ValType = typeof I32 | typeof F64 | typeof V128;

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

function vec(items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

function section(id: number, body: number[]): number[] {
  return [id, ...uleb(body.length), ...body];
}

function name(s: string): number[] {
  const bytes = Array.from(new TextEncoder().encode(s));
  return [...uleb(bytes.length), ...bytes];
}

/** Builds one function body; locals are declared by name, parameters first. */
class Fn {
  readonly code: number[] = [];
  private readonly index = new Map<string, number>();
  private readonly extra: ValType[] = [];
  constructor(
    readonly params: [string, ValType][],
    readonly results: ValType[],
  ) {
    params.forEach(([n], i) => this.index.set(n, i));
  }
  local(n: string, t: ValType): this {
    this.index.set(n, this.params.length + this.extra.length);
    this.extra.push(t);
    return this;
  }
  private idx(n: string): number {
    const i = this.index.get(n);
    if (i === undefined) throw new Error(`simdKernels: unknown local ${n}`);
    return i;
  }
  get(n: string): this {
    this.code.push(0x20, ...uleb(this.idx(n)));
    return this;
  }
  set(n: string): this {
    this.code.push(0x21, ...uleb(this.idx(n)));
    return this;
  }
  i32(v: number): this {
    this.code.push(0x41, ...sleb(v));
    return this;
  }
  f64(v: number): this {
    const b = new Uint8Array(new Float64Array([v]).buffer);
    this.code.push(0x44, ...b);
    return this;
  }
  op(...bytes: number[]): this {
    this.code.push(...bytes);
    return this;
  }
  simd(op: number, ...imm: number[]): this {
    this.code.push(0xfd, ...uleb(op), ...imm);
    return this;
  }
  /** block { loop { <cond>; br_if exit when false; body; br loop } } */
  whileLoop(cond: () => void, body: () => void): this {
    this.code.push(0x02, 0x40, 0x03, 0x40);
    cond();
    this.code.push(0x45, 0x0d, 1); // i32.eqz; br_if 1
    body();
    this.code.push(0x0c, 0, 0x0b, 0x0b); // br 0; end; end
    return this;
  }
  encode(): number[] {
    const groups = this.extra.map((t) => [1, t]);
    const body = [...vec(groups), ...this.code, 0x0b];
    return [...uleb(body.length), ...body];
  }
}

// Opcodes used below.
const OP = {
  i32Load: 0x28,
  f32Load: 0x2a,
  f64Load: 0x2b,
  f32Store: 0x38,
  i32LtS: 0x48,
  i32Add: 0x6a,
  i32Sub: 0x6b,
  i32Mul: 0x6c,
  i32Shl: 0x74,
  f64Add: 0xa0,
  f64Mul: 0xa2,
  f64Div: 0xa3,
  f32DemoteF64: 0xb6,
  f64ConvertI32S: 0xb7,
  f64PromoteF32: 0xbb,
};
const SIMD = {
  load: 0x00,
  store: 0x0b,
  const: 0x0c,
  f64x2Splat: 0x14,
  f64x2ExtractLane: 0x21,
  store64Lane: 0x5b,
  load64Zero: 0x5d,
  f32x4DemoteF64x2Zero: 0x5e,
  f64x2PromoteLowF32x4: 0x5f,
  f32x4Add: 0xe4,
  f64x2Sqrt: 0xef,
  f64x2Add: 0xf0,
  f64x2Sub: 0xf1,
  f64x2Mul: 0xf2,
  f64x2Div: 0xf3,
};
/** memarg: alignment exponent, offset 0. */
const MEM = (align: number) => [align, 0];

/**
 * bag_forward(table, dim, ids, offsets, r0, r1, out): bytes addresses for the arrays, `dim` a multiple
 * of 4. Same algorithm as bagForwardRange: rows added four at a time, then × 1/n in f64.
 */
function bagForwardFn(): Fn {
  const f = new Fn(
    [
      ['table', I32],
      ['dim', I32],
      ['ids', I32],
      ['offs', I32],
      ['r', I32],
      ['r1', I32],
      ['out', I32],
    ],
    [],
  );
  for (const n of ['k', 'end', 'o', 'rowBytes', 'd', 'a', 'b', 'c', 'e']) f.local(n, I32);
  f.local('inv', F64).local('x', V128);
  const tableRow = (slot: number, into: string) =>
    f
      .get('table')
      .get('ids')
      .get('k')
      .i32(slot)
      .op(OP.i32Add)
      .i32(2)
      .op(OP.i32Shl)
      .op(OP.i32Add)
      .op(OP.i32Load, ...MEM(2))
      .get('rowBytes')
      .op(OP.i32Mul)
      .op(OP.i32Add)
      .set(into);
  f.get('dim').i32(2).op(OP.i32Shl).set('rowBytes');
  f.whileLoop(
    () => f.get('r').get('r1').op(OP.i32LtS),
    () => {
      // k = offs[r], end = offs[r + 1], o = out + r·rowBytes
      f.get('offs')
        .get('r')
        .i32(2)
        .op(OP.i32Shl)
        .op(OP.i32Add)
        .op(OP.i32Load, ...MEM(2))
        .set('k');
      f.get('offs').get('r').i32(2).op(OP.i32Shl).op(OP.i32Add).op(OP.i32Load, 2, 4).set('end');
      f.get('out').get('r').get('rowBytes').op(OP.i32Mul).op(OP.i32Add).set('o');
      // zero the row
      f.i32(0).set('d');
      f.whileLoop(
        () => f.get('d').get('rowBytes').op(OP.i32LtS),
        () => {
          f.get('o')
            .get('d')
            .op(OP.i32Add)
            .simd(SIMD.const, ...new Array(16).fill(0))
            .simd(SIMD.store, ...MEM(4));
          f.get('d').i32(16).op(OP.i32Add).set('d');
        },
      );
      // four rows at a time
      f.whileLoop(
        () => f.get('k').i32(3).op(OP.i32Add).get('end').op(OP.i32LtS),
        () => {
          tableRow(0, 'a');
          tableRow(1, 'b');
          tableRow(2, 'c');
          tableRow(3, 'e');
          f.i32(0).set('d');
          f.whileLoop(
            () => f.get('d').get('rowBytes').op(OP.i32LtS),
            () => {
              f.get('o')
                .get('d')
                .op(OP.i32Add)
                .simd(SIMD.load, ...MEM(4));
              for (const row of ['a', 'b', 'c', 'e'])
                f.get(row)
                  .get('d')
                  .op(OP.i32Add)
                  .simd(SIMD.load, ...MEM(4))
                  .simd(SIMD.f32x4Add);
              f.set('x')
                .get('o')
                .get('d')
                .op(OP.i32Add)
                .get('x')
                .simd(SIMD.store, ...MEM(4));
              f.get('d').i32(16).op(OP.i32Add).set('d');
            },
          );
          f.get('k').i32(4).op(OP.i32Add).set('k');
        },
      );
      // the rest one at a time
      f.whileLoop(
        () => f.get('k').get('end').op(OP.i32LtS),
        () => {
          tableRow(0, 'a');
          f.i32(0).set('d');
          f.whileLoop(
            () => f.get('d').get('rowBytes').op(OP.i32LtS),
            () => {
              f.get('o')
                .get('d')
                .op(OP.i32Add)
                .simd(SIMD.load, ...MEM(4));
              f.get('a')
                .get('d')
                .op(OP.i32Add)
                .simd(SIMD.load, ...MEM(4))
                .simd(SIMD.f32x4Add);
              f.set('x')
                .get('o')
                .get('d')
                .op(OP.i32Add)
                .get('x')
                .simd(SIMD.store, ...MEM(4));
              f.get('d').i32(16).op(OP.i32Add).set('d');
            },
          );
          f.get('k').i32(1).op(OP.i32Add).set('k');
        },
      );
      // mean: × 1/n in f64 (skipped for an empty bag, which stays zero)
      f.get('end')
        .get('offs')
        .get('r')
        .i32(2)
        .op(OP.i32Shl)
        .op(OP.i32Add)
        .op(OP.i32Load, ...MEM(2))
        .op(OP.i32Sub)
        .set('a');
      f.op(0x02, 0x40); // block
      f.get('a').op(0x45, 0x0d, 0); // br_if 0 when n == 0
      f.f64(1).get('a').op(OP.f64ConvertI32S).op(OP.f64Div).set('inv');
      f.i32(0).set('d');
      f.whileLoop(
        () => f.get('d').get('rowBytes').op(OP.i32LtS),
        () => {
          f.get('o').get('d').op(OP.i32Add);
          f.get('o')
            .get('d')
            .op(OP.i32Add)
            .op(OP.f32Load, ...MEM(2))
            .op(OP.f64PromoteF32)
            .get('inv')
            .op(OP.f64Mul)
            .op(OP.f32DemoteF64);
          f.op(OP.f32Store, ...MEM(2));
          f.get('d').i32(4).op(OP.i32Add).set('d');
        },
      );
      f.op(0x0b); // end block
      f.get('r').i32(1).op(OP.i32Add).set('r');
    },
  );
  return f;
}

/**
 * adam_rows(table, m, v, dim, rows, start, bagOf, u, u1, gradBag, invLen, g, lr, b1, b2, eps) → Σg²:
 * lazyAdamFromBags on byte addresses, two elements per f64x2 operation, one row at a time.
 */
function adamRowsFn(): Fn {
  const f = new Fn(
    [
      ['table', I32],
      ['m', I32],
      ['v', I32],
      ['dim', I32],
      ['rows', I32],
      ['start', I32],
      ['bagOf', I32],
      ['u', I32],
      ['u1', I32],
      ['gradBag', I32],
      ['invLen', I32],
      ['g', I32],
      ['lr', F64],
      ['b1', F64],
      ['b2', F64],
      ['eps', F64],
    ],
    [F64],
  );
  for (const n of ['rowBytes', 'e', 'e1', 'src', 'd', 'p']) f.local(n, I32);
  for (const n of ['INV', 'G', 'M', 'V', 'T', 'SS', 'B1', 'C1', 'B2', 'C2', 'LR', 'EPS']) f.local(n, V128);
  const load2 = (addr: () => void) => {
    addr();
    f.simd(SIMD.load64Zero, ...MEM(3)).simd(SIMD.f64x2PromoteLowF32x4);
  };
  const store2 = (addr: () => void, value: () => void) => {
    addr();
    value();
    f.simd(SIMD.f32x4DemoteF64x2Zero).simd(SIMD.store64Lane, ...MEM(3), 0);
  };
  const splat = (from: () => void, to: string) => {
    from();
    f.simd(SIMD.f64x2Splat).set(to);
  };
  f.get('dim').i32(2).op(OP.i32Shl).set('rowBytes');
  splat(() => f.get('b1'), 'B1');
  splat(() => f.f64(1).get('b1').op(0xa1), 'C1'); // f64.sub
  splat(() => f.get('b2'), 'B2');
  splat(() => f.f64(1).get('b2').op(0xa1), 'C2');
  splat(() => f.get('lr'), 'LR');
  splat(() => f.get('eps'), 'EPS');
  f.simd(SIMD.const, ...new Array(16).fill(0)).set('SS');
  /** INV = splat(invLen[bagOf[e]]); src = gradBag + bagOf[e]·rowBytes */
  const bagOfEntry = () => {
    f.get('bagOf')
      .get('e')
      .i32(2)
      .op(OP.i32Shl)
      .op(OP.i32Add)
      .op(OP.i32Load, ...MEM(2))
      .set('d');
    splat(
      () =>
        f
          .get('invLen')
          .get('d')
          .i32(3)
          .op(OP.i32Shl)
          .op(OP.i32Add)
          .op(OP.f64Load, ...MEM(3)),
      'INV',
    );
    f.get('gradBag').get('d').get('rowBytes').op(OP.i32Mul).op(OP.i32Add).set('src');
  };
  f.whileLoop(
    () => f.get('u').get('u1').op(OP.i32LtS),
    () => {
      f.get('start')
        .get('u')
        .i32(2)
        .op(OP.i32Shl)
        .op(OP.i32Add)
        .op(OP.i32Load, ...MEM(2))
        .set('e');
      f.get('start').get('u').i32(2).op(OP.i32Shl).op(OP.i32Add).op(OP.i32Load, 2, 4).set('e1');
      // g = gradBag[first bag]·inv  (rounded to f32 as the JS scratch is)
      bagOfEntry();
      f.i32(0).set('d');
      f.whileLoop(
        () => f.get('d').get('rowBytes').op(OP.i32LtS),
        () => {
          store2(
            () => f.get('g').get('d').op(OP.i32Add),
            () => {
              load2(() => f.get('src').get('d').op(OP.i32Add));
              f.get('INV').simd(SIMD.f64x2Mul);
            },
          );
          f.get('d').i32(8).op(OP.i32Add).set('d');
        },
      );
      // g += gradBag[other bags]·inv
      f.get('e').i32(1).op(OP.i32Add).set('e');
      f.whileLoop(
        () => f.get('e').get('e1').op(OP.i32LtS),
        () => {
          bagOfEntry();
          f.i32(0).set('d');
          f.whileLoop(
            () => f.get('d').get('rowBytes').op(OP.i32LtS),
            () => {
              store2(
                () => f.get('g').get('d').op(OP.i32Add),
                () => {
                  load2(() => f.get('g').get('d').op(OP.i32Add));
                  load2(() => f.get('src').get('d').op(OP.i32Add));
                  f.get('INV').simd(SIMD.f64x2Mul).simd(SIMD.f64x2Add);
                },
              );
              f.get('d').i32(8).op(OP.i32Add).set('d');
            },
          );
          f.get('e').i32(1).op(OP.i32Add).set('e');
        },
      );
      // Adam on row rows[u]
      f.get('rows')
        .get('u')
        .i32(2)
        .op(OP.i32Shl)
        .op(OP.i32Add)
        .op(OP.i32Load, ...MEM(2))
        .get('rowBytes')
        .op(OP.i32Mul)
        .set('p');
      f.i32(0).set('d');
      f.whileLoop(
        () => f.get('d').get('rowBytes').op(OP.i32LtS),
        () => {
          load2(() => f.get('g').get('d').op(OP.i32Add));
          f.set('G');
          f.get('SS').get('G').get('G').simd(SIMD.f64x2Mul).simd(SIMD.f64x2Add).set('SS');
          // M = b1·m + (1−b1)·g
          f.get('B1');
          load2(() => f.get('m').get('p').op(OP.i32Add).get('d').op(OP.i32Add));
          f.simd(SIMD.f64x2Mul).get('C1').get('G').simd(SIMD.f64x2Mul).simd(SIMD.f64x2Add).set('M');
          // V = b2·v + (1−b2)·g·g
          f.get('B2');
          load2(() => f.get('v').get('p').op(OP.i32Add).get('d').op(OP.i32Add));
          f.simd(SIMD.f64x2Mul).get('C2').get('G').simd(SIMD.f64x2Mul).get('G').simd(SIMD.f64x2Mul).simd(SIMD.f64x2Add).set('V');
          store2(
            () => f.get('m').get('p').op(OP.i32Add).get('d').op(OP.i32Add),
            () => f.get('M'),
          );
          store2(
            () => f.get('v').get('p').op(OP.i32Add).get('d').op(OP.i32Add),
            () => f.get('V'),
          );
          // θ = θ − (lr·M)/(√V + ε)
          store2(
            () => f.get('table').get('p').op(OP.i32Add).get('d').op(OP.i32Add),
            () => {
              load2(() => f.get('table').get('p').op(OP.i32Add).get('d').op(OP.i32Add));
              f.get('LR').get('M').simd(SIMD.f64x2Mul).get('V').simd(SIMD.f64x2Sqrt).get('EPS').simd(SIMD.f64x2Add).simd(SIMD.f64x2Div);
              f.simd(SIMD.f64x2Sub);
            },
          );
          f.get('d').i32(8).op(OP.i32Add).set('d');
        },
      );
      f.get('u').i32(1).op(OP.i32Add).set('u');
    },
  );
  f.get('SS').simd(SIMD.f64x2ExtractLane, 0).get('SS').simd(SIMD.f64x2ExtractLane, 1).op(OP.f64Add);
  return f;
}

/** The module's bytes: imports env.memory (shared, up to 4 GiB), exports bag_forward and adam_rows. */
export function simdModuleBytes(): Uint8Array<ArrayBuffer> {
  const fns = [bagForwardFn(), adamRowsFn()];
  const types = fns.map((f) => [0x60, ...vec(f.params.map(([, t]) => [t])), ...vec(f.results.map((t) => [t]))]);
  const imports = [[...name('env'), ...name('memory'), 0x02, 0x03, ...uleb(1), ...uleb(65536)]];
  const bytes = [
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...section(1, vec(types)),
    ...section(2, vec(imports)),
    ...section(3, vec(fns.map((_, i) => uleb(i)))),
    ...section(
      7,
      vec([
        [...name('bag_forward'), 0x00, 0],
        [...name('adam_rows'), 0x00, 1],
      ]),
    ),
    ...section(10, vec(fns.map((f) => f.encode()))),
  ];
  return new Uint8Array(bytes);
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
