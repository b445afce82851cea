/**
 * computeStepDiagnostics: every per-step diagnostic (distribution summaries, collapse indicators,
 * in-batch recall) from the host copies of one step's tensors. Definitions: docs/diagnostics.md.
 */
import { SIMILARITY_RANGE, summarizeDistribution } from './distributionSummary';
import { effectiveRank } from './effectiveRank';
import { inBatchRecall } from './inBatchRecall';
import { distinctItemRows, itemGram, subGram } from './itemGram';
import { meanDimensionStd, meanOffDiagonalCosine, uniformity } from './itemGeometry';
import { scanPairs } from './pairScan';
import { similarityRatio } from './similarityRatio';
import { checkStepHostTensors } from './stepInputChecks';
import type { StepHostTensors } from './stepInputs';
import type { ComputedStepDiagnostics } from './types';

export interface StepDiagnosticsOptions {
  /** Compute the effective rank of the item batch (an eigen-decomposition); else it is null. */
  effectiveRank: boolean;
}

/**
 * Diagnostics of one logged step. Throws a RangeError on malformed shapes or on a NaN / ±Infinity
 * in a used value, naming the quantity (e.g. "s(q,v⁻) (sQV over valid negatives) is NaN at pair
 * j=3, item i=7"). The inputs are not modified.
 */
export function computeStepDiagnostics(x: StepHostTensors, opts: StepDiagnosticsOptions): ComputedStepDiagnostics {
  checkStepHostTensors(x);
  const { B, D } = x;
  const scan = scanPairs(x);
  const hyper = summarizeDistribution(scan.hyper, x.hyperRange, x.hyperKind === 'delta' ? 'δ' : 'τ');
  const sQV = summarizeDistribution(scan.positives, SIMILARITY_RANGE, 's(q,v)');
  const sQNeg = summarizeDistribution(scan.sQNeg, SIMILARITY_RANGE, 's(q,v⁻)');
  const sVNeg = summarizeDistribution(scan.sVNeg, SIMILARITY_RANGE, 's(v,v⁻)');
  const { gram } = itemGram(x);
  // Item cosine and uniformity count each item once: rows of the same id (masked as each other's
  // negatives) would otherwise add cosine-1 pairs and look like collapse.
  const distinct = distinctItemRows(x);
  const useDistinct = distinct !== null && distinct.length >= 2;
  const itemG = useDistinct ? subGram(gram, B, distinct) : gram;
  const nItems = useDistinct ? distinct.length : B;
  const r = similarityRatio(sQV.mean, sVNeg.mean, sVNeg.count);
  return {
    dist: {
      delta: x.hyperKind === 'delta' ? hyper : null,
      tau: x.hyperKind === 'tau' ? hyper : null,
      sQV,
      sQNeg,
      sVNeg,
    },
    collapse: {
      ratio: r.ratio,
      ...(r.note !== null ? { ratioNote: r.note } : {}),
      gap: sQV.mean - sVNeg.mean,
      violationRate: sVNeg.count > 0 ? scan.violations / sVNeg.count : 0,
      itemCosine: meanOffDiagonalCosine(itemG, nItems),
      uniformity: uniformity(itemG, nItems),
      dimStd: meanDimensionStd(x.itemEmb, B, D),
      effectiveRank: opts.effectiveRank ? effectiveRank(x.itemEmb, B, D) : null,
    },
    recall: inBatchRecall(scan.ranks),
  };
}
