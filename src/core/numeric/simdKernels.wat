;; WebAssembly SIMD versions of the two hot host kernels of training: `bagForwardRange` (model/embeddingBag.ts)
;; and `lazyAdamFromBags` (model/adam.ts). See simdKernels.ts for why and how they are used; assembled with
;; wabt by `npm run -s gen:wasm` into simdKernels.generated.ts (test/unit/simdKernels.test.ts fails while that
;; is stale).
;;
;; Both work on byte addresses into one shared memory (the table arena of model/params.ts) and give
;; bit-identical tables, bags and moments to the JavaScript kernels: f32x4 adds round after every addition
;; as the JS loops do, and the Adam update runs in f64x2 with the same operations in the same order as the
;; JS expression. Only Σg² (for the gradient norm) is summed in a different order.
(module
  (import "env" "memory" (memory 1 65536 shared))

  ;; bag_forward(table, dim, ids, offsets, r, r1, out): the mean of each bag r in [r, r1) of `dim`-float rows
  ;; (`dim` a multiple of 4) into out[r]. ids[offsets[r] .. offsets[r + 1]) are bag r's rows of `table`; rows
  ;; are added four at a time, then × 1/n in f64; an empty bag stays zero.
  (func $bag_forward (export "bag_forward")
    (param $table i32) (param $dim i32) (param $ids i32) (param $offs i32) (param $r i32) (param $r1 i32) (param $out i32)
    (local $k i32) (local $end i32) (local $o i32) (local $rowBytes i32) (local $d i32)
    (local $a i32) (local $b i32) (local $c i32) (local $e i32) (local $inv f64) (local $x v128)
    (local.set $rowBytes (i32.shl (local.get $dim) (i32.const 2)))
    (block $bagsDone
      (loop $bags
        (br_if $bagsDone (i32.eqz (i32.lt_s (local.get $r) (local.get $r1))))
        ;; k = offsets[r], end = offsets[r + 1], o = out + r·rowBytes
        (local.set $k (i32.load (i32.add (local.get $offs) (i32.shl (local.get $r) (i32.const 2)))))
        (local.set $end (i32.load offset=4 (i32.add (local.get $offs) (i32.shl (local.get $r) (i32.const 2)))))
        (local.set $o (i32.add (local.get $out) (i32.mul (local.get $r) (local.get $rowBytes))))
        ;; zero the row
        (local.set $d (i32.const 0))
        (block $zeroDone
          (loop $zero
            (br_if $zeroDone (i32.eqz (i32.lt_s (local.get $d) (local.get $rowBytes))))
            (v128.store (i32.add (local.get $o) (local.get $d)) (v128.const i32x4 0 0 0 0))
            (local.set $d (i32.add (local.get $d) (i32.const 16)))
            (br $zero)))
        ;; four rows at a time: a, b, c, e = table + ids[k + 0..3]·rowBytes
        (block $quadsDone
          (loop $quads
            (br_if $quadsDone (i32.eqz (i32.lt_s (i32.add (local.get $k) (i32.const 3)) (local.get $end))))
            (local.set $a (i32.add (local.get $table)
              (i32.mul (i32.load (i32.add (local.get $ids) (i32.shl (i32.add (local.get $k) (i32.const 0)) (i32.const 2)))) (local.get $rowBytes))))
            (local.set $b (i32.add (local.get $table)
              (i32.mul (i32.load (i32.add (local.get $ids) (i32.shl (i32.add (local.get $k) (i32.const 1)) (i32.const 2)))) (local.get $rowBytes))))
            (local.set $c (i32.add (local.get $table)
              (i32.mul (i32.load (i32.add (local.get $ids) (i32.shl (i32.add (local.get $k) (i32.const 2)) (i32.const 2)))) (local.get $rowBytes))))
            (local.set $e (i32.add (local.get $table)
              (i32.mul (i32.load (i32.add (local.get $ids) (i32.shl (i32.add (local.get $k) (i32.const 3)) (i32.const 2)))) (local.get $rowBytes))))
            (local.set $d (i32.const 0))
            (block $quadDone
              (loop $quad
                (br_if $quadDone (i32.eqz (i32.lt_s (local.get $d) (local.get $rowBytes))))
                ;; o[d] = (((o[d] + a[d]) + b[d]) + c[d]) + e[d], four floats at once
                (local.set $x
                  (f32x4.add
                    (f32x4.add
                      (f32x4.add
                        (f32x4.add
                          (v128.load (i32.add (local.get $o) (local.get $d)))
                          (v128.load (i32.add (local.get $a) (local.get $d))))
                        (v128.load (i32.add (local.get $b) (local.get $d))))
                      (v128.load (i32.add (local.get $c) (local.get $d))))
                    (v128.load (i32.add (local.get $e) (local.get $d)))))
                (v128.store (i32.add (local.get $o) (local.get $d)) (local.get $x))
                (local.set $d (i32.add (local.get $d) (i32.const 16)))
                (br $quad)))
            (local.set $k (i32.add (local.get $k) (i32.const 4)))
            (br $quads)))
        ;; the rest one at a time
        (block $restDone
          (loop $rest
            (br_if $restDone (i32.eqz (i32.lt_s (local.get $k) (local.get $end))))
            (local.set $a (i32.add (local.get $table)
              (i32.mul (i32.load (i32.add (local.get $ids) (i32.shl (i32.add (local.get $k) (i32.const 0)) (i32.const 2)))) (local.get $rowBytes))))
            (local.set $d (i32.const 0))
            (block $oneDone
              (loop $one
                (br_if $oneDone (i32.eqz (i32.lt_s (local.get $d) (local.get $rowBytes))))
                (local.set $x
                  (f32x4.add
                    (v128.load (i32.add (local.get $o) (local.get $d)))
                    (v128.load (i32.add (local.get $a) (local.get $d)))))
                (v128.store (i32.add (local.get $o) (local.get $d)) (local.get $x))
                (local.set $d (i32.add (local.get $d) (i32.const 16)))
                (br $one)))
            (local.set $k (i32.add (local.get $k) (i32.const 1)))
            (br $rest)))
        ;; mean: × 1/n in f64, n = end − offsets[r] (skipped for an empty bag, which stays zero)
        (local.set $a (i32.sub (local.get $end) (i32.load (i32.add (local.get $offs) (i32.shl (local.get $r) (i32.const 2))))))
        (block $meanDone
          (br_if $meanDone (i32.eqz (local.get $a)))
          (local.set $inv (f64.div (f64.const 1) (f64.convert_i32_s (local.get $a))))
          (local.set $d (i32.const 0))
          (block $scaleDone
            (loop $scale
              (br_if $scaleDone (i32.eqz (i32.lt_s (local.get $d) (local.get $rowBytes))))
              (f32.store
                (i32.add (local.get $o) (local.get $d))
                (f32.demote_f64 (f64.mul (f64.promote_f32 (f32.load (i32.add (local.get $o) (local.get $d)))) (local.get $inv))))
              (local.set $d (i32.add (local.get $d) (i32.const 4)))
              (br $scale))))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $bags))))

  ;; adam_rows(table, m, v, dim, rows, start, bagOf, u, u1, gradBag, invLen, g, lr, b1, b2, eps) → Σg²:
  ;; lazyAdamFromBags on byte addresses, two elements per f64x2 operation, one row at a time. For each unique
  ;; row u in [u, u1): its gradient g = Σ over the bags holding it (bagOf[start[u] .. start[u + 1])) of
  ;; gradBag[bag]·invLen[bag], rounded to f32 after each bag as the JS scratch is; then Adam on row rows[u]
  ;; of table, m and v.
  (func $adam_rows (export "adam_rows")
    (param $table i32) (param $m i32) (param $v i32) (param $dim i32) (param $rows i32) (param $start i32)
    (param $bagOf i32) (param $u i32) (param $u1 i32) (param $gradBag i32) (param $invLen i32) (param $g i32)
    (param $lr f64) (param $b1 f64) (param $b2 f64) (param $eps f64)
    (result f64)
    (local $rowBytes i32) (local $e i32) (local $e1 i32) (local $src i32) (local $d i32) (local $p i32)
    (local $INV v128) (local $G v128) (local $M v128) (local $V v128) (local $SS v128)
    (local $B1 v128) (local $C1 v128) (local $B2 v128) (local $C2 v128) (local $LR v128) (local $EPS v128)
    (local.set $rowBytes (i32.shl (local.get $dim) (i32.const 2)))
    (local.set $B1 (f64x2.splat (local.get $b1)))
    (local.set $C1 (f64x2.splat (f64.sub (f64.const 1) (local.get $b1))))
    (local.set $B2 (f64x2.splat (local.get $b2)))
    (local.set $C2 (f64x2.splat (f64.sub (f64.const 1) (local.get $b2))))
    (local.set $LR (f64x2.splat (local.get $lr)))
    (local.set $EPS (f64x2.splat (local.get $eps)))
    (local.set $SS (v128.const i32x4 0 0 0 0))
    (block $rowsDone
      (loop $rowsLoop
        (br_if $rowsDone (i32.eqz (i32.lt_s (local.get $u) (local.get $u1))))
        (local.set $e (i32.load (i32.add (local.get $start) (i32.shl (local.get $u) (i32.const 2)))))
        (local.set $e1 (i32.load offset=4 (i32.add (local.get $start) (i32.shl (local.get $u) (i32.const 2)))))
        ;; the first bag: INV = splat(invLen[bagOf[e]]), src = gradBag + bagOf[e]·rowBytes; g = src·INV
        (local.set $d (i32.load (i32.add (local.get $bagOf) (i32.shl (local.get $e) (i32.const 2)))))
        (local.set $INV (f64x2.splat (f64.load (i32.add (local.get $invLen) (i32.shl (local.get $d) (i32.const 3))))))
        (local.set $src (i32.add (local.get $gradBag) (i32.mul (local.get $d) (local.get $rowBytes))))
        (local.set $d (i32.const 0))
        (block $firstDone
          (loop $first
            (br_if $firstDone (i32.eqz (i32.lt_s (local.get $d) (local.get $rowBytes))))
            (v128.store64_lane 0
              (i32.add (local.get $g) (local.get $d))
              (f32x4.demote_f64x2_zero
                (f64x2.mul
                  (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $src) (local.get $d))))
                  (local.get $INV))))
            (local.set $d (i32.add (local.get $d) (i32.const 8)))
            (br $first)))
        ;; the other bags: g += src·INV
        (local.set $e (i32.add (local.get $e) (i32.const 1)))
        (block $bagsDone
          (loop $bags
            (br_if $bagsDone (i32.eqz (i32.lt_s (local.get $e) (local.get $e1))))
            (local.set $d (i32.load (i32.add (local.get $bagOf) (i32.shl (local.get $e) (i32.const 2)))))
            (local.set $INV (f64x2.splat (f64.load (i32.add (local.get $invLen) (i32.shl (local.get $d) (i32.const 3))))))
            (local.set $src (i32.add (local.get $gradBag) (i32.mul (local.get $d) (local.get $rowBytes))))
            (local.set $d (i32.const 0))
            (block $addDone
              (loop $add
                (br_if $addDone (i32.eqz (i32.lt_s (local.get $d) (local.get $rowBytes))))
                (v128.store64_lane 0
                  (i32.add (local.get $g) (local.get $d))
                  (f32x4.demote_f64x2_zero
                    (f64x2.add
                      (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $g) (local.get $d))))
                      (f64x2.mul
                        (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $src) (local.get $d))))
                        (local.get $INV)))))
                (local.set $d (i32.add (local.get $d) (i32.const 8)))
                (br $add)))
            (local.set $e (i32.add (local.get $e) (i32.const 1)))
            (br $bags)))
        ;; Adam on row rows[u]: p = rows[u]·rowBytes
        (local.set $p (i32.mul (i32.load (i32.add (local.get $rows) (i32.shl (local.get $u) (i32.const 2)))) (local.get $rowBytes)))
        (local.set $d (i32.const 0))
        (block $adamDone
          (loop $adam
            (br_if $adamDone (i32.eqz (i32.lt_s (local.get $d) (local.get $rowBytes))))
            (local.set $G (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $g) (local.get $d)))))
            (local.set $SS (f64x2.add (local.get $SS) (f64x2.mul (local.get $G) (local.get $G))))
            ;; M = b1·m + (1−b1)·g
            (local.set $M
              (f64x2.add
                (f64x2.mul
                  (local.get $B1)
                  (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (i32.add (local.get $m) (local.get $p)) (local.get $d)))))
                (f64x2.mul (local.get $C1) (local.get $G))))
            ;; V = b2·v + (1−b2)·g·g
            (local.set $V
              (f64x2.add
                (f64x2.mul
                  (local.get $B2)
                  (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (i32.add (local.get $v) (local.get $p)) (local.get $d)))))
                (f64x2.mul (f64x2.mul (local.get $C2) (local.get $G)) (local.get $G))))
            (v128.store64_lane 0 (i32.add (i32.add (local.get $m) (local.get $p)) (local.get $d)) (f32x4.demote_f64x2_zero (local.get $M)))
            (v128.store64_lane 0 (i32.add (i32.add (local.get $v) (local.get $p)) (local.get $d)) (f32x4.demote_f64x2_zero (local.get $V)))
            ;; θ = θ − (lr·M)/(√V + ε)
            (v128.store64_lane 0
              (i32.add (i32.add (local.get $table) (local.get $p)) (local.get $d))
              (f32x4.demote_f64x2_zero
                (f64x2.sub
                  (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (i32.add (local.get $table) (local.get $p)) (local.get $d))))
                  (f64x2.div
                    (f64x2.mul (local.get $LR) (local.get $M))
                    (f64x2.add (f64x2.sqrt (local.get $V)) (local.get $EPS))))))
            (local.set $d (i32.add (local.get $d) (i32.const 8)))
            (br $adam)))
        (local.set $u (i32.add (local.get $u) (i32.const 1)))
        (br $rowsLoop)))
    (f64.add (f64x2.extract_lane 0 (local.get $SS)) (f64x2.extract_lane 1 (local.get $SS)))))
