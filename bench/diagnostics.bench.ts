/**
 * Cost of the per-step diagnostics at the paper's shape (B 350, N 700 candidates, D 128): the
 * distributions, collapse indicators and in-batch recall of computeStepDiagnostics, with and without
 * the effective rank (an eigen-decomposition of the item Gram matrix, computed every
 * `effectiveRankEvery` steps). A fixed reference loop is timed beside it to show how loaded the
 * machine was (about 14 ms on an idle core of the dev VM).
 *
 *   npm run bench:diagnostics
 *
 * Prints numbers; asserts nothing.
 */
import seedrandom from 'seedrandom';
import { computeStepDiagnostics } from '../src/core/metrics/stepDiagnostics';
import type { StepHostTensors } from '../src/core/metrics/stepInputs';

const B = 350;
const N = 700;
const D = 128;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 20);

function randomUnitRows(rng: () => number, rows: number, dim: number): Float32Array {
  const out = new Float32Array(rows * dim);
  for (let r = 0; r < rows; r++) {
    let norm = 0;
    for (let k = 0; k < dim; k++) {
      const x = rng() * 2 - 1;
      out[r * dim + k] = x;
      norm += x * x;
    }
    norm = Math.sqrt(norm);
    for (let k = 0; k < dim; k++) out[r * dim + k] /= norm;
  }
  return out;
}

function dot(a: Float32Array, ai: number, b: Float32Array, bi: number): number {
  let s = 0;
  for (let k = 0; k < D; k++) s += a[ai * D + k] * b[bi * D + k];
  return s;
}

function inputs(): StepHostTensors {
  const rng = seedrandom('diagnostics-bench');
  const items = randomUnitRows(rng, N, D);
  const q = randomUnitRows(rng, B, D);
  const sQV = new Float32Array(B * N);
  const sVV = new Float32Array(B * N);
  const negMask = new Float32Array(B * N);
  const hyper = new Float32Array(B * N);
  for (let j = 0; j < B; j++) {
    for (let i = 0; i < N; i++) {
      sQV[j * N + i] = dot(q, j, items, i);
      sVV[j * N + i] = dot(items, j, items, i);
      negMask[j * N + i] = i === j || rng() < 0.002 ? 0 : 1;
      hyper[j * N + i] = (1 / 30) * (1 + 0.5 * (1 - sVV[j * N + i]));
    }
  }
  return { B, N, D, sQV, sVV, negMask, hyper, hyperKind: 'tau', hyperRange: [0, 0.1], itemEmb: items.slice(0, B * D) };
}

function time(x: StepHostTensors, effectiveRank: boolean): number[] {
  const ms: number[] = [];
  for (let r = 0; r < ROUNDS + 2; r++) {
    const t0 = performance.now();
    computeStepDiagnostics(x, { effectiveRank });
    ms.push(performance.now() - t0);
  }
  return ms.slice(2).sort((a, b) => a - b); // the first two rounds warm the JIT up
}

function referenceLoopMs(): number {
  const ref = new Float32Array(10_000_000).fill(1.5);
  const t0 = performance.now();
  let sum = 0;
  for (let i = 0; i < ref.length; i++) sum += ref[i];
  const ms = performance.now() - t0;
  if (sum !== 15_000_000) throw new Error(`reference loop summed ${sum}`);
  return ms;
}

const x = inputs();
const fmt = (ms: number[]) => `median ${ms[ms.length >> 1].toFixed(1)} ms, min ${ms[0].toFixed(1)} ms, max ${ms[ms.length - 1].toFixed(1)} ms`;
console.log(`computeStepDiagnostics, B=${B} N=${N} D=${D}, ${ROUNDS} rounds`);
console.log(`  without effective rank: ${fmt(time(x, false))}`);
console.log(`  with effective rank:    ${fmt(time(x, true))}`);
console.log(`  reference 1e7-float sum: ${referenceLoopMs().toFixed(1)} ms (load indicator)`);
