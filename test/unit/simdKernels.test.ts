/**
 * The SIMD kernels are written in src/core/numeric/simdKernels.wat and assembled with wabt (the reference
 * WebAssembly toolkit) into simdKernels.generated.ts. This test fails while the generated module is stale,
 * and reads what is loaded at run time with wabt: it validates with the SIMD and threads features, its
 * imports and exports are the ones the host code calls, and it holds the instructions simdKernels.wat
 * describes. (test/unit/model.test.ts checks that the kernels give the JavaScript kernels' results bit for bit.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import wabtInit from 'wabt';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { GENERATED, generate } from '../../scripts/generateSimdKernels';
import { simdModuleBytes } from '../../src/core/numeric/simdKernels';

/** wabt's validate takes the features at run time (its index.js), though its typings declare no parameter. */
function validate(mod: { validate(): void }, features: Record<string, boolean>): void {
  (mod.validate as (options: Record<string, boolean>) => void).call(mod, features);
}

test('the SIMD kernels module is up to date with simdKernels.wat (npm run -s gen:wasm)', async () => {
  assert.equal(fs.readFileSync(path.resolve(__dirname, '../..', GENERATED), 'utf8'), await generate(), `${GENERATED} is stale: run npm run -s gen:wasm`);
});

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
  assert.deepEqual(Buffer.from(buffer), Buffer.from(bytes), 'wabt assembles its own disassembly back to the same bytes');
});
