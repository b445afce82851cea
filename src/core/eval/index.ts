/** Evaluation with Faiss: metrics against qrels, ANN gap, failing-query triage, outputs in the run folder. */
export * from './types';
export { EVAL_PHASES, type EvalPhase } from './phases';
export { loadEvalData, subsetQueries, type EvalData, type EvalQuery } from './evalData';
export { evaluateParams, type EvaluateOptions, type EvaluationResult } from './evaluate';
export { findFailures } from './failures';
export { searchName } from './searchName';
export { triage, evidenceProblem, matchingTerms, wordSeen, type TriageThresholds, type TowerLimits } from './triage';
export {
  appendMetricsEntry,
  writeFailures,
  readFailuresFile,
  readMetrics,
  readMetricsForUpdate,
  readEvalOutputs,
  parseFailures,
  type FailuresRead,
  type MetricsRead,
  type EvalOutputs,
  eventMetrics,
  EVAL_DIR,
  METRICS_FILE,
  FAILURES_FILE,
  ANN_FAILURES_FILE,
} from './evalOutputs';
export { loadIndexCache, saveIndexCache, corpusFingerprint } from './indexCache';
export { evaluateRun, loadRunConfig, chooseCheckpoint, type EvaluateRunOptions, type EvaluateRunResult } from './evaluateRun';
