/** Held-out quality during training: the sample, when to evaluate it, and the quality verdict with its remedies. */
export { prepareHeldOut, describeHeldOut, sampleRows, bm25Metrics, type HeldOutInfo, type HeldOutSample } from './heldOutSample';
export { HeldOutSchedule } from './evalSchedule';
export {
  qualityVerdict,
  QualityVerdictSchema,
  QUALITY_STATE_NAMES,
  QUALITY_REMEDY_IDS,
  QUALITY_THRESHOLDS,
  type QualityVerdict,
  type QualityState,
  type QualityRemedyId,
  type QualityInput,
} from './qualityVerdict';
export { qualityRemedies, HARD_NEGATIVES_PATH, HARD_NEGATIVES_SETTING, type QualityRemedy } from './qualityRemedies';
