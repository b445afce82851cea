/**
 * The SIMD kernels' module is assembled by the small encoder in src/core/numeric/simdKernels.ts (see its
 * header for why). This test reads it with a maintained WebAssembly toolkit (wabt: the reference
 * binary reader, validator and text printer) so that what the encoder emits is checked independently
 * of V8: it validates with the SIMD and threads features, its imports and exports are the ones the
 * host code calls, and the text form wabt prints assembles back to the same module.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import wabtInit from 'wabt';
import { simdModuleBytes } from '../../src/core/numeric/simdKernels';

/** wabt's validate takes the features at run time (its index.js), though its typings declare no parameter. */
function validate(mod: { validate(): void }, features: Record<string, boolean>): void {
  (mod.validate as (options: Record<string, boolean>) => void).call(mod, features);
}

test('the SIMD kernels module decodes, validates and round-trips through wabt', async () => {
  const wabt = await wabtInit();
  const bytes = simdModuleBytes();
  const features = { simd: true, threads: true };
  const mod = wabt.readWasm(bytes, { readDebugNames: false, ...features });
  validate(mod, features);
  const text = mod.toText({ foldExprs: false, inlineExport: false });
  mod.destroy();

  assert.match(text, /\(import "env" "memory" \(memory \(;0;\) 1 65536 shared\)\)/);
  assert.match(text, /\(export "bag_forward" \(func 0\)\)/);
  assert.match(text, /\(export "adam_rows" \(func 1\)\)/);
  const i32 = (n: number) => Array(n).fill('i32').join(' ');
  assert.match(text, new RegExp(`\\(type \\(;0;\\) \\(func \\(param ${i32(7)}\\)\\)\\)`), 'bag_forward(table, dim, ids, offsets, r0, r1, out)');
  assert.match(
    text,
    new RegExp(`\\(type \\(;1;\\) \\(func \\(param ${i32(12)} f64 f64 f64 f64\\) \\(result f64\\)\\)\\)`),
    'adam_rows(… 12 pointers/ints, lr, β₁, β₂, ε) → Σg²',
  );

  // The instructions the header describes: f32x4 sums in the bag, f64x2 arithmetic in the Adam update.
  const [bag, adam] = text.split(/\n\s*\(func \(;\d+;\)/).slice(1);
  for (const op of ['v128.load', 'f32x4.add', 'v128.store']) assert.ok(bag.includes(op), `bag_forward uses ${op}`);
  for (const op of ['f64x2.mul', 'f64x2.add', 'f64x2.sqrt', 'f64x2.div', 'f64x2.promote_low_f32x4', 'f32x4.demote_f64x2_zero'])
    assert.ok(adam.includes(op), `adam_rows uses ${op}`);

  const again = wabt.parseWat('kernels.wat', text, features);
  again.resolveNames();
  validate(again, features);
  const { buffer } = again.toBinary({ log: false, write_debug_names: false });
  again.destroy();
  // wabt writes runs of same-typed locals as one entry where the encoder writes one entry per local, so
  // the bytes differ in the locals' headers only: compare what they decode to.
  const back = wabt.readWasm(buffer, { readDebugNames: false, ...features });
  assert.equal(back.toText({ foldExprs: false, inlineExport: false }), text, 'wabt assembles its own disassembly back to the same module');
  back.destroy();
});
