import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseConfigText } from '../config/loadConfig';
import type { LoadedConfig } from '../config/types';
import { loadCheckpoint } from '../model/checkpoint';
import { EventWriter, readMeta, CHECKPOINTS_DIR, CONFIG_FILE, EVENTS_FILE } from '../runs';
import { OLD_SUFFIX, removeDeadTempDirs } from '../runs/checkpointDir';
import { assertWritableFolder } from '../runs/writeError';
import { loadEvalData } from './evalData';
import { evaluateParams } from './evaluate';
import { ANN_FAILURES_FILE, appendMetricsEntry, EVAL_DIR, eventMetrics, FAILURES_FILE, writeFailures } from './evalOutputs';
import { loadBm25Cache, saveBm25Cache } from '../lexical';
import { loadIndexCache, saveIndexCache } from './indexCache';
import type { EvalPhase } from './phases';
import { addTermCoverage, countTrainingPairs, decisiveTerm } from './termCoverage';
import { openTrainingData, type TrainingData } from '../training/trainingData';
import type { EvalEntry, FailureRecord, FailureSummary } from './types';
import { readBoundedTextSync } from '../io/safeRead';

export interface EvaluateRunOptions {
  runDir: string;
  /** Default: see chooseCheckpoint. */
  checkpoint?: 'last' | 'best';
  /** Test data instead of the config's data.test. */
  testPath?: string;
  onProgress?(phase: EvalPhase, done: number, total: number): void;
  log?(message: string): void;
}

export interface EvaluateRunResult {
  entry: EvalEntry;
  metricsFile: string;
  /** Failing queries of the exact search. */
  failuresFile: string;
  /** Failing queries of the ANN search; null without one (an older failures-ann.jsonl is removed). */
  annFailuresFile: string | null;
}

/** The run's config (config.json); relative paths resolve against the original config's folder. */
export function loadRunConfig(runDir: string): LoadedConfig {
  const file = path.join(runDir, CONFIG_FILE);
  if (!fs.existsSync(file)) throw new Error(`not a run folder (no ${CONFIG_FILE}): ${runDir}`);
  const meta = readMeta(runDir);
  const loaded = parseConfigText(readBoundedTextSync(file, 'config.json'), file);
  const configPath = meta.ok ? meta.meta.configPath : null;
  return configPath ? { ...loaded, baseDir: path.dirname(configPath) } : loaded;
}

/**
 * Remove what killed writers left in the run's checkpoints folder (removeDeadTempDirs): evaluation writes
 * the run, so it is the next writer to open it. Only for runs written on this machine (a pid of another
 * host says nothing here); a failure is said, not fatal.
 */
function removeLeftovers(runDir: string, log: (m: string) => void): void {
  const meta = readMeta(runDir);
  if (meta.ok && meta.meta.host !== os.hostname()) return;
  try {
    for (const removed of removeDeadTempDirs(path.join(runDir, CHECKPOINTS_DIR))) log(`removed ${removed}, an unfinished checkpoint left by a killed writer`);
  } catch (e) {
    log(`could not remove the unfinished checkpoints of killed writers: ${(e as Error).message}`);
  }
}

/**
 * Which checkpoint folder to evaluate: the one asked for; by default "best" when it was chosen by a
 * held-out evaluation (meta.checkpoints.best.metric starts with "eval"), else "last" (a best chosen by
 * in-batch recall says little about retrieval over the corpus). When `<kind>` is missing but
 * `<kind>.old` is complete (a crash between the two renames of a swap, docs/run-format.md §5.3), that
 * folder is used, read in place (`recovered` true): a reader does not move a run's files.
 */
export function chooseCheckpoint(runDir: string, wanted?: 'last' | 'best'): { kind: 'last' | 'best'; dir: string; recovered: boolean } {
  const dirOf = (k: string) => path.join(runDir, CHECKPOINTS_DIR, k);
  const usable = (k: string) => fs.existsSync(path.join(dirOf(k), 'model.json')) || fs.existsSync(path.join(dirOf(k) + OLD_SUFFIX, 'model.json'));
  const meta = readMeta(runDir);
  const bestByEval = meta.ok && (meta.meta.checkpoints.best?.metric ?? '').startsWith('eval') && usable('best');
  const kind = wanted ?? (bestByEval ? 'best' : 'last');
  const dir = dirOf(kind);
  if (fs.existsSync(path.join(dir, 'model.json'))) return { kind, dir, recovered: false };
  if (fs.existsSync(path.join(dir + OLD_SUFFIX, 'model.json'))) return { kind, dir: dir + OLD_SUFFIX, recovered: true };
  throw new Error(`run ${runDir} has no "${kind}" checkpoint (${dir})`);
}

/**
 * Adds the training coverage of the lexical-miss failures' decisive terms (termCoverage.ts) by one pass over
 * the run's training data; training data that cannot be read any more (moved, deleted) is said and skipped.
 */
