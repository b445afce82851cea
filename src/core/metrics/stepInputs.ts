/**
 * Host copies of one training step's tensors, as read back (dataSync) by the trainer on logged
 * steps. computeStepDiagnostics turns them into StepDiagnostics without a second forward pass.
 */

/** Inputs of computeStepDiagnostics; every matrix is row-major. */
export interface StepHostTensors {
  /** Pairs in the batch (>= 2). */
  B: number;
  /** Candidate items (>= B); items rows 0..B-1 are the batch positives v, B..N-1 explicit negatives. */
  N: number;
  /** Embedding dimension. */
  D: number;
  /** [B×N] s(q_j, items_i); sQV[j*N+j] = s(q_j, v_j). */
  sQV: Float32Array;
  /** [B×N] s(v_j, items_i). */
  sVV: Float32Array;
  /** [B×N] 1 where items_i is a valid negative of pair j (diagonal and accidental hits are 0). */
  negMask: Float32Array;
  /** [B×N] δ_ji or τ_ji per pair (meaningful where negMask = 1). */
  hyper: Float32Array;
  hyperKind: 'delta' | 'tau';
  /** Fixed histogram range for `hyper`, given by the caller. */
  hyperRange: [number, number];
  /** [B×D] the batch positives v (L2-normalised). */
  itemEmb: Float32Array;
}
