import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseConfigText } from '../config/loadConfig';
import type { LoadedConfig } from '../config/types';
import { loadCheckpoint } from '../model/checkpoint';
import { EventWriter, readMeta, CHECKPOINTS_DIR, CONFIG_FILE, EVENTS_FILE } from '../runs';
import { OLD_SUFFIX, removeDeadTempDirs } from '../runs/checkpointDir';
import { assertWritableFolder } from '../runs/writeError';
import { loadEvalData, type EvalData } from './evalData';
import { embeddingsEncoder, towerEncoder, type EvalEncoder } from './encoders';
import { loadEmbeddingsDir, QUERY_EMBEDDINGS_FILE, RUN_EMBEDDINGS_DIR } from './embeddingsDir';
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
  /** Evaluate the precomputed embeddings of this folder (embeddingsDir.ts) instead of a checkpoint. */
  embeddings?: string;
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
  o.onProgress?.('load', 0, 1);
  const embeddings = o.embeddings ?? (o.checkpoint ? undefined : runEmbeddings(o.runDir));
  const source = embeddings ? await embeddingsSource({ ...o, embeddings }, loaded, log) : await checkpointSource(o, loaded, log);
  o.onProgress?.('load', 1, 1);
  const { data, encoder, step, indexDir } = source;
  for (const n of data.notes) log(n);
  const ev = loaded.config.evaluation;
  const fingerprint = data.corpus.fingerprint;
  const cached = source.cacheIndex ? loadIndexCache(source.cacheIndex, step, ev.index, data.corpus, encoder.dim, log) : null;
  // BM25 depends on the corpus only: any checkpoint folder of the run may hold it (this one first).
  const bm25Dirs = indexDir
    ? [indexDir, ...['last', 'best'].map((k) => path.join(o.runDir, CHECKPOINTS_DIR, k, 'index')).filter((d) => path.resolve(d) !== path.resolve(indexDir))]
    : [];
  const bm25Cached = ev.lexicalBaseline && bm25Dirs.length > 0 ? loadBm25Cache(bm25Dirs, fingerprint, data.corpus.count, log) : null;
  const result = await evaluateParams({
    encoder,
    evaluation: ev,
    data,
    step,
    checkpoint: source.label,
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
  const cache = (what: string, where: string, save: () => string) => {
    try {
      log(`${what} saved in ${save()}`);
    } catch (e) {
      log(`could not cache the ${what} in ${where} (${(e as Error).message}); the next evaluation builds it again`);
    }
  };
  const cacheIndex = source.cacheIndex;
  if (cacheIndex && !cached)
    cache('index', cacheIndex, () => saveIndexCache(cacheIndex, step, ev.index, data.corpus, encoder.dim, result.index, result.corpusEmb));
  const bm25 = result.bm25;
  if (indexDir && bm25 && bm25Cached?.dir !== indexDir) cache('BM25 index', indexDir, () => saveBm25Cache(indexDir, bm25, fingerprint, data.corpus.count));
  const metricsFile = appendMetricsEntry(o.runDir, result.entry, log);
  const failuresFile = writeFailures(o.runDir, result.failures, FAILURES_FILE);
  let annFailuresFile: string | null = null;
  if (result.entry.annFailures) annFailuresFile = writeFailures(o.runDir, result.annFailures, ANN_FAILURES_FILE);
  else fs.rmSync(path.join(o.runDir, EVAL_DIR, ANN_FAILURES_FILE), { force: true });
  const events = new EventWriter(path.join(o.runDir, EVENTS_FILE));
  try {
    events.append({ type: 'eval', step, metrics: eventMetrics(result.entry) });
  } finally {
    events.close();
  }
  return { entry: result.entry, metricsFile, failuresFile, annFailuresFile };
}

/** What an evaluation searches with: the encoder, its test data, the step and label it reports, and where caches go. */
interface EvalSource {
  data: EvalData;
  encoder: EvalEncoder;
  step: number;
  /** EvalEntry.checkpoint: the checkpoint folder, or the embeddings folder. */
  label: string;
  /** The checkpoint folder whose saved index may be reused (null: embeddings are not cached). */
  cacheIndex: string | null;
  /** Where BM25 is saved (null: not saved). */
  indexDir: string | null;
}

async function checkpointSource(o: EvaluateRunOptions, loaded: LoadedConfig, log: (m: string) => void): Promise<EvalSource> {
  const ckpt = chooseCheckpoint(o.runDir, o.checkpoint);
  if (ckpt.recovered) log(`checkpoints/${ckpt.kind} is missing; evaluating ${ckpt.dir}, the last complete checkpoint left by an interrupted swap`);
  const { params, info } = loadCheckpoint(ckpt.dir);
  const data = await loadEvalData(loaded, { testPath: o.testPath });
  const encoder = towerEncoder(params, loaded.config.model);
  return { data, encoder, step: info.step, label: `${CHECKPOINTS_DIR}/${ckpt.kind}`, cacheIndex: ckpt.dir, indexDir: path.join(ckpt.dir, 'index') };
}

/**
 * A run without a checkpoint that holds `embeddings/` (a custom loop's run; retrieval_lens.Lens.evaluate writes it) is
 * evaluated from those embeddings, so `eval <run>` and the extension's Evaluate Run work on it; undefined otherwise.
 */
function runEmbeddings(runDir: string): string | undefined {
  const ckpt = (k: string) => [k, k + OLD_SUFFIX].some((d) => fs.existsSync(path.join(runDir, CHECKPOINTS_DIR, d, 'model.json')));
  const dir = path.join(runDir, RUN_EMBEDDINGS_DIR);
  return !ckpt('last') && !ckpt('best') && fs.existsSync(path.join(dir, QUERY_EMBEDDINGS_FILE)) ? dir : undefined;
}

/**
 * Precomputed embeddings (`--embeddings DIR`, embeddingsDir.ts): checked before the data is read, matched to the
 * test queries and corpus by id. The step is embeddings.json's, else the run's last step (meta.json).
 */
async function embeddingsSource(o: EvaluateRunOptions, loaded: LoadedConfig, log: (m: string) => void): Promise<EvalSource> {
  const set = loadEmbeddingsDir(o.embeddings!);
  const data = await loadEvalData(loaded, { testPath: o.testPath });
  const encoder = embeddingsEncoder(set, data, log);
  const meta = readMeta(o.runDir);
  const step = set.step ?? (meta.ok ? meta.meta.step : 0);
  const rel = path.relative(path.resolve(o.runDir), set.dir);
  const label = rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel.split(path.sep).join('/') : set.dir;
  log(`evaluating the embeddings of ${set.dir} (dimension ${set.items.dim}, step ${step})`);
  return { data, encoder, step, label, cacheIndex: null, indexDir: null };
}
