/**
 * Run folders (`runs/<time>-<name>/`): writing, reading, tailing and listing. See docs/run-format.md.
 */
export * from './eventSchema';
export { createRunDir, slugify, formatRunTime, parseRunFolderName, type RunFolderName } from './runDir';
export { writeFileAtomicSync, writeJsonAtomicSync } from './atomicWrite';
export { RunFileError } from './writeError';
export { readMeta, writeMeta, metaProblems, META_FILE, CONFIG_FILE, EVENTS_FILE, CHECKPOINTS_DIR, type MetaReadResult } from './meta';
export { serializeEvent, parseEventLine, type ParsedLine } from './eventLine';
export {
  EventWriter,
  readEvents,
  tailEvents,
  scanEventsBackward,
  scanBadEventLines,
  type BadLinesScan,
  type BadEventLine,
  type ReadEventsResult,
  type TailEventsOptions,
  type TailEventsResult,
  type ScanBackwardResult,
} from './eventLog';
export { deriveStatus, isPidAlive, DEFAULT_STALE_MS, type StatusOptions, type DerivedStatus } from './status';
export { writeDirAtomically, recoverDirAtomically, type RecoveryAction } from './checkpointDir';
export { RunWriter, summarizeConfig, DEFAULT_HEARTBEAT_MS, type RunWriterOptions } from './runWriter';
export { readRun, type ReadRunOptions, type RunSummary } from './readRun';
export { listRuns } from './listRuns';
