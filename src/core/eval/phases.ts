/** Phases of an evaluation, in order (reported with progress). */
export type EvalPhase = 'load' | 'encode-corpus' | 'encode-queries' | 'build-index' | 'search' | 'bm25' | 'triage';
export const EVAL_PHASES: readonly EvalPhase[] = ['load', 'encode-corpus', 'encode-queries', 'build-index', 'search', 'bm25', 'triage'];