async function termCoverage(loaded: LoadedConfig, failures: FailureRecord[], summary: FailureSummary, log: (m: string) => void): Promise<void> {
  const terms = new Set(failures.map(decisiveTerm).filter((t): t is string => t !== null));
  if (terms.size === 0) return;
  let data: TrainingData | null = null;
  try {
    data = await openTrainingData(loaded);
    const counts = await countTrainingPairs(data.source.epoch(0), terms);
    addTermCoverage(failures, counts, summary);
  } catch (e) {
    log(`term coverage of the lexical-miss failures skipped: the training data could not be read (${(e as Error).message})`);
  } finally {
    await data?.source.close();
  }
}

/**
 * Full evaluation of a run's checkpoint: loads it and the test data, reuses the index saved next to the
 * checkpoint when it matches (else encodes the corpus, builds and saves it), computes the metrics and the
 * failing queries, appends the entry to eval/metrics.json, rewrites eval/failures.jsonl and appends an
 * eval event to events.jsonl. Needs an initialised tfjs backend.
 */
export async function evaluateRun(o: EvaluateRunOptions): Promise<EvaluateRunResult> {
  const log = o.log ?? (() => undefined);
  const loaded = loadRunConfig(o.runDir);
  // Fail before the work, naming the folder and EROFS/EACCES: the results go into the run folder.
  assertWritableFolder(o.runDir, 'write the evaluation (eval/, events.jsonl) into the run folder');
  removeLeftovers(o.runDir, log);
  const ckpt = chooseCheckpoint(o.runDir, o.checkpoint);
  if (ckpt.recovered) log(`checkpoints/${ckpt.kind} is missing; evaluating ${ckpt.dir}, the last complete checkpoint left by an interrupted swap`);
  o.onProgress?.('load', 0, 1);
  const { params, info } = loadCheckpoint(ckpt.dir);
  const data = await loadEvalData(loaded, { testPath: o.testPath });
  o.onProgress?.('load', 1, 1);
  for (const n of data.notes) log(n);
  const ev = loaded.config.evaluation;
  const dim = params.dims.out;
  const fingerprint = data.corpus.fingerprint;
  const cached = loadIndexCache(ckpt.dir, info.step, ev.index, data.corpus, dim, log);
  const indexDir = path.join(ckpt.dir, 'index');
  // BM25 depends on the corpus only: any checkpoint folder of the run may hold it (this one first).
  const bm25Dirs = [
    indexDir,
    ...['last', 'best'].map((k) => path.join(o.runDir, CHECKPOINTS_DIR, k, 'index')).filter((d) => path.resolve(d) !== path.resolve(indexDir)),
  ];
  const bm25Cached = ev.lexicalBaseline ? loadBm25Cache(bm25Dirs, fingerprint, data.corpus.count, log) : null;
  const result = await evaluateParams({
    params,
    model: loaded.config.model,
    evaluation: ev,
    data,
    step: info.step,
    checkpoint: `${CHECKPOINTS_DIR}/${ckpt.kind}`,
    subset: false,
    corpusEmb: cached?.corpusEmb,
    index: cached && ev.index.type === 'IVF-PQ' ? cached.index : undefined,
    bm25: bm25Cached?.index,
    onProgress: o.onProgress,
    log,
  });
  await termCoverage(loaded, result.failures, result.entry.failures, log);
  if (result.entry.annFailures) await termCoverage(loaded, result.annFailures, result.entry.annFailures, log);
  // The caches are optional: a checkpoint folder that cannot be written costs the next evaluation time, not this one.
  const cache = (what: string, save: () => string) => {
    try {
      log(`${what} saved in ${save()}`);
    } catch (e) {
      log(`could not cache the ${what} in ${indexDir} (${(e as Error).message}); the next evaluation builds it again`);
    }
  };
  if (!cached) cache('index', () => saveIndexCache(ckpt.dir, info.step, ev.index, data.corpus, dim, result.index, result.corpusEmb));
  if (result.bm25 && bm25Cached?.dir !== indexDir) cache('BM25 index', () => saveBm25Cache(indexDir, result.bm25!, fingerprint, data.corpus.count));
  const metricsFile = appendMetricsEntry(o.runDir, result.entry, log);
  const failuresFile = writeFailures(o.runDir, result.failures, FAILURES_FILE);
  let annFailuresFile: string | null = null;
  if (result.entry.annFailures) annFailuresFile = writeFailures(o.runDir, result.annFailures, ANN_FAILURES_FILE);
  else fs.rmSync(path.join(o.runDir, EVAL_DIR, ANN_FAILURES_FILE), { force: true });
  const events = new EventWriter(path.join(o.runDir, EVENTS_FILE));
  try {
    events.append({ type: 'eval', step: info.step, metrics: eventMetrics(result.entry) });
  } finally {
    events.close();
  }
  return { entry: result.entry, metricsFile, failuresFile, annFailuresFile };
}
