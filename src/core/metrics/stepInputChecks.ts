/** Shape and value checks of StepHostTensors, with errors that name the offending quantity. */
import type { StepHostTensors } from './stepInputs';

/** A negMask entry counts as "valid negative" when it is above this (masks are 0/1 floats). */
export const NEG_MASK_THRESHOLD = 0.5;

function checkLength(name: string, actual: number, expected: number, shape: string): void {
  if (actual !== expected) {
    throw new RangeError(`StepHostTensors.${name}: expected ${shape} = ${expected} values, got ${actual}`);
  }
}

/**
 * Throws a RangeError unless `x` is well formed: integer B >= 2, N >= B, D >= 1; array lengths
 * B×N (sQV, sVV, negMask, hyper) and B×D (itemEmb); a known hyperKind; a finite hyperRange with
 * lo < hi; no pair marked as its own negative (negMask[j,j] = 0); finite itemEmb.
 * Non-finite similarities / hyper values are reported where they are read (pairScan.ts, itemGram.ts).
 */
export function checkStepHostTensors(x: StepHostTensors): void {
  const { B, N, D } = x;
  if (!Number.isInteger(B) || B < 2) throw new RangeError(`StepHostTensors.B must be an integer >= 2, got ${B}`);
  if (!Number.isInteger(N) || N < B) throw new RangeError(`StepHostTensors.N must be an integer >= B (${B}), got ${N}`);
  if (!Number.isInteger(D) || D < 1) throw new RangeError(`StepHostTensors.D must be an integer >= 1, got ${D}`);
  checkLength('sQV', x.sQV.length, B * N, `B×N (${B}×${N})`);
  checkLength('sVV', x.sVV.length, B * N, `B×N (${B}×${N})`);
  checkLength('negMask', x.negMask.length, B * N, `B×N (${B}×${N})`);
  checkLength('hyper', x.hyper.length, B * N, `B×N (${B}×${N})`);
  checkLength('itemEmb', x.itemEmb.length, B * D, `B×D (${B}×${D})`);
  if (x.hyperKind !== 'delta' && x.hyperKind !== 'tau') {
    throw new RangeError(`StepHostTensors.hyperKind must be 'delta' or 'tau', got ${String(x.hyperKind)}`);
  }
  const [lo, hi] = x.hyperRange;
  if (!Number.isFinite(lo) || !Number.isFinite(hi) || !(lo < hi)) {
    throw new RangeError(`StepHostTensors.hyperRange must be finite with lo < hi, got [${lo}, ${hi}]`);
  }
  for (let j = 0; j < B; j++) {
    if (x.negMask[j * N + j] > NEG_MASK_THRESHOLD) {
      throw new RangeError(`StepHostTensors.negMask[${j},${j}] is set: a pair's positive cannot be its own negative`);
    }
  }
  for (let k = 0; k < B * D; k++) {
    if (!Number.isFinite(x.itemEmb[k])) {
      throw new RangeError(`item embeddings v (itemEmb) contain ${x.itemEmb[k]} at row ${Math.floor(k / D)}, dim ${k % D}`);
    }
  }
}
